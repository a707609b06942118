/**
 * The aggregators a scenario can name (`strategy.aggregator.name`): one file each, one line
 * here. DP noise, clipping, norm bounds and secure sums are composed around the named one from
 * the scenario's privacy settings (see build-aggregation.ts).
 */
import { z } from 'zod';
import { Registry } from '../../shared/registry/registry.js';
import type { AggregatorEntry } from './aggregator-entry.js';
import { UNIFORM_MEAN } from './uniform-mean.js';
import { WEIGHTED_MEAN } from './weighted-mean.js';

export const AGGREGATORS = new Registry<AggregatorEntry>('strategy.aggregator.name', [WEIGHTED_MEAN, UNIFORM_MEAN]);

export const AGGREGATOR_SPEC = z.discriminatedUnion('name', [WEIGHTED_MEAN.schema, UNIFORM_MEAN.schema]);
