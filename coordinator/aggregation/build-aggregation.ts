/**
 * The run's aggregator chain, composed from the scenario, outermost first:
 *
 *   norm bound (strategy.maxUpdateNorm)
 *   └ L2 clipping (privacy.dp: clients clip to S; central DP refuses anything longer)
 *     └ secure sum (privacy.secureAggregation: only the protocol's sum gets in)
 *       └ central DP: Gaussian noise on the sum / q·N       local DP: client noise, uniform mean
 *         no DP: the named aggregator (strategy.aggregator, weighted mean by default)
 *
 * So any strategy composes with DP and with secure aggregation; the combinations the maths
 * does not allow are refused by scenario validation, with the reason.
 */
import type { Scenario } from '../../shared/scenario/schema.js';
import type { DpPlan } from '../privacy/dp-plan.js';
import type { ValidatedOptions } from '../../shared/registry/registry.js';
import type { AggregatorFactory } from './aggregator.js';
import { ClipNormSchedule } from './clip-norm-schedule.js';
import { gaussianNoise } from './gaussian-noise.js';
import { l2Clipping } from './l2-clipping.js';
import { localNoise } from './local-noise.js';
import { normBound } from './norm-bound.js';
import { AGGREGATORS } from './registry.js';
import { secureSum } from './secure-sum.js';
import { uniformMean } from './uniform-mean.js';

export interface AggregationSettings {
  seed: number;
  dp: DpPlan | null;
  secure: boolean;
  maxUpdateNorm?: number;
  /** The named aggregator (without DP). */
  aggregator: ValidatedOptions;
}

export function aggregationSettings(scenario: Scenario, dp: DpPlan | null): AggregationSettings {
  const { maxUpdateNorm, aggregator } = scenario.strategy;
  return { seed: scenario.seed, dp, secure: scenario.privacy.secureAggregation !== undefined, aggregator, ...(maxUpdateNorm !== undefined ? { maxUpdateNorm } : {}) };
}

export function buildAggregation(settings: AggregationSettings): AggregatorFactory {
  const { dp, seed } = settings;
  const schedule = dp ? new ClipNormSchedule(dp, seed) : null;
  let chain = baseAggregator(settings, schedule);
  if (settings.secure) chain = secureSum(chain);
  if (dp && schedule) chain = l2Clipping(schedule, chain, { enforceOnServer: dp.mode === 'central' });
  return settings.maxUpdateNorm !== undefined ? normBound(settings.maxUpdateNorm, chain) : chain;
}

function baseAggregator({ dp, seed, aggregator }: AggregationSettings, schedule: ClipNormSchedule | null): AggregatorFactory {
  if (dp && schedule) {
    return dp.mode === 'central'
      ? gaussianNoise({ noiseMultiplier: dp.updateNoiseMultiplier, expectedClients: dp.expectedClients, seed }, schedule)
      : localNoise(dp.updateNoiseMultiplier, schedule, uniformMean());
  }
  return AGGREGATORS.get(aggregator.name).create(aggregator);
}

/** Bytes the chain will hold at once when it buffers every update: checked before round 1. */
export function bufferedBytes(chain: AggregatorFactory, cohort: number, parameterCount: number): number {
  return chain.buffersUpdates ? cohort * parameterCount * 4 : 0;
}
