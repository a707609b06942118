/**
 * FedAvg (McMahan et al. 2017, Algorithm 1): each round K clients are sampled uniformly without
 * replacement; the new global model is w + Σₖ nₖ·Δₖ / Σₖ nₖ over the clients that reported,
 * nₖ being each client's local sample count.
 */
import { Rng } from '../../shared/random.js';
import { WeightedSum } from '../aggregation/weighted-sum.js';
import { meanTrainLoss, type ClientUpdate, type RoundAggregation, type RoundOutcome, type RoundPlan, type SecureSum, type Strategy } from './strategy.js';

export interface SelectionEligibility {
  isAvailable(clientId: number, round: number): boolean;
  /** Clients to select when K are wanted and `available` are online. */
  selectionSize(target: number, available: number): number;
}

export class FedAvg implements Strategy {
  readonly name = 'fedavg';

  /**
   * `eligibility`: a simulated device population. Offline clients are never sampled, and the
   * straggler policy may ask for more than K (over-selection).
   */
  constructor(
    private readonly seed: number,
    private readonly population: number,
    private readonly perRound: number,
    private readonly eligibility?: SelectionEligibility,
  ) {
    if (perRound > population) throw new RangeError(`FedAvg: ${perRound} clients per round but only ${population} clients`);
  }

  configureRound(round: number): RoundPlan {
    // A stream per round: selection of round r does not depend on what earlier rounds drew.
    const rng = new Rng(this.seed).fork(`selection:${round}`);
    if (!this.eligibility) return { clients: rng.sampleWithoutReplacement(this.population, this.perRound).sort((a, b) => a - b) };
    const online = Array.from({ length: this.population }, (_, id) => id).filter((id) => this.eligibility!.isAvailable(id, round));
    const count = this.eligibility.selectionSize(this.perRound, online.length);
    return { clients: rng.sampleWithoutReplacement(online.length, count).map((i) => online[i]!).sort((a, b) => a - b) };
  }

  beginAggregation(_round: number, parameterCount: number): RoundAggregation {
    return new FedAvgAggregation(parameterCount);
  }
}

class FedAvgAggregation implements RoundAggregation {
  private readonly sum: WeightedSum;
  private readonly losses: { clientId: number; loss: number; samples: number }[] = [];

  constructor(parameterCount: number) {
    this.sum = new WeightedSum(parameterCount);
  }

  /** Secure aggregation: the survivors' count, the divisor of their uniform mean. */
  private secureClients = 0;

  add(update: ClientUpdate): void {
    if (!(update.samples > 0)) throw new RangeError(`client ${update.clientId} reported ${update.samples} samples`);
    if (this.secureClients > 0) throw new Error('FedAvg: a round takes either updates or one secure sum');
    this.sum.add(update.delta, update.samples);
    this.losses.push({ clientId: update.clientId, loss: update.loss, samples: update.samples });
  }

  addSecureSum(secure: SecureSum): void {
    if (this.sum.added > 0 || secure.clients.length === 0) throw new Error('FedAvg: a round takes either updates or one non-empty secure sum');
    this.sum.add(secure.sum, 1);
    this.secureClients = secure.clients.length;
    this.losses.push(...secure.clients);
  }

  finish(global: Float32Array): RoundOutcome {
    if (this.sum.added === 0) return { weights: global, trainLoss: null, clients: 0, samples: 0 };
    const meanDelta = this.secureClients > 0 ? this.sum.result(this.secureClients) : this.sum.result();
    const weights = new Float32Array(global.length);
    for (let i = 0; i < global.length; i++) weights[i] = global[i]! + meanDelta[i]!;
    const samples = this.losses.reduce((s, l) => s + l.samples, 0);
    return { weights, trainLoss: meanTrainLoss(this.losses), clients: this.losses.length, samples };
  }
}
