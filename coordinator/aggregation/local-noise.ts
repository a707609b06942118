/**
 * Local DP: every client adds N(0, (z·S)²) to its own clipped update before it leaves the
 * worker, so the coordinator need not be trusted; whatever the coordinator does with the noised
 * updates afterwards is post-processing.
 */
import type { AggregatorFactory, RoundAggregator, RoundRules } from './aggregator.js';
import { WrappingFactory } from './aggregator.js';
import type { ClipNormSchedule } from './clip-norm-schedule.js';

export function localNoise(noiseMultiplier: number, schedule: ClipNormSchedule, inner: AggregatorFactory): AggregatorFactory {
  return new LocalNoiseFactory(noiseMultiplier, schedule, inner);
}

class LocalNoiseFactory extends WrappingFactory {
  readonly name = 'local-noise';

  constructor(
    private readonly noiseMultiplier: number,
    private readonly schedule: ClipNormSchedule,
    inner: AggregatorFactory,
  ) {
    super(inner);
  }

  override rules(round: number): RoundRules {
    const inner = this.inner.rules(round);
    const clipNorm = this.schedule.current;
    return { ...inner, clientPrivacy: { clipNorm, ...inner.clientPrivacy, localNoiseStd: this.noiseMultiplier * clipNorm } };
  }

  create(round: number, parameterCount: number): RoundAggregator {
    return this.inner.create(round, parameterCount);
  }
}
