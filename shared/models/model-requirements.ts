/**
 * Which models exist and what data each can take; free of tfjs, so scenario validation stays
 * fast.
 */
import type { DataShape } from '../data/data-shape.js';
import type { ModelSpec } from '../scenario/schema.js';

export const MODEL_NAMES = ['linear-regression', 'logistic-regression', 'mlp', 'cnn', 'cnn-small'] as const;

/**
 * Why a model cannot take this data, as `model.name: problem (got X, expected Y)` lines. Shared
 * by scenario validation (which knows the dataset's name) and buildModel.
 */
export function checkModelFitsData(spec: ModelSpec, shape: DataShape, datasetName = 'this dataset'): string[] {
  const problems: string[] = [];
  const isRegressionModel = spec.name === 'linear-regression';
  if (isRegressionModel && shape.task !== 'regression') {
    problems.push(`model.name: linear-regression predicts a number (got classification dataset ${datasetName}, expected a regression dataset such as boston-housing)`);
  }
  if (!isRegressionModel && shape.task === 'regression') {
    problems.push(`model.name: ${spec.name} is a classifier (got regression dataset ${datasetName}, expected linear-regression)`);
  }
  if ((spec.name === 'cnn' || spec.name === 'cnn-small') && shape.featureShape.length !== 3) {
    problems.push(`model.name: ${spec.name} needs image data of shape [height, width, channels] (got ${datasetName} with features [${shape.featureShape.join(', ')}], expected mnist)`);
  }
  return problems;
}
