/**
 * Poisson client sampling: each client joins a round independently with probability q. The
 * subsampled-Gaussian accountant assumes exactly this, so DP runs sample this way rather than a
 * fixed K; the cohort size then varies from round to round. Devices are not consulted: offline
 * clients drop out after sampling, as a real device would.
 */
import { Rng } from '../../shared/random.js';
import type { ClientPool } from '../strategies/strategy.js';

export function poissonSample(population: number, q: number, rng: Rng): number[] {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`poissonSample: q must be in [0, 1] (got ${q})`);
  const chosen: number[] = [];
  for (let client = 0; client < population; client++) {
    if (rng.next() < q) chosen.push(client);
  }
  return chosen;
}

export class PoissonSample implements ClientPool {
  /**
   * `mayParticipate`: local DP's per-client budgets. A client that is out of budget declines
   * when sampled, as a real device enforcing its own ε would.
   */
  constructor(
    private readonly seed: number,
    readonly population: number,
    private readonly q: number,
    private readonly mayParticipate: (clientId: number) => boolean = () => true,
  ) {}

  /** Any number of clients may join a Poisson round. */
  get largestSample(): number {
    return this.population;
  }

  sample(round: number): number[] {
    return poissonSample(this.population, this.q, new Rng(this.seed).fork(`poisson-selection:${round}`)).filter((c) => this.mayParticipate(c));
  }
}
