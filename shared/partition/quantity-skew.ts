/**
 * Quantity skew: client sizes proportional to lognormal(0, σ) weights, labels IID. Every client
 * first gets `minSamples`; the rest is shared by weight, so σ = 1 already gives sizes an order of
 * magnitude apart while no client is left empty.
 */
import type { Rng } from '../random.js';
import { apportion } from './apportion.js';

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
