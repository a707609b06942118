/**
 * A federated strategy, in the manner of Flower's: it decides which clients train in a round and
 * what they are told (configureTrain), turns the round's aggregate into the next global model
 * (aggregateTrain), does the same for federated evaluation (configureEvaluate /
 * aggregateEvaluate), and exports its server state for checkpoints. The round engine owns
 * transport, timing and bookkeeping; the aggregator chain (coordinator/aggregation) owns how
 * updates are combined (mean, DP noise, secure sum); the strategy owns the server-side maths.
 */
import type { ConfigRecord } from '../../shared/protocol/config-record.js';
import type { AggregateOutput } from '../aggregation/aggregator.js';

export type { ConfigRecord } from '../../shared/protocol/config-record.js';

/** The clients a round may draw from, as the run samples them (uniform K, or Poisson q under DP). */
export interface ClientPool {
  readonly population: number;
  /** The most clients one round's sample can hold (sizes what an aggregator buffering every update may need). */
  readonly largestSample: number;
  /** The round's sample, sorted by id (may be empty under Poisson sampling). */
  sample(round: number): number[];
}

/** What a round's clients are told besides the model. */
export interface TrainInstructions {
  /** The clients to train, sorted by id. */
  clients: number[];
  /** Sent in every client's task and handed to local training (e.g. a proximal μ). */
  config: ConfigRecord;
  /** A client's own additions to `config` (e.g. a personal-layer mask). */
  configFor?: (clientId: number) => ConfigRecord;
  /** Round-wide vectors the clients fetch by name beside the global model (e.g. a server control variate). */
  vectors?: Readonly<Record<string, Float32Array>>;
  /**
   * The weight an individual update carries in a weighted aggregate (default: partialWorkWeight).
   * Secure aggregation and DP average uniformly and never call it.
   */
  weighUpdate?: (facts: UpdateFacts) => number;
}

/** What the server knows of one accepted update when it weighs it. */
export interface UpdateFacts {
  clientId: number;
  samples: number;
  steps: number;
  /** The local steps the round planned for the client (E · ⌈n/B⌉, or a straggler's cap). */
  plannedSteps: number;
  /** Its reported training loss (last epoch). */
  loss: number;
  /** The client's loss under the global model before training, when the config asked for it. */
  startLoss?: number;
}

/** FedAvg's weight: the client's samples, scaled down by the share of its planned steps it did (partial work). */
export function partialWorkWeight(facts: UpdateFacts): number {
  return facts.samples * Math.min(1, facts.steps / Math.max(facts.plannedSteps, 1));
}

/** A client whose update is in the round's aggregate. */
export interface TrainResult {
  clientId: number;
  /** Local training samples. */
  samples: number;
  /** The weight its update and loss carried (samples, scaled down for partial work). */
  weight: number;
  /** Local steps, as the client reported them. */
  steps: number;
  /** The steps the round planned for it (a reported count above it is not to be believed). */
  plannedSteps: number;
  /** Mean local training loss over its last epoch. */
  loss: number;
  /** Its loss under the global model before training (when the config asked for it: q-FedAvg). */
  startLoss?: number;
  /** ‖Δ‖² of the update as it arrived, before any clipping; absent under secure aggregation, which hides it. */
  normSquared?: number;
}

export interface TrainFailure {
  clientId: number;
  kind: 'dropped' | 'rejected';
  reason?: string;
}

export interface StrategyRoundOutcome {
  weights: Float32Array;
  /** Weighted mean of the clients' training losses; null without results. */
  trainLoss: number | null;
  /** The strategy's own figures for the round's metrics line (e.g. a server learning rate). */
  metrics?: Record<string, number>;
}

/** Federated evaluation: clients score the global model on their own data. */
export interface EvaluateInstructions {
  clients: number[];
  config: ConfigRecord;
}

export interface EvaluateResult {
  clientId: number;
  samples: number;
  loss: number;
  metrics: Record<string, number>;
}

/** Server state for a checkpoint: JSON plus named vectors (moments, control variates). */
export interface StrategyState {
  json: Record<string, unknown>;
  vectors: Record<string, Float32Array>;
}

export interface Strategy {
  readonly name: string;
  /** Values each client sends, from the model's P (default P; SCAFFOLD appends its Δc: 2P). */
  updateLength?(parameterCount: number): number;
  /** Values of client state each client keeps between rounds (SCAFFOLD's cᵢ: P; personal layers: their size). */
  clientStateValues?(parameterCount: number): number;
  /** Round `round` (1-based): who trains and with what instructions. */
  configureTrain(round: number, eligible: ClientPool): TrainInstructions;
  /** The next global model from the aggregate of the round's updates (null when none arrived). */
  aggregateTrain(
    round: number,
    global: Float32Array,
    aggregate: AggregateOutput,
    results: readonly TrainResult[],
    failures: readonly TrainFailure[],
  ): StrategyRoundOutcome;
  /** Null: this round has no federated evaluation (the server's test set still scores the model). */
  configureEvaluate(round: number, eligible: ClientPool): EvaluateInstructions | null;
  aggregateEvaluate(round: number, results: readonly EvaluateResult[]): Record<string, number> | null;
  exportState(): StrategyState;
  restoreState(state: StrategyState): void;
}

/** The weighted mean training loss of the reporting clients, independent of arrival order. */
export function meanTrainLoss(results: readonly Pick<TrainResult, 'clientId' | 'loss' | 'weight'>[]): number | null {
  if (results.length === 0) return null;
  // Sorted so the float sum, and so the logged loss, is the same whatever the arrival order.
  const ordered = [...results].sort((a, b) => a.clientId - b.clientId);
  const weight = ordered.reduce((s, r) => s + r.weight, 0);
  return ordered.reduce((s, r) => s + r.loss * r.weight, 0) / weight;
}

/** w + s·Δ in float32; Δ may be float64 (a DP mean), the sum rounded once. `scale`: FedNova's τ_eff, q-FedAvg's step. */
export function applyDelta(global: Float32Array, delta: Float32Array | Float64Array, scale = 1): Float32Array {
  const weights = new Float32Array(global.length);
  for (let i = 0; i < global.length; i++) weights[i] = global[i]! + scale * delta[i]!;
  return weights;
}
