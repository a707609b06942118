/**
 * A federated strategy, in the manner of Flower's: it decides which clients train in a round
 * and how their updates become the next global model. The coordinator owns transport, timing
 * and bookkeeping; the strategy owns the maths.
 */
export interface ClientUpdate {
  clientId: number;
  /** Local training samples: FedAvg's weight nₖ. */
  samples: number;
  steps: number;
  /** Mean local training loss over the client's last epoch. */
  loss: number;
  /** w_local − w_global, already validated. */
  delta: Float32Array;
}

export interface RoundOutcome {
  weights: Float32Array;
  /** Sample-weighted mean of the clients' training losses; null without updates. */
  trainLoss: number | null;
  clients: number;
  samples: number;
}

export interface RoundAggregation {
  add(update: ClientUpdate): void;
  /** The next global model (the current one unchanged when no update arrived). */
  finish(global: Float32Array): RoundOutcome;
}

export interface Strategy {
  readonly name: string;
  /** The clients sampled for `round` (1-based), sorted by id. */
  selectClients(round: number): number[];
  beginAggregation(round: number, parameterCount: number): RoundAggregation;
}
