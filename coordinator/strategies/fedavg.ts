/**
 * FedAvg (McMahan et al. 2017, Algorithm 1): the sampled clients train from the global model;
 * the new global model is w + the aggregate of their updates (a weighted mean by default,
 * Σₖ nₖ·Δₖ / Σₖ nₖ). Over a DP chain this is DP-FedAvg (McMahan et al. 2018). The server keeps
 * no state of its own.
 */
import { z } from 'zod';
import type { AggregateOutput } from '../aggregation/aggregator.js';
import {
  applyDelta,
  meanTrainLoss,
  type ClientPool,
  type EvaluateInstructions,
  type EvaluateResult,
  type Strategy,
  type StrategyRoundOutcome,
  type StrategyState,
  type TrainFailure,
  type TrainInstructions,
  type TrainResult,
} from './strategy.js';
import { Rng } from '../../shared/random.js';
import { summarizeEvaluations } from './evaluation-summary.js';
import { strategyOptions, type StrategyContext, type StrategyEntry } from './strategy-entry.js';

export class FedAvg implements Strategy {
  readonly name: string = 'fedavg';

  /** `context`: the seed and what federated evaluation asks (subclasses that pass none evaluate nobody). */
  constructor(private readonly evaluation: Pick<StrategyContext, 'seed' | 'federatedEvaluationClients'> = { seed: 0 }) {}

  configureTrain(round: number, eligible: ClientPool): TrainInstructions {
    return { clients: eligible.sample(round), config: {} };
  }

  aggregateTrain(
    _round: number,
    global: Float32Array,
    aggregate: AggregateOutput,
    results: readonly TrainResult[],
    _failures: readonly TrainFailure[],
  ): StrategyRoundOutcome {
    // No aggregate (nobody arrived): the model, and any server state, stay as they were.
    return { weights: aggregate.delta ? this.serverStep(global, aggregate.delta) : global, trainLoss: meanTrainLoss(results) };
  }

  /** The next global model from the round's aggregate Δ: FedAvg adds it; server optimizers step along it. */
  protected serverStep(global: Float32Array, delta: Float32Array | Float64Array): Float32Array {
    return applyDelta(global, delta);
  }

  /** A seeded uniform sample of the population, a fresh one each evaluated round. */
  configureEvaluate(round: number, eligible: ClientPool): EvaluateInstructions | null {
    const count = this.evaluation.federatedEvaluationClients;
    if (count === undefined) return null;
    const rng = new Rng(this.evaluation.seed).fork(`evaluation:${round}`);
    const clients = rng.sampleWithoutReplacement(eligible.population, Math.min(count, eligible.population)).sort((a, b) => a - b);
    return { clients, config: {} };
  }

  aggregateEvaluate(_round: number, results: readonly EvaluateResult[]): Record<string, number> | null {
    return summarizeEvaluations(results);
  }

  exportState(): StrategyState {
    return { json: {}, vectors: {} };
  }

  restoreState(_state: StrategyState): void {}
}

export const FEDAVG = {
  name: 'fedavg',
  description: "FedAvg (McMahan et al. 2017): w ← w + mean of the clients' updates; DP-FedAvg over a DP chain",
  schema: strategyOptions('fedavg', {}),
  create: (_spec, context) => new FedAvg(context),
} satisfies StrategyEntry;

export type FedAvgSpec = z.output<typeof FEDAVG.schema>;
