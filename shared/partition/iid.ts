/** IID: a uniform random split into near-equal parts (sizes differ by at most one). */
import type { z } from 'zod';
import type { Rng } from '../random.js';
import { checkEnoughSamples } from './parameter-checks.js';
import { partitionOptions, type PartitionerEntry } from './partitioner-entry.js';

const SPEC = partitionOptions('iid', {});
export type IidSpec = z.output<typeof SPEC>;

export const IID = {
  name: 'iid',
  description: 'IID: a uniform random split into near-equal parts (sizes differ by at most one)',
  schema: SPEC,
  partition: (dataset, spec, rng) => {
    checkEnoughSamples(spec.clients, 1, dataset.train.count);
    return partitionIid(dataset.train.count, spec.clients, rng);
  },
} satisfies PartitionerEntry<IidSpec>;

export function partitionIid(sampleCount: number, clients: number, rng: Rng): number[][] {
  const order = rng.shuffle(Array.from({ length: sampleCount }, (_, i) => i));
  const base = Math.floor(sampleCount / clients);
  const extra = sampleCount % clients;
  const parts: number[][] = [];
  let start = 0;
  for (let c = 0; c < clients; c++) {
    const size = base + (c < extra ? 1 : 0);
    parts.push(order.slice(start, start + size));
    start += size;
  }
  return parts;
}
