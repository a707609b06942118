/**
 * SCAFFOLD (Karimireddy et al. 2020, "SCAFFOLD: Stochastic Controlled Averaging for Federated
 * Learning", Algorithm 1, option II). Client drift under non-IID data is corrected by control
 * variates: the server's c and each client's cᵢ (kept in the client state store, so it follows
 * the client across workers). Clients step along gᵢ(y) − cᵢ + c and send [Δy, Δcᵢ] as one vector
 * (client/training/control-variates.ts); the server, with S the round's arrivals and N the
 * population, takes
 *
 *   x ← x + η_g · (1/|S|) Σ Δyᵢ        c ← c + (1/N) Σ Δcᵢ = c + (|S|/N) · mean Δcᵢ
 *
 * Means are uniform over the arrivals, as in the paper, which keeps c the mean of every cᵢ.
 * Secure aggregation sums both halves like any vector. DP is refused: Δc lives on the gradient's
 * scale and Δy on η·K times it, so one clip bound for the pair would distort one half (DP-SCAFFOLD
 * clips them apart); so are FLTrust and the update attacks, which read updates as models.
 */
import { z } from 'zod';
import type { AggregateOutput } from '../aggregation/aggregator.js';
import { SERVER_CONTROL_VECTOR } from '../../shared/protocol/messages.js';
import { FedAvg } from './fedavg.js';
import {
  applyDelta,
  meanTrainLoss,
  type ClientPool,
  type StrategyRoundOutcome,
  type StrategyState,
  type TrainInstructions,
  type TrainResult,
} from './strategy.js';
import { strategyOptions, type StrategyContext, type StrategyEntry } from './strategy-entry.js';

export class Scaffold extends FedAvg {
  override readonly name: string = 'scaffold';
  /** c, zero until the first round's clients report. */
  private control: Float32Array;

  constructor(
    private readonly serverLearningRate: number,
    private readonly context: StrategyContext,
  ) {
    super(context);
    if (context.parameterCount === undefined) throw new Error('SCAFFOLD needs the model’s parameter count to size its control variate');
    this.control = new Float32Array(context.parameterCount);
  }

  updateLength(parameterCount: number): number {
    return 2 * parameterCount;
  }

  clientStateValues(parameterCount: number): number {
    return parameterCount;
  }

  override configureTrain(round: number, eligible: ClientPool): TrainInstructions {
    return {
      ...super.configureTrain(round, eligible),
      config: { controlVariates: true },
      vectors: { [SERVER_CONTROL_VECTOR]: this.control },
      weighUpdate: () => 1,
    };
  }

  override aggregateTrain(_round: number, global: Float32Array, aggregate: AggregateOutput, results: readonly TrainResult[]): StrategyRoundOutcome {
    const trainLoss = meanTrainLoss(results);
    if (!aggregate.delta || results.length === 0) return { weights: global, trainLoss };
    const length = global.length;
    if (aggregate.delta.length !== 2 * length) throw new RangeError(`SCAFFOLD: aggregate has ${aggregate.delta.length} values, expected 2 × ${length}`);
    const weights = applyDelta(global, aggregate.delta.subarray(0, length), this.serverLearningRate);
    const share = results.length / this.context.population;
    let controlNormSquared = 0;
    for (let i = 0; i < length; i++) {
      this.control[i] = this.control[i]! + share * aggregate.delta[length + i]!;
      controlNormSquared += this.control[i]! ** 2;
    }
    return { weights, trainLoss, metrics: { controlNorm: Math.sqrt(controlNormSquared) } };
  }

  override exportState(): StrategyState {
    return { json: {}, vectors: { [SERVER_CONTROL_VECTOR]: this.control.slice() } };
  }

  override restoreState(state: StrategyState): void {
    const saved = state.vectors[SERVER_CONTROL_VECTOR];
    if (!saved || saved.length !== this.control.length) throw new Error(`SCAFFOLD: the saved state holds no control variate of ${this.control.length} values`);
    this.control = saved.slice();
  }
}

const schema = strategyOptions('scaffold', {
  /** η_g, the server's step along the mean Δy (the paper's global step size; 1 is FedAvg's). */
  serverLearningRate: z.number().gt(0).max(100).default(1),
});

export const SCAFFOLD = {
  name: 'scaffold',
  description: 'SCAFFOLD (Karimireddy et al. 2020): local steps corrected by server and client control variates (option II)',
  schema,
  create: (spec, context) => new Scaffold((spec as z.output<typeof schema>).serverLearningRate, context),
  combinationProblems: (scenario) => {
    const problems: string[] = [];
    const why = 'SCAFFOLD sends [Δy, Δc] as one vector';
    if (scenario.privacy.dp)
      problems.push(
        `privacy.dp: ${why}, and Δc is on the gradient's scale while Δy is η·K times it: one clip bound would distort one half (DP-SCAFFOLD clips them apart, not implemented; expected no privacy.dp)`,
      );
    if (scenario.privacy.updateAttacks)
      problems.push(`privacy.updateAttacks: ${why}, not a model update the attacks can read (expected no privacy.updateAttacks)`);
    if (scenario.strategy.aggregator.name === 'fltrust')
      problems.push(`strategy.aggregator: FLTrust compares each update with the server's root model update, which has no Δc half (got fltrust)`);
    if (scenario.training.optimizer === 'adam')
      problems.push(
        `training.optimizer: SCAFFOLD estimates cᵢ from how far SGD or momentum steps carry a client; Adam's steps have no such fixed weights (got adam, expected sgd or momentum)`,
      );
    if (scenario.strategy.localLayers?.length)
      problems.push(
        `strategy.localLayers: SCAFFOLD's control variates cover the whole model; with personal layers they would correct towards a mean no client trains (expected no localLayers)`,
      );
    return problems;
  },
} satisfies StrategyEntry;
