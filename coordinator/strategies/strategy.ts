/**
 * A federated strategy, in the manner of Flower's: it decides which clients train in a round,
 * what they are told, and how their updates become the next global model. The coordinator owns
 * transport, timing and bookkeeping; the strategy owns the maths.
 */
export interface ClientUpdate {
  clientId: number;
  /** Local training samples: FedAvg's weight nₖ. */
  samples: number;
  steps: number;
  /** Mean local training loss over the client's last epoch. */
  loss: number;
  /** w_local − w_global, already validated (and, in DP runs, clipped by the client). */
  delta: Float32Array;
  /** DP runs: the update was inside the clip norm before clipping. */
  unclipped?: boolean;
}

/** What every client of a round is told besides the model: the DP clip norm and local noise. */
export interface TaskPrivacy {
  clipNorm: number;
  localNoiseStd?: number;
}

export interface RoundPlan {
  /** The sampled clients, sorted by id (may be empty under Poisson sampling). */
  clients: number[];
  taskPrivacy?: TaskPrivacy;
}

/** A DP round's facts, for metrics (the accountant adds ε). */
export interface RoundPrivacyFacts {
  clipNorm: number;
  /** The clip norm the next round will use (changes under adaptive clipping). */
  nextClipNorm: number;
  /** Noised fraction of clients whose update was within the clip norm (adaptive clipping). */
  unclippedFraction?: number;
}

export interface RoundOutcome {
  weights: Float32Array;
  /** Sample-weighted mean of the clients' training losses; null without updates. */
  trainLoss: number | null;
  clients: number;
  samples: number;
  privacy?: RoundPrivacyFacts;
}

/**
 * What secure aggregation hands the strategy instead of updates: the unmasked sum of the
 * survivors' clipped updates, each counted once (uniform weights). Individual updates never
 * reach the coordinator, so sample weighting would need clients to pre-multiply; fedsim keeps
 * weights uniform, as DP-FedAvg does.
 */
export interface SecureSum {
  /** Σ Δₖ over the survivors, decoded from fixed point. */
  sum: Float32Array;
  /** The survivors' training facts (sent in clear with their keys), for the train loss. */
  clients: { clientId: number; loss: number; samples: number }[];
  /** DP adaptive clipping: survivors whose update was inside the clip norm (summed securely too). */
  unclipped?: number;
}

export interface RoundAggregation {
  add(update: ClientUpdate): void;
  /** Secure aggregation's result, once per round, in place of add(). */
  addSecureSum(secure: SecureSum): void;
  /** The next global model (the current one unchanged when no update arrived, except for DP noise). */
  finish(global: Float32Array): RoundOutcome;
}

export interface Strategy {
  readonly name: string;
  /** Round `round` (1-based): who trains and with what instructions. */
  configureRound(round: number): RoundPlan;
  beginAggregation(round: number, parameterCount: number): RoundAggregation;
}

/** The sample-weighted mean training loss of the reporting clients, independent of arrival order. */
export function meanTrainLoss(losses: readonly { clientId: number; loss: number; samples: number }[]): number | null {
  if (losses.length === 0) return null;
  // Sorted so the float sum, and so the logged loss, is the same whatever the arrival order.
  const ordered = [...losses].sort((a, b) => a.clientId - b.clientId);
  const samples = ordered.reduce((s, l) => s + l.samples, 0);
  return ordered.reduce((s, l) => s + l.loss * l.samples, 0) / samples;
}
