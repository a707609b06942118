/**
 * What a strategy file registers: its scenario options (a zod fragment, `strategy.name` its
 * discriminator) and how to build it. Every strategy shares the options below.
 */
import { z } from 'zod';
import type { RegistryEntry, ValidatedOptions } from '../../shared/registry/registry.js';
import { AGGREGATOR_SPEC } from '../aggregation/registry.js';
import type { Strategy } from './strategy.js';

const COMMON_OPTIONS = {
  /**
   * Updates whose L2 norm exceeds this are refused and counted as rejected (a guard against
   * broken or hostile clients, not a privacy clip).
   */
  maxUpdateNorm: z.number().gt(0).optional(),
  /** How the round's updates are combined (under DP and secure aggregation, see README). */
  aggregator: AGGREGATOR_SPEC.default({ name: 'weighted-mean' }),
};

/** The strictObject of one strategy's options: its name, the common options, and its own. */
export function strategyOptions<N extends string, S extends z.ZodRawShape>(name: N, own: S) {
  return z.strictObject({ name: z.literal(name), ...COMMON_OPTIONS, ...own });
}

export interface StrategyContext {
  seed: number;
  population: number;
}

export interface StrategyEntry extends RegistryEntry {
  readonly schema: z.ZodObject;
  /** `spec`: the scenario's `strategy` block, already validated against this entry's `schema`. */
  create(spec: ValidatedOptions, context: StrategyContext): Strategy;
}
