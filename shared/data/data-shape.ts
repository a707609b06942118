/**
 * What a dataset looks like to a model, known from the scenario alone (no loading), so scenario
 * validation and model building can check fit before any data is read.
 */
import type { DatasetSpec } from '../scenario/schema.js';

export interface DataShape {
  task: 'classification' | 'regression';
  /** One sample's features, e.g. [28, 28, 1] for MNIST. */
  featureShape: number[];
  /** 0 for regression. */
  numClasses: number;
}

export function dataShapeOf(spec: DatasetSpec): DataShape {
  switch (spec.name) {
    case 'mnist':
      return { task: 'classification', featureShape: [28, 28, 1], numClasses: 10 };
    case 'boston-housing':
      return { task: 'regression', featureShape: [13], numClasses: 0 };
    case 'synthetic':
      return { task: 'classification', featureShape: [spec.featureSize], numClasses: spec.numClasses };
  }
}
