/**
 * Quantity skew: client sizes proportional to lognormal(0, σ) weights, labels IID. Every client
 * first gets `minSamples`; the rest is shared by weight, so σ = 1 already gives sizes an order of
 * magnitude apart while no client is left empty.
 */
import { z } from 'zod';
import type { Rng } from '../random.js';
import { positiveInt } from '../scenario/spec-fields.js';
import { apportion } from './apportion.js';
import { checkEnoughSamples, checkPositiveInteger, checkPositiveNumber } from './parameter-checks.js';
import { partitionOptions, type PartitionerEntry } from './partitioner-entry.js';

const SPEC = partitionOptions('quantity-skew', {
  sigma: z.number().gt(0).default(1),
  /** Defaults to 1: no client is ever empty. */
  minSamples: positiveInt.optional(),
});
export type QuantitySkewSpec = z.output<typeof SPEC>;

export const QUANTITY_SKEW = {
  name: 'quantity-skew',
  description: 'quantity skew: client sizes in proportion to lognormal(0, σ) weights, labels IID',
  schema: SPEC,
  partition: (dataset, spec, rng) => {
    const total = dataset.train.count;
    checkPositiveNumber('sigma', spec.sigma);
    const minSamples = spec.minSamples ?? 1;
    checkPositiveInteger('minSamples', minSamples);
    checkEnoughSamples(spec.clients, minSamples, total);
    return partitionQuantitySkew(total, spec.clients, spec.sigma, minSamples, rng);
  },
} satisfies PartitionerEntry<QuantitySkewSpec>;

export function partitionQuantitySkew(sampleCount: number, clients: number, sigma: number, minSamples: number, rng: Rng): number[][] {
  const weights = Array.from({ length: clients }, () => rng.logNormal(0, sigma));
  const sizes = apportion(sampleCount - clients * minSamples, weights).map((n) => n + minSamples);
  const order = rng.shuffle(Array.from({ length: sampleCount }, (_, i) => i));
  const parts: number[][] = [];
  let start = 0;
  for (const size of sizes) {
    parts.push(order.slice(start, start + size));
    start += size;
  }
  return parts;
}
