/**
 * Per-coordinate order statistics over a round's updates (median, trimmed means), the shared
 * core of the coordinate-wise defences. Each coordinate's values are copied into float64 and
 * sorted, so the result depends only on the multiset of values, never on the update order; sums
 * over a sorted column are taken in float64.
 */
import type { BufferedUpdate } from './buffered-updates.js';
import { WeightedSum } from './weighted-sum.js';

/** Applies `statistic` to every coordinate's values, sorted ascending. */
export function coordinateWise(updates: readonly BufferedUpdate[], statistic: (sorted: Float64Array) => number): Float32Array {
  const length = updates[0]!.delta.length;
  const column = new Float64Array(updates.length);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    for (let k = 0; k < updates.length; k++) column[k] = updates[k]!.delta[i]!;
    column.sort();
    out[i] = statistic(column);
  }
  return out;
}

export function medianOfSorted(sorted: Float64Array): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The mean of sorted[from, to), summed in float64. */
export function meanOfRange(sorted: Float64Array, from: number, to: number): number {
  let sum = 0;
  for (let k = from; k < to; k++) sum += sorted[k]!;
  return sum / (to - from);
}

export function coordinateMedian(updates: readonly BufferedUpdate[]): Float32Array {
  return coordinateWise(updates, medianOfSorted);
}

/** The unweighted mean of some updates, in the order-independent double-double sum the means use. */
export function meanOf(updates: readonly BufferedUpdate[]): Float32Array {
  const sum = new WeightedSum(updates[0]!.delta.length);
  for (const update of updates) sum.add(update.delta, 1);
  return sum.result();
}
