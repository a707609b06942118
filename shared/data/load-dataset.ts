/**
 * One entry point for every dataset. Loading is deterministic in (spec, context, seed): the
 * coordinator and every worker load independently and must get identical data.
 */
import { Rng } from '../random.js';
import type { DatasetContext } from './dataset-entry.js';
import type { Dataset } from './dataset.js';
import { DATASETS, type DatasetSpec } from './registry.js';

export async function loadDataset(spec: DatasetSpec, context: DatasetContext, seed: number): Promise<Dataset> {
  const entry = DATASETS.get(spec.name);
  return entry.load(spec, context, new Rng(seed).fork(`dataset:${spec.name}`));
}
