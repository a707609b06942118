/**
 * The aggregators a scenario can name (`strategy.aggregator.name`): one file each, one line
 * here. DP noise, clipping, norm bounds and secure sums are composed around the named one from
 * the scenario's privacy settings (see build-aggregation.ts).
 */
import { z } from 'zod';
import { Registry } from '../../shared/registry/registry.js';
import { fragmentsOf } from '../../shared/registry/schema-fragments.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import type { AggregatorEntry } from './aggregator-entry.js';
import { BULYAN } from './bulyan.js';
import { CENTERED_CLIPPING } from './centered-clipping.js';
import { FLTRUST } from './fltrust.js';
import { KRUM, MULTI_KRUM } from './krum.js';
import { MEDIAN } from './median.js';
import { TRIMMED_MEAN } from './trimmed-mean.js';
import { UNIFORM_MEAN } from './uniform-mean.js';
import { WEIGHTED_MEAN } from './weighted-mean.js';

const ENTRIES = [WEIGHTED_MEAN, UNIFORM_MEAN, MEDIAN, TRIMMED_MEAN, KRUM, MULTI_KRUM, BULYAN, CENTERED_CLIPPING, FLTRUST] as const;

export const AGGREGATORS = new Registry<AggregatorEntry>('strategy.aggregator.name', ENTRIES);

export const AGGREGATOR_SPEC = z.discriminatedUnion('name', fragmentsOf(ENTRIES));

/**
 * Why the scenario's aggregator cannot run in its privacy setting: DP and secure aggregation
 * fix the mean themselves, and secure aggregation never reveals an individual update (so the
 * robust aggregators, which need every update, are refused with it). Given the fixed clients
 * per round, also what that sample size rules out (Krum's n > 2f + 2).
 */
export function aggregationProblems(scenario: Scenario, clientsPerRound?: number): string[] {
  // Run on partly valid files too: a missing or unknown part is reported elsewhere.
  const named = scenario.strategy?.aggregator;
  if (!named || !AGGREGATORS.has(named.name)) return [];
  const factory = AGGREGATORS.get(named.name).create(named);
  const problems: string[] = [];
  if (scenario.privacy?.dp && named.name !== 'weighted-mean') {
    problems.push(
      `strategy.aggregator.name: under privacy.dp the mean is DP's own (the noised sum over the expected cohort, or local DP's uniform mean), so another aggregator would be ignored (got ${named.name}, expected weighted-mean, the default)`,
    );
  } else if (scenario.privacy?.secureAggregation && (factory.buffersUpdates || !factory.acceptsSecureSum)) {
    problems.push(
      `strategy.aggregator.name: ${named.name} needs individual updates, but under privacy.secureAggregation the coordinator only ever sees their sum (got ${named.name}, expected weighted-mean or uniform-mean)`,
    );
  }
  const entry = AGGREGATORS.get(named.name);
  if (clientsPerRound !== undefined && entry.cohortProblems) problems.push(...entry.cohortProblems(named, clientsPerRound));
  return problems;
}
