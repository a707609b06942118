/**
 * The round half of an aggregator that needs every update at once (median, trimmed mean, Krum,
 * Bulyan, centered clipping). It keeps the round's updates and hands them to one combine step,
 * sorted by client id, so that the result never depends on the order workers finished in.
 *
 * Robust statistics are unweighted by nature: each update counts once whatever its sample
 * count, because a weight is something a Byzantine client could claim freely. Under DP and
 * secure aggregation these aggregators are refused at validation (DP fixes its own mean; secure
 * aggregation never shows an update), and a secure sum reaching one is a bug.
 */
import { coordinateMedian } from './coordinate-statistics.js';
import type { AggregateOutput, AggregatorFactory, RoundAggregator, RoundRules, UpdateIn } from './aggregator.js';

export interface BufferedUpdate {
  clientId: number;
  delta: Float32Array;
}

/** A combine step's result when it fell back to another rule (too few arrivals for Krum's bound). */
export interface FallbackUpdate {
  delta: Float32Array;
  fallback: { fallback: string; reason: string };
}

/** One round's combine step, given the round's updates sorted by client id (at least one). */
export type CombineUpdates = (updates: readonly BufferedUpdate[]) => Float32Array | FallbackUpdate;

/** The coordinate-wise median of what arrived, recorded in the round's metrics with the reason. */
export function medianFallback(updates: readonly BufferedUpdate[], reason: string): FallbackUpdate {
  return { delta: coordinateMedian(updates), fallback: { fallback: 'median', reason } };
}

/** A stateless buffering factory: `combine` is all that differs between them. */
export function bufferingFactory(name: string, combine: CombineUpdates): AggregatorFactory {
  return {
    name,
    buffersUpdates: true,
    acceptsSecureSum: false,
    rules: (): RoundRules => ({}),
    create: () => new BufferedUpdates(name, combine),
    exportState: () => ({}),
    restoreState: () => {},
  };
}

export class BufferedUpdates implements RoundAggregator {
  private readonly updates: BufferedUpdate[] = [];

  constructor(
    private readonly name: string,
    private readonly combine: CombineUpdates,
  ) {}

  accept(update: UpdateIn): void {
    // The receiver decodes each update into its own array, so keeping the reference is safe.
    this.updates.push({ clientId: update.clientId, delta: update.delta });
  }

  acceptSecureSum(): never {
    throw new Error(`${this.name} needs individual updates; a secure sum cannot reach it (validation refuses the pairing)`);
  }

  finish(): AggregateOutput {
    if (this.updates.length === 0) return { delta: null, measurements: {} };
    const sorted = [...this.updates].sort((a, b) => a.clientId - b.clientId);
    const combined = this.combine(sorted);
    return combined instanceof Float32Array ? { delta: combined, measurements: {} } : { delta: combined.delta, measurements: { fallback: combined.fallback } };
  }
}
