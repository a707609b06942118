/**
 * What a strategy file registers: its scenario options (a zod fragment, `strategy.name` its
 * discriminator) and how to build it. Every strategy shares the options below.
 */
import { z } from 'zod';
import type { RegistryEntry, ValidatedOptions } from '../../shared/registry/registry.js';
import { AGGREGATOR_SPEC } from '../aggregation/registry.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import type { Strategy } from './strategy.js';

const COMMON_OPTIONS = {
  /**
   * Updates whose L2 norm exceeds this are refused and counted as rejected (a guard against
   * broken or hostile clients, not a privacy clip).
   */
  maxUpdateNorm: z.number().gt(0).optional(),
  /** How the round's updates are combined (under DP and secure aggregation, see README). */
  aggregator: AGGREGATOR_SPEC.default({ name: 'weighted-mean' }),
  /**
   * Partial aggregation (FedPer, Arivazhagan et al. 2019): these layers (by name, see `fedsim
   * models`) stay on each client, in the client state store; only the rest is averaged.
   */
  localLayers: z.array(z.string().min(1).max(64)).max(64).optional(),
};

/** The strictObject of one strategy's options: its name, the common options, and its own. */
export function strategyOptions<N extends string, S extends z.ZodRawShape>(name: N, own: S) {
  return z.strictObject({ name: z.literal(name), ...COMMON_OPTIONS, ...own });
}

export interface StrategyContext {
  seed: number;
  population: number;
  /**
   * How the round's aggregate weighs the updates: 'weighted' (strategy.weighUpdate, under the
   * weighted-mean aggregator without DP or secure aggregation) or 'uniform' (DP, secure
   * aggregation, and the robust aggregators, which ignore weights).
   */
  aggregateWeighting: 'weighted' | 'uniform';
  /** The clients' heavy-ball momentum ρ (0 for plain SGD), which decides how far their steps carry. */
  localMomentum: number;
  /** The clients' learning rate η (q-FedAvg's Lipschitz estimate is 1/η). */
  localLearningRate: number;
  /** Values in the model's parameter vector (server state sized by the model: SCAFFOLD's c). */
  parameterCount?: number;
  /** evaluation.federated: how many of the population score the model when a round evaluates (absent: none). */
  federatedEvaluationClients?: number;
}

export interface StrategyEntry extends RegistryEntry {
  readonly schema: z.ZodObject;
  /** `spec`: the scenario's `strategy` block, already validated against this entry's `schema`. */
  create(spec: ValidatedOptions, context: StrategyContext): Strategy;
  /** Why the strategy cannot run with the rest of this scenario (privacy, aggregator), each naming the field. */
  combinationProblems?(scenario: ScenarioSettings): string[];
}

/**
 * The parts of a scenario a strategy's combination check reads. Spelled out rather than
 * `Scenario`, whose type is built from this registry's schemas.
 */
export interface ScenarioSettings {
  training: { optimizer: string };
  privacy: { dp?: unknown; secureAggregation?: unknown; updateAttacks?: unknown };
  strategy: { aggregator: { name: string }; localLayers?: string[] | undefined };
}

/** What a strategy may know of the scenario besides its own block. */
export function strategyContextOf(scenario: Scenario, parameterCount?: number): StrategyContext {
  const { dp, secureAggregation } = scenario.privacy;
  const { optimizer, momentum, learningRate } = scenario.training;
  const { federated } = scenario.evaluation;
  return {
    seed: scenario.seed,
    population: scenario.partition.clients,
    ...(parameterCount !== undefined ? { parameterCount } : {}),
    aggregateWeighting: !dp && !secureAggregation && scenario.strategy.aggregator.name === 'weighted-mean' ? 'weighted' : 'uniform',
    // tfjs' momentum optimizer, as local training builds it (client/training/local-training.ts).
    localMomentum: optimizer === 'momentum' ? (momentum ?? 0.9) : 0,
    localLearningRate: learningRate,
    ...(federated ? { federatedEvaluationClients: federated.clients ?? Math.max(1, Math.round((federated.fraction ?? 1) * scenario.partition.clients)) } : {}),
  };
}
