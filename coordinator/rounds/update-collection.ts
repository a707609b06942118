/**
 * How a round's updates get from the workers into the aggregator: plain (each update checked and
 * accepted on its own) or through secure aggregation (only the survivors' sum). The round
 * runner sees one interface and no `if (secure)`.
 */
import type { SecAggRoundMetrics } from '../secure-aggregation/secure-aggregation.js';
import type { UpdateFacts } from '../strategies/strategy.js';
import type { RoundAggregator, RoundRules } from '../aggregation/aggregator.js';
import type { TaskFields } from '../transport/task-dispatcher.js';
import type { RoundState } from './round-state.js';

export interface CollectionRound {
  round: number;
  /** The clients sent a task, sorted by id. */
  cohort: readonly number[];
  /** The model the cohort starts from. */
  global: Float32Array;
  parameterCount: number;
  rules: RoundRules;
  state: RoundState;
  aggregator: RoundAggregator;
  /** The client's partition size (its training report must state it). */
  samplesOf: (clientId: number) => number | undefined;
  /** Planned local steps per client (partial work weighs an update by the share it did). */
  plannedSteps: (clientId: number) => number;
  /** The weight of an accepted update in the aggregate (the strategy's, or partial-work weighting). */
  weighUpdate: (facts: UpdateFacts) => number;
}

export interface Settlement {
  /** False when the round's aggregate must not be used (a secure round that aborted). */
  ok: boolean;
  dropped: number;
  rejected: number;
  /** Bytes besides the model and the update transfers (secure aggregation's batches). */
  extraBytesDown: number;
  extraBytesUp: number;
  secureAggregation?: SecAggRoundMetrics;
}

export interface OpenCollection {
  /** Set when the round cannot run at all; then no task goes out. */
  readonly abortBeforeStart: string | null;
  /** Secure aggregation binds a client to the first worker that took it. */
  readonly exclusive: boolean;
  /** What the collection adds to a client's task (its secure-aggregation role). */
  taskFields(clientId: number): Pick<TaskFields, 'secureAggregation'>;
  assigned(clientId: number, workerId: string, grant: string): void;
  /** After the round's deadline or once all are in: dropouts, protocol steps, the sum handed to the aggregator. */
  settle(): Promise<Settlement>;
}

export interface UpdateCollection {
  open(round: CollectionRound): OpenCollection;
  start(): void;
  stop(): void;
}
