/** What an aggregator file registers: its scenario options (`strategy.aggregator`) and factory. */
import type { z } from 'zod';
import type { RegistryEntry, ValidatedOptions } from '../../shared/registry/registry.js';
import type { AggregatorFactory } from './aggregator.js';

/**
 * What the run lends an aggregator beyond its options: FLTrust's server update, trained on a
 * seeded sample of `rootSamples` training examples from the round's global model.
 */
export interface AggregatorContext {
  trainOnRootData?: (round: number, global: Float32Array, rootSamples: number) => Promise<Float32Array>;
}

export interface AggregatorEntry extends RegistryEntry {
  readonly schema: z.ZodObject;
  /** `spec`: the scenario's `strategy.aggregator` block, already validated against `schema`. */
  create(spec: ValidatedOptions, context?: AggregatorContext): AggregatorFactory;
  /**
   * What these options rule out when every round samples `clientsPerRound` clients (Krum's
   * n > 2f + 2): `strategy.aggregator.<field>: … (got …, expected …)` lines, none when fine.
   */
  cohortProblems?(spec: ValidatedOptions, clientsPerRound: number): string[];
}
