/**
 * The partition a dataset comes with (synthetic: one generator per client). It comes from
 * outside the partitioner, so it is checked as strictly as the other kinds guarantee by
 * construction: indices in range, none used twice.
 */
import type { z } from 'zod';
import type { Dataset } from '../data/dataset.js';
import { partitionError } from './parameter-checks.js';
import { partitionOptions, type PartitionerEntry } from './partitioner-entry.js';

const SPEC = partitionOptions('natural', {});
export type NaturalSpec = z.output<typeof SPEC>;

export const NATURAL = {
  name: 'natural',
  description: 'the clients a dataset comes with (synthetic: one per generator)',
  schema: SPEC,
  // The dataset's own split: nothing is drawn.
  partition: (dataset, spec) => partitionNatural(dataset, spec.clients),
} satisfies PartitionerEntry<NaturalSpec>;

export function partitionNatural(dataset: Dataset, clients: number): number[][] {
  const natural = dataset.naturalPartition;
  if (!natural) {
    throw partitionError('kind', `'natural' needs a dataset that comes federated`, dataset.name, 'a dataset with its own clients, such as synthetic');
  }
  if (natural.length !== clients) {
    throw partitionError('clients', `does not match the clients dataset ${dataset.name} was generated for`, clients, `${natural.length}`);
  }
  const seen = new Uint8Array(dataset.train.count);
  natural.forEach((part, c) => {
    for (const i of part) {
      if (!Number.isInteger(i) || i < 0 || i >= dataset.train.count || seen[i]) {
        throw new Error(
          `dataset ${dataset.name}: natural partition of client ${c} lists train index ${i} out of range or twice (expected each of 0…${dataset.train.count - 1} at most once)`,
        );
      }
      seen[i] = 1;
    }
  });
  return natural.map((part) => [...part]);
}
