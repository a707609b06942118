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
import type { AggregatorContext } from './aggregator-entry.js';
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
  /** What the run lends the named aggregator (FLTrust's root training). */
  context?: AggregatorContext;
}

export function aggregationSettings(scenario: Scenario, dp: DpPlan | null, context?: AggregatorContext): AggregationSettings {
  const { maxUpdateNorm, aggregator } = scenario.strategy;
  return {
    seed: scenario.seed,
    dp,
    secure: scenario.privacy.secureAggregation !== undefined,
    aggregator,
    ...(context ? { context } : {}),
    ...(maxUpdateNorm !== undefined ? { maxUpdateNorm } : {}),
  };
}

export function buildAggregation(settings: AggregationSettings): AggregatorFactory {
  const { dp, seed } = settings;
  const schedule = dp ? new ClipNormSchedule(dp, seed) : null;
  let chain = baseAggregator(settings, schedule);
  if (settings.secure) chain = secureSum(chain);
  if (dp && schedule) chain = l2Clipping(schedule, chain, { enforceOnServer: dp.mode === 'central' });
  return settings.maxUpdateNorm !== undefined ? normBound(settings.maxUpdateNorm, chain) : chain;
}

function baseAggregator({ dp, seed, aggregator, context }: AggregationSettings, schedule: ClipNormSchedule | null): AggregatorFactory {
  if (dp && schedule) {
    return dp.mode === 'central'
      ? gaussianNoise({ noiseMultiplier: dp.updateNoiseMultiplier, expectedClients: dp.expectedClients, seed }, schedule)
      : localNoise(dp.updateNoiseMultiplier, schedule, uniformMean());
  }
  return AGGREGATORS.get(aggregator.name).create(aggregator, context);
}

/**
 * An aggregator that needs every update of a round (a median, Krum) holds them all at once:
 * refuse, before round 1, a run whose largest round would not fit the memory it may take.
 */
export function checkBufferedMemory(chain: AggregatorFactory, largestCohort: number, parameterCount: number, limitMB: number): void {
  if (!chain.buffersUpdates) return;
  const megabytes = (largestCohort * parameterCount * 4) / 2 ** 20;
  if (megabytes > limitMB) {
    throw new Error(
      `strategy.aggregator: ${chain.name} keeps every update of a round: up to ${largestCohort} × ${parameterCount} float32 = ${megabytes.toFixed(0)} MiB (got system.aggregationMemoryMB ${limitMB}, expected at least that; or fewer clients per round)`,
    );
  }
}
