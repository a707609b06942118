/**
 * Central DP's Gaussian mechanism on the sum (DP-FedAvg, McMahan et al. 2018): Σₖ Δₖ of the
 * clipped updates, plus N(0, (z·S)²) per coordinate, divided by the expected cohort q·N, a fixed
 * denominator so that one client's presence moves the mean by at most S/(qN). The noise is
 * drawn even when nobody reported: an empty round must look like any other.
 */
import { addGaussianNoise } from '../../shared/privacy/gaussian-noise.js';
import { Rng } from '../../shared/random.js';
import type { AggregateOutput, AggregatorFactory, RoundAggregator, RoundRules, SecureSumIn, UpdateIn } from './aggregator.js';
import type { ClipNormSchedule } from './clip-norm-schedule.js';
import { WeightedSum } from './weighted-sum.js';

export interface GaussianNoiseSettings {
  /** z on the update sum, in units of S (adaptive clipping takes a share of the run's z for its count). */
  noiseMultiplier: number;
  /** q·N. */
  expectedClients: number;
  seed: number;
}

export function gaussianNoise(settings: GaussianNoiseSettings, schedule: ClipNormSchedule): AggregatorFactory {
  return {
    name: 'gaussian-noise',
    buffersUpdates: false,
    acceptsSecureSum: true,
    rules: (): RoundRules => ({}),
    create: (round, parameterCount) =>
      new NoisedSum(parameterCount, settings, settings.noiseMultiplier * schedule.current, new Rng(settings.seed).fork(`dp-noise:${round}`).fork('update')),
    exportState: () => ({}),
    restoreState: () => {},
  };
}

class NoisedSum implements RoundAggregator {
  private readonly sum: WeightedSum;

  constructor(
    parameterCount: number,
    private readonly settings: GaussianNoiseSettings,
    private readonly noiseStd: number,
    private readonly rng: Rng,
  ) {
    this.sum = new WeightedSum(parameterCount);
  }

  accept(update: UpdateIn): void {
    this.sum.add(update.delta, 1);
  }

  acceptSecureSum(secure: SecureSumIn): void {
    this.sum.add(secure.sum, 1);
  }

  finish(): AggregateOutput {
    const total = this.sum.sum();
    addGaussianNoise(total, this.noiseStd, this.rng);
    return { delta: total.map((v) => v / this.settings.expectedClients), measurements: {} };
  }
}
