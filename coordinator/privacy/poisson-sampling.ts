/**
 * Poisson client sampling: each client joins a round independently with probability q. The
 * subsampled-Gaussian accountant assumes exactly this, so DP runs sample this way rather than a
 * fixed K; the cohort size then varies from round to round.
 */
import type { Rng } from '../../shared/random.js';

export function poissonSample(population: number, q: number, rng: Rng): number[] {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`poissonSample: q must be in [0, 1] (got ${q})`);
  const chosen: number[] = [];
  for (let client = 0; client < population; client++) {
    if (rng.next() < q) chosen.push(client);
  }
  return chosen;
}
