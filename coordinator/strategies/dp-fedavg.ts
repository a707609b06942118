/**
 * DP-FedAvg (McMahan, Ramage, Talwar, Zhang 2018, "Learning differentially private recurrent
 * language models"), with uniform client weights: clients are Poisson-sampled with rate q; each
 * clips its update to norm S; the coordinator sums, adds N(0, (z·S)²) per coordinate, and divides
 * by the expected cohort q·N, a fixed denominator so that one client's presence changes the
 * average by at most S/(qN). Local mode: clients already added their own noise, so the
 * coordinator only averages what arrives (anything it does is post-processing).
 */
import { addGaussianNoise } from '../../shared/privacy/gaussian-noise.js';
import { Rng } from '../../shared/random.js';
import { WeightedSum } from '../aggregation/weighted-sum.js';
import type { DpPlan } from '../privacy/dp-plan.js';
import { poissonSample } from '../privacy/poisson-sampling.js';
import { QuantileClipNorm } from '../privacy/quantile-clip-norm.js';
import { meanTrainLoss, type ClientUpdate, type RoundAggregation, type RoundOutcome, type RoundPlan, type SecureSum, type Strategy } from './strategy.js';

export class DpFedAvg implements Strategy {
  readonly name = 'dp-fedavg';
  private readonly clipNorm: QuantileClipNorm | null;
  private fixedClipNorm: number;

  private get currentClipNorm(): number {
    return this.clipNorm?.current ?? this.fixedClipNorm;
  }

  /**
   * `mayParticipate`: local DP's per-client budgets. A client that is out of budget declines
   * when sampled, as a real device enforcing its own ε would.
   */
  constructor(
    private readonly seed: number,
    private readonly population: number,
    private readonly plan: DpPlan,
    private readonly mayParticipate: (clientId: number) => boolean = () => true,
  ) {
    this.fixedClipNorm = plan.initialClipNorm;
    this.clipNorm =
      plan.clipping === 'adaptive'
        ? new QuantileClipNorm(plan.initialClipNorm, plan.targetQuantile, plan.clipLearningRate, plan.countNoiseStd, plan.expectedClients)
        : null;
  }

  configureRound(round: number): RoundPlan {
    const sampled = poissonSample(this.population, this.plan.q, new Rng(this.seed).fork(`poisson-selection:${round}`));
    const clients = sampled.filter((c) => this.mayParticipate(c));
    const clipNorm = this.currentClipNorm;
    const localNoiseStd = this.plan.mode === 'local' ? this.plan.updateNoiseMultiplier * clipNorm : undefined;
    return { clients, taskPrivacy: { clipNorm, localNoiseStd } };
  }

  beginAggregation(round: number, parameterCount: number): RoundAggregation {
    return new DpAggregation(parameterCount, this.currentClipNorm, this.plan, this.clipNorm, new Rng(this.seed).fork(`dp-noise:${round}`));
  }
}

class DpAggregation implements RoundAggregation {
  private readonly sum: WeightedSum;
  private readonly losses: { clientId: number; loss: number; samples: number }[] = [];
  private unclipped = 0;

  constructor(
    parameterCount: number,
    private readonly clipNorm: number,
    private readonly plan: DpPlan,
    private readonly adaptive: QuantileClipNorm | null,
    private readonly rng: Rng,
  ) {
    this.sum = new WeightedSum(parameterCount);
  }

  add(update: ClientUpdate): void {
    this.sum.add(update.delta, 1);
    if (update.unclipped === true) this.unclipped += 1;
    this.losses.push({ clientId: update.clientId, loss: update.loss, samples: update.samples });
  }

  /** Central DP only (validation refuses local DP with secure aggregation): noise goes on this sum in finish(). */
  addSecureSum(secure: SecureSum): void {
    this.sum.add(secure.sum, 1);
    this.unclipped += secure.unclipped ?? 0;
    this.losses.push(...secure.clients);
  }

  finish(global: Float32Array): RoundOutcome {
    const clients = this.losses.length;
    let mean: Float32Array | Float64Array;
    if (this.plan.mode === 'central') {
      // Noise is drawn even when nobody reported: an empty round must look like any other.
      const total = this.sum.sum();
      addGaussianNoise(total, this.plan.updateNoiseMultiplier * this.clipNorm, this.rng.fork('update'));
      mean = total.map((v) => v / this.plan.expectedClients);
    } else {
      mean = clients > 0 ? this.sum.result(clients) : new Float32Array(global.length);
    }
    const weights = new Float32Array(global.length);
    for (let i = 0; i < global.length; i++) weights[i] = global[i]! + mean[i]!;
    const unclippedFraction = this.adaptive?.update(this.unclipped, this.rng.fork('count'));
    const samples = this.losses.reduce((s, l) => s + l.samples, 0);
    return {
      weights,
      trainLoss: meanTrainLoss(this.losses),
      clients,
      samples,
      privacy: { clipNorm: this.clipNorm, nextClipNorm: this.adaptive?.current ?? this.clipNorm, unclippedFraction },
    };
  }
}
