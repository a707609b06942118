/**
 * q-FedAvg (Li et al. 2020, "Fair Resource Allocation in Federated Learning", Algorithm 2):
 * minimises Σ F_k^(q+1)/(q+1), so clients the global model serves badly weigh more. Each sampled
 * client reports F_k = its loss under w_t before training (config reportStartLoss) and its
 * update δ_k = w̄_k − w_t. With L = 1/η (the local learning rate) and Δw_k = −L·δ_k:
 *
 *   h_k = q·F_k^(q−1)·‖Δw_k‖² + L·F_k^q
 *   w_{t+1} = w_t − Σ F_k^q·Δw_k / Σ h_k  =  w_t + L · (Σ F_k^q δ_k / Σ F_k^q) · Σ F_k^q / Σ h_k
 *
 * The round's weighted mean with weights F_k^q gives the middle factor; the strategy supplies
 * the rest from the reported losses and the update norms the server measured. q = 0 is FedAvg
 * with uniform weights. Every factor reads individual updates, so secure aggregation, DP and the
 * robust aggregators are refused.
 */
import { z } from 'zod';
import type { AggregateOutput } from '../aggregation/aggregator.js';
import { FedAvg } from './fedavg.js';
import {
  applyDelta,
  meanTrainLoss,
  type ClientPool,
  type StrategyRoundOutcome,
  type TrainInstructions,
  type TrainResult,
  type UpdateFacts,
} from './strategy.js';
import { strategyOptions, type ScenarioSettings, type StrategyContext, type StrategyEntry } from './strategy-entry.js';

/** A loss of 0 would make F^(q−1) infinite for q < 1, and its weight 0. */
const SMALLEST_LOSS = 1e-10;

export class QFedAvg extends FedAvg {
  override readonly name: string = 'qfedavg';
  private readonly lipschitz: number;

  constructor(
    private readonly q: number,
    context: StrategyContext,
  ) {
    super(context);
    this.lipschitz = 1 / context.localLearningRate;
  }

  override configureTrain(round: number, eligible: ClientPool): TrainInstructions {
    return { ...super.configureTrain(round, eligible), config: { reportStartLoss: true }, weighUpdate: (facts) => this.weightOf(facts) };
  }

  /** F_k^q; a client that did not report F_k is weighed by its training loss instead (and counted). */
  weightOf(facts: Pick<UpdateFacts, 'startLoss' | 'loss'>): number {
    return this.startLossOf(facts) ** this.q;
  }

  override aggregateTrain(_round: number, global: Float32Array, aggregate: AggregateOutput, results: readonly TrainResult[]): StrategyRoundOutcome {
    const trainLoss = meanTrainLoss(results);
    if (!aggregate.delta || results.length === 0) return { weights: global, trainLoss };
    const stepScale = this.stepScale(results);
    // In client order: the mean must not depend on the order the updates arrived in.
    const startLosses = [...results].sort((a, b) => a.clientId - b.clientId).map((r) => this.startLossOf(r));
    return {
      weights: applyDelta(global, aggregate.delta, stepScale),
      trainLoss,
      metrics: {
        stepScale,
        meanStartLoss: startLosses.reduce((s, f) => s + f, 0) / startLosses.length,
        worstStartLoss: Math.max(...startLosses),
        missingStartLoss: results.filter((r) => r.startLoss === undefined).length,
      },
    };
  }

  /** L · Σ F^q / Σ h: what turns the F^q-weighted mean of the δ_k into q-FedAvg's step. */
  stepScale(results: readonly TrainResult[]): number {
    const L = this.lipschitz;
    let weights = 0;
    let h = 0;
    for (const r of [...results].sort((a, b) => a.clientId - b.clientId)) {
      if (r.normSquared === undefined) throw new Error(`q-FedAvg: client ${r.clientId}'s update norm is unknown (secure aggregation hides it)`);
      const F = this.startLossOf(r);
      weights += F ** this.q;
      h += this.q * F ** (this.q - 1) * L * L * r.normSquared + L * F ** this.q;
    }
    return (L * weights) / h;
  }

  private startLossOf(r: { startLoss?: number; loss: number }): number {
    return Math.max(r.startLoss ?? r.loss, SMALLEST_LOSS);
  }
}

const schema = strategyOptions('qfedavg', {
  /** q ≥ 0: 0 is FedAvg; the paper uses 0.001 to 15 (larger: fairer, slower). */
  q: z.number().min(0).max(50),
});

function combinationProblems(scenario: ScenarioSettings): string[] {
  const problems: string[] = [];
  const why = "q-FedAvg weighs each update by its client's loss and scales the step by every update's norm";
  if (scenario.privacy.secureAggregation) {
    problems.push(
      `strategy.name: ${why}, which secure aggregation hides (got qfedavg with privacy.secureAggregation, expected another strategy or no secure aggregation)`,
    );
  }
  if (scenario.privacy.dp)
    problems.push(`strategy.name: ${why}; DP averages clipped updates uniformly (got qfedavg with privacy.dp, expected another strategy or no DP)`);
  if (scenario.strategy.aggregator.name !== 'weighted-mean') {
    problems.push(
      `strategy.aggregator.name: ${why}; ${scenario.strategy.aggregator.name} ignores the weights (got ${scenario.strategy.aggregator.name}, expected weighted-mean)`,
    );
  }
  return problems;
}

export const QFEDAVG = {
  name: 'qfedavg',
  description: 'q-FedAvg (Li et al. 2020, q-FFL): clients weighed by F_k^q, their loss under the global model; fairness parameter q',
  schema,
  create: (spec, context) => new QFedAvg((spec as z.output<typeof schema>).q, context),
  combinationProblems,
} satisfies StrategyEntry;
