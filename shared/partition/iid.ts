/** IID: a uniform random split into near-equal parts (sizes differ by at most one). */
import type { Rng } from '../random.js';

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
