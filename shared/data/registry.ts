/** The datasets a scenario can name (`dataset.name`): one file each in catalog/, one line here. */
import type { z } from 'zod';
import { Registry } from '../registry/registry.js';
import { fragmentsOf } from '../registry/schema-fragments.js';
import { BOSTON_HOUSING } from './catalog/boston-housing.js';
import { IMDB } from './catalog/imdb.js';
import { MNIST } from './catalog/mnist.js';
import { SHAKESPEARE } from './catalog/shakespeare.js';
import { SYNTHETIC } from './catalog/synthetic.js';
import type { DataShape } from './data-shape.js';
import type { DatasetContext, DatasetEntry } from './dataset-entry.js';
import { SYNTHETIC_RATINGS } from './catalog/synthetic-ratings.js';

const ENTRIES = [MNIST, BOSTON_HOUSING, SYNTHETIC, SHAKESPEARE, SYNTHETIC_RATINGS, IMDB] as const;

export const DATASETS = new Registry<DatasetEntry>('dataset.name', ENTRIES);
/** Each dataset's `dataset:` options, for the scenario schema's union. */
export const DATASET_FRAGMENTS = fragmentsOf(ENTRIES);
export type DatasetSpec = z.output<(typeof DATASET_FRAGMENTS)[number]>;
export const DATASET_NAMES: readonly string[] = DATASETS.names();

/** `context`: the partition's client count (a dataset generated per client sizes itself by it). */
export function dataShapeOf(spec: DatasetSpec, context: DatasetContext): DataShape {
  return DATASETS.get(spec.name).dataShape(spec, context);
}

/** Training samples known before loading (undefined for data generated per client). */
export function trainSamplesOf(spec: DatasetSpec): number | undefined {
  return DATASETS.get(spec.name).trainSamples?.(spec);
}
