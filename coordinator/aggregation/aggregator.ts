/**
 * Aggregators, in the manner of TensorFlow Federated's aggregation factories: a chain of small
 * factories (mean, clipping, noise, secure sum) that each wrap an inner one. One round's
 * aggregator accepts validated client updates one at a time (or, under secure aggregation, the
 * protocol's single sum) and finishes with the aggregate delta and its measurements. A factory
 * also says what the round's clients must be told (a clip norm, local noise) and the norm an
 * update may not exceed, and keeps state across rounds (an adaptive clip norm) for checkpoints.
 */
import type { MessageHeader } from '../../shared/protocol/messages.js';

/** What every client of a DP round is told: its clip norm, and under local DP its own noise. */
export type TaskPrivacy = NonNullable<MessageHeader<'task'>['privacy']>;

export interface UpdateIn {
  clientId: number;
  /** w_local − w_global, already checked (length, finite values, norm bound). */
  delta: Float32Array;
  /** The weight a weighted mean gives it: local samples, scaled down for partial work. */
  weight: number;
  /** DP runs: the client's update was inside the clip norm before clipping. */
  unclipped?: boolean;
}

/**
 * What secure aggregation hands the chain instead of updates: the unmasked sum of the survivors'
 * clipped updates, each counted once. Individual updates (and so sample weights) never reach
 * the coordinator, so a mean over it is uniform.
 */
export interface SecureSumIn {
  /** Σ Δₖ over the survivors, decoded from fixed point. */
  sum: Float32Array;
  clients: number;
  /** DP adaptive clipping: survivors whose update was inside the clip norm (summed securely too). */
  unclipped?: number;
}

/** A DP round's facts, for the accountant and the metrics line. */
export interface AggregationMeasurements {
  clipNorm?: number;
  /** The clip norm the next round will use (changes under adaptive clipping). */
  nextClipNorm?: number;
  /** Noised fraction of clients whose update was within the clip norm (adaptive clipping). */
  unclippedFraction?: number;
  /** A robust aggregator that could not run as configured this round: what it used instead, and why. */
  fallback?: { fallback: string; reason: string };
}

export interface AggregateOutput {
  /** The aggregate update to add to the global model; null when nothing arrived and nothing is due. */
  delta: Float32Array | Float64Array | null;
  measurements: AggregationMeasurements;
}

export interface RoundAggregator {
  accept(update: UpdateIn): void;
  acceptSecureSum(secure: SecureSumIn): void;
  finish(): AggregateOutput;
}

/** What a round's updates must satisfy, and what its clients are told to make them so. */
export interface RoundRules {
  /** Updates with a larger L2 norm are refused and counted as rejected. */
  maxNorm?: number;
  /** DP: the clip norm (and local noise) every client applies before sending. */
  clientPrivacy?: TaskPrivacy;
}

export interface AggregatorFactory {
  readonly name: string;
  /**
   * True when the aggregator needs every update of the round at once (a median, Krum): the round
   * buffers them, and the memory that takes is checked against a limit before round 1.
   */
  readonly buffersUpdates: boolean;
  /** False when the maths needs individual updates, which secure aggregation never reveals. */
  readonly acceptsSecureSum: boolean;
  rules(round: number): RoundRules;
  /** Server-side work a round needs before it can finish (FLTrust's root update), run while the clients train. */
  prepareRound?(round: number, global: Float32Array): Promise<void>;
  create(round: number, parameterCount: number): RoundAggregator;
  /** State that outlives a round (e.g. an adaptive clip norm), for checkpoints. */
  exportState(): Record<string, unknown>;
  restoreState(state: Record<string, unknown>): void;
}

/** A factory that only passes rules and state through to the one it wraps. */
export abstract class WrappingFactory implements AggregatorFactory {
  abstract readonly name: string;
  constructor(protected readonly inner: AggregatorFactory) {}
  get buffersUpdates(): boolean {
    return this.inner.buffersUpdates;
  }
  get acceptsSecureSum(): boolean {
    return this.inner.acceptsSecureSum;
  }
  rules(round: number): RoundRules {
    return this.inner.rules(round);
  }
  async prepareRound(round: number, global: Float32Array): Promise<void> {
    await this.inner.prepareRound?.(round, global);
  }
  abstract create(round: number, parameterCount: number): RoundAggregator;
  exportState(): Record<string, unknown> {
    return { inner: this.inner.exportState() };
  }
  restoreState(state: Record<string, unknown>): void {
    this.inner.restoreState((state.inner ?? {}) as Record<string, unknown>);
  }
}
