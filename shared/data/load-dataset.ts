/**
 * One entry point for every dataset. Loading is deterministic in (spec, seed): the coordinator
 * and every worker load independently and must get identical data.
 */
import { Rng } from '../random.js';
import { loadBostonHousing } from './boston-housing.js';
import type { Dataset } from './dataset.js';
import { loadMnist } from './mnist.js';
import { generateSynthetic, type SyntheticOptions } from './synthetic.js';

export type DatasetSpec =
  /** The limits keep the FIRST n rows (for fast tests), so they need no seed. */
  | { name: 'mnist'; trainLimit?: number; testLimit?: number }
  | { name: 'boston-housing'; testFraction: number }
  | ({ name: 'synthetic' } & SyntheticOptions);

export const DATASET_NAMES = ['mnist', 'boston-housing', 'synthetic'] as const;

export async function loadDataset(spec: DatasetSpec, seed: number): Promise<Dataset> {
  const rng = new Rng(seed).fork(`dataset:${spec.name}`);
  switch (spec.name) {
    case 'mnist':
      return loadMnist({ trainLimit: spec.trainLimit, testLimit: spec.testLimit });
    case 'boston-housing':
      return loadBostonHousing({ testFraction: spec.testFraction }, rng);
    case 'synthetic':
      return generateSynthetic(spec, rng);
    default: {
      const name = (spec as { name: unknown }).name;
      throw new Error(`dataset.name: unknown dataset (got ${JSON.stringify(name)}, expected one of ${DATASET_NAMES.join(', ')})`);
    }
  }
}
