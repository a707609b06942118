/** The datasets a scenario can name (`dataset.name`): one file each in catalog/, one line here. */
import type { z } from 'zod';
import { Registry } from '../registry/registry.js';
import { fragmentsOf } from '../registry/schema-fragments.js';
import { BOSTON_HOUSING } from './catalog/boston-housing.js';
import { MNIST } from './catalog/mnist.js';
import { SHAKESPEARE } from './catalog/shakespeare.js';
import { SYNTHETIC } from './catalog/synthetic.js';
import type { DataShape } from './data-shape.js';
import type { DatasetEntry } from './dataset-entry.js';

const ENTRIES = [MNIST, BOSTON_HOUSING, SYNTHETIC, SHAKESPEARE] as const;

export const DATASETS = new Registry<DatasetEntry>('dataset.name', ENTRIES);
/** Each dataset's `dataset:` options, for the scenario schema's union. */
export const DATASET_FRAGMENTS = fragmentsOf(ENTRIES);
export type DatasetSpec = z.output<(typeof DATASET_FRAGMENTS)[number]>;
export const DATASET_NAMES: readonly string[] = DATASETS.names();

export function dataShapeOf(spec: DatasetSpec): DataShape {
  return DATASETS.get(spec.name).dataShape(spec);
}

/** Training samples known before loading (undefined for data generated per client). */
export function trainSamplesOf(spec: DatasetSpec): number | undefined {
  return DATASETS.get(spec.name).trainSamples?.(spec);
}
