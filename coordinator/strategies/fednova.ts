/**
 * FedNova (Wang et al. 2020, "Tackling the Objective Inconsistency Problem in Heterogeneous
 * Federated Optimization"): clients that run different numbers of local steps (partial work,
 * unequal data) make FedAvg optimise a skewed objective. Each client sends its update divided by
 * its local work ‖aᵢ‖₁ (τᵢ for SGD; shared/training/local-work.ts for momentum), the server takes
 * the pᵢ-weighted mean of those normalised updates (pᵢ ∝ nᵢ, not scaled down for partial work)
 * and multiplies it by the cohort's effective work τ_eff = Σ pᵢ‖aᵢ‖₁:
 *
 *   Δ = τ_eff · Σ pᵢ Δᵢ/‖aᵢ‖₁
 *
 * With equal τᵢ it is FedAvg. Under DP, secure aggregation or a robust aggregator the mean is
 * uniform, and so is τ_eff's (pᵢ = 1/|S|): the normalisation itself needs no individual update.
 */
import { localWorkNorm } from '../../shared/training/local-work.js';
import { FedAvg } from './fedavg.js';
import { applyDelta, meanTrainLoss, type ClientPool, type StrategyRoundOutcome, type TrainInstructions, type TrainResult } from './strategy.js';
import type { AggregateOutput } from '../aggregation/aggregator.js';
import { strategyOptions, type StrategyContext, type StrategyEntry } from './strategy-entry.js';

export class FedNova extends FedAvg {
  override readonly name: string = 'fednova';

  constructor(private readonly context: StrategyContext) {
    super(context);
  }

  override configureTrain(round: number, eligible: ClientPool): TrainInstructions {
    return {
      ...super.configureTrain(round, eligible),
      config: { normalizeBySteps: true, stepMomentum: this.context.localMomentum },
      // pᵢ ∝ nᵢ: partial work is what the normalisation corrects, so it must not also shrink the weight.
      weighUpdate: (facts) => facts.samples,
    };
  }

  override aggregateTrain(_round: number, global: Float32Array, aggregate: AggregateOutput, results: readonly TrainResult[]): StrategyRoundOutcome {
    const trainLoss = meanTrainLoss(results);
    if (!aggregate.delta || results.length === 0) return { weights: global, trainLoss };
    const tauEffective = this.effectiveWork(results);
    return { weights: applyDelta(global, aggregate.delta, tauEffective), trainLoss, metrics: { tauEffective } };
  }

  /** τ_eff = Σ pᵢ‖aᵢ‖₁, with the aggregate's own weights; a client's claimed steps count at most as planned. */
  effectiveWork(results: readonly TrainResult[]): number {
    const ordered = [...results].sort((a, b) => a.clientId - b.clientId);
    const weightOf = (r: TrainResult) => (this.context.aggregateWeighting === 'weighted' ? r.weight : 1);
    const total = ordered.reduce((s, r) => s + weightOf(r), 0);
    return ordered.reduce((s, r) => s + weightOf(r) * localWorkNorm(Math.max(1, Math.min(r.steps, r.plannedSteps)), this.context.localMomentum), 0) / total;
  }
}

const schema = strategyOptions('fednova', {});

export const FEDNOVA = {
  name: 'fednova',
  description: 'FedNova (Wang et al. 2020): updates normalised by local work, the mean rescaled by the cohort’s effective τ',
  schema,
  create: (_spec, context) => new FedNova(context),
  combinationProblems: (scenario) =>
    scenario.training.optimizer === 'adam'
      ? [
          `training.optimizer: FedNova normalises by how far SGD or momentum steps carry a client; Adam's steps have no such fixed weights (got adam, expected sgd or momentum)`,
        ]
      : [],
} satisfies StrategyEntry;
