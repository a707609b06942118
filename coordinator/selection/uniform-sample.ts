/**
 * FedAvg's client sampling (McMahan et al. 2017): K clients uniformly without replacement, a
 * fresh stream per round. With simulated devices, offline clients are never drawn and the
 * straggler policy may ask for more than K (over-selection).
 */
import { Rng } from '../../shared/random.js';
import type { ClientPool } from '../strategies/strategy.js';

export interface SelectionEligibility {
  isAvailable(clientId: number, round: number): boolean;
  /** Clients to select when K are wanted and `available` are online. */
  selectionSize(target: number, available: number): number;
}

export class UniformSample implements ClientPool {
  constructor(
    private readonly seed: number,
    readonly population: number,
    private readonly perRound: number,
    private readonly eligibility?: SelectionEligibility,
  ) {
    if (perRound > population) throw new RangeError(`client sampling: ${perRound} clients per round but only ${population} clients`);
  }

  get largestSample(): number {
    return Math.min(this.population, this.eligibility ? this.eligibility.selectionSize(this.perRound, this.population) : this.perRound);
  }

  sample(round: number): number[] {
    // A stream per round: selection of round r does not depend on what earlier rounds drew.
    const rng = new Rng(this.seed).fork(`selection:${round}`);
    if (!this.eligibility) return rng.sampleWithoutReplacement(this.population, this.perRound).sort((a, b) => a - b);
    const online = Array.from({ length: this.population }, (_, id) => id).filter((id) => this.eligibility!.isAvailable(id, round));
    const count = this.eligibility.selectionSize(this.perRound, online.length);
    return rng
      .sampleWithoutReplacement(online.length, count)
      .map((i) => online[i]!)
      .sort((a, b) => a - b);
  }
}
