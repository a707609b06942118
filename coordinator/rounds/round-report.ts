/**
 * What a round leaves behind: its metrics.jsonl line and the live client events.
 */
import type { ClientStateUsage } from '../../shared/client-state/client-state-store.js';
import type { RefusalKind } from '../transport/frame-refusals.js';
import type { RoundCompute } from '../simulation/federation-clock.js';
import type { RoundPrivacy } from '../privacy/privacy-ledger.js';
import type { SecAggRoundMetrics } from '../secure-aggregation/secure-aggregation.js';

/** One metrics.jsonl line. The compute figures (simulated time, FLOPs, energy, stragglers) are RoundCompute's. */
export interface RoundMetrics extends RoundCompute {
  round: number;
  selected: number;
  /** Ids of the sampled clients, sorted. */
  selectedClients: number[];
  completed: number;
  dropped: number;
  rejected: number;
  /** Sample-weighted mean local training loss of the clients that reported. */
  trainLoss: number | null;
  testLoss: number | null;
  testAccuracy: number | null;
  testMse: number | null;
  /** Ratings data: mean absolute error and hit rate at 10 of the test set (RMSE is √testMse). */
  testMae?: number;
  testHitRate10?: number;
  /** Next-token data: e^testLoss. */
  testPerplexity?: number;
  /** Two-class data: area under the ROC curve on the test set. */
  testAuc?: number;
  wallMs: number;
  /** Time spent evaluating the global model (included in wallMs). */
  evalMs: number;
  /** Sum of the reporting clients' local training times, as measured in the workers. */
  clientTrainMs: number;
  bytesDown: number;
  bytesUp: number;
  /** Workers that delivered accepted updates this round (a dead worker stops counting). */
  workers: number;
  /** Tasks claimed again after the worker holding one died or left (the queue redelivered them). */
  redelivered: number;
  /** Frames refused without effect on the round, by kind (forged, stale, malformed, out of place); {} when none. */
  refusedFrames: Partial<Record<RefusalKind, number>>;
  /** DP runs: ε so far, clip norm, realised cohort. */
  privacy?: RoundPrivacy;
  /** Bytes down + up of the run so far. */
  bytesTotal: number;
  /** Secure-aggregation runs: the protocol's parameters, survivors, dropouts per step, abort, cost. */
  secureAggregation?: SecAggRoundMetrics;
  /** Backdoor runs, evaluated rounds: the share of triggered test images of other classes classified as the target. */
  attackSuccessRate?: number;
  /** A robust aggregator that fell back (e.g. Krum to the median on too few arrivals): to what, and why. */
  aggregation?: { fallback: string; reason: string };
  /** Runs with adversaries: the malicious clients among the selected (recorded by the run, never read by the rounds). */
  maliciousClients?: number[];
  /** The strategy's own figures for the round (FedNova's tauEffective, q-FedAvg's stepScale and start losses). */
  strategy?: Record<string, number>;
  /** What the client state store holds after the round (runs whose clients keep state). */
  clientState?: ClientStateUsage;
  /**
   * evaluation.federated rounds: the clients' scores of the model after the round on their
   * held-out samples (weighted and unweighted mean, std, p10 and worst; see evaluation-summary.ts).
   */
  federatedEvaluation?: Record<string, number>;
  federatedEvalMs?: number;
}

/** One client's progress through a round, for live views. */
export interface ClientEvent {
  round: number;
  clientId: number;
  state: 'selected' | 'training' | 'done' | 'dropped' | 'straggler' | 'rejected';
  workerId?: string;
  reason?: string;
  /** 'done': the client's local samples × epochs trained, and how long it took in the worker. */
  samplesTrained?: number;
  trainMs?: number;
}
