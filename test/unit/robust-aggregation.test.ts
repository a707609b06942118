/**
 * The robust aggregators on hand-made vectors: exact medians and trimmed means, Krum picking the
 * planted honest update, Multi-Krum's and Bulyan's selections, centered clipping's fixed point,
 * results independent of arrival order (their scenario refusals: scenario-validation.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { AggregatorFactory } from '../../coordinator/aggregation/aggregator.js';
import { checkBufferedMemory } from '../../coordinator/aggregation/build-aggregation.js';
import type { BufferedUpdate } from '../../coordinator/aggregation/buffered-updates.js';
import { bulyan, meanNearMedian } from '../../coordinator/aggregation/bulyan.js';
import { centeredClip, centeredClipping } from '../../coordinator/aggregation/centered-clipping.js';
import { multiKrum, multiKrumSelection } from '../../coordinator/aggregation/krum.js';
import { median } from '../../coordinator/aggregation/median.js';
import { normBound } from '../../coordinator/aggregation/norm-bound.js';
import { trimmedMean } from '../../coordinator/aggregation/trimmed-mean.js';

function updatesOf(vectors: Record<number, number[]>): BufferedUpdate[] {
  return Object.entries(vectors).map(([id, values]) => ({ clientId: Number(id), delta: Float32Array.from(values) }));
}

/** One round of `factory` over the updates, in the order given, each claiming a different weight. */
function aggregate(factory: AggregatorFactory, updates: readonly BufferedUpdate[]): Float32Array {
  const round = factory.create(1, updates[0]!.delta.length);
  updates.forEach(({ clientId, delta }, k) => round.accept({ clientId, delta, weight: 10 * (k + 1) }));
  return round.finish().delta as Float32Array;
}

const COLUMNS = updatesOf({ 1: [1, 10, -3], 2: [2, 20, 0], 3: [3, -5, 4], 4: [4, 0, 100], 5: [5, 1, -50] });

/**
 * Five honest updates around A = (0, 0) and two far outliers, client ids mixed so that neither
 * the first nor the last id is the answer. Krum scores with f = 2 (3 nearest): A 9, B 15, D 17,
 * C 21, E 32, outliers in the thousands.
 */
const PLANTED = updatesOf({ 0: [50, 50], 1: [0, -3], 2: [1, 0], 3: [-2, 0], 4: [-40, 60], 5: [0, 0], 6: [0, 2] });
const idsOf = (indices: number[]): number[] => indices.map((index) => PLANTED[index]!.clientId);

describe('coordinate-wise median and trimmed mean', () => {
  it('take the exact median of each coordinate, odd and even counts', () => {
    expect(Array.from(aggregate(median(), COLUMNS.slice(0, 3)))).toEqual([2, 10, 0]);
    expect(Array.from(aggregate(median(), COLUMNS.slice(0, 4)))).toEqual([2.5, 5, 2]);
  });

  it('trimmed mean drops ⌊β·n⌋ from each end of each coordinate, and is the mean at β = 0', () => {
    expect(Array.from(aggregate(trimmedMean(0.2), COLUMNS))).toEqual([3, Math.fround(11 / 3), Math.fround(1 / 3)]);
    expect(Array.from(aggregate(trimmedMean(0.1), COLUMNS))).toEqual([3, Math.fround(26 / 5), Math.fround(51 / 5)]);
  });
});

describe('Krum, Multi-Krum and Bulyan', () => {
  it('Krum returns the planted honest update among outliers, ignoring claimed weights', () => {
    expect(idsOf(multiKrumSelection(PLANTED, 2, 1))).toEqual([5]);
    expect(Array.from(aggregate(multiKrum('krum', 2, 1), PLANTED))).toEqual([0, 0]);
  });

  it('Multi-Krum averages the m lowest scores, uniformly', () => {
    expect(idsOf(multiKrumSelection(PLANTED, 2, 3))).toEqual([5, 2, 6]);
    expect(Array.from(aggregate(multiKrum('multi-krum', 2, 3), PLANTED))).toEqual([Math.fround(1 / 3), Math.fround(2 / 3)]);
  });

  it('Bulyan selects θ = n − 2f by Krum score, then averages the β = θ − 2f values nearest each median', () => {
    // f = 1: θ = 5, all honest (the outliers score ~2·10⁴); β = 3 per coordinate.
    expect(idsOf(multiKrumSelection(PLANTED, 1, 5)).sort()).toEqual([1, 2, 3, 5, 6]);
    expect(Array.from(aggregate(bulyan(1), PLANTED))).toEqual([0, 0]);
    // Nearest the median 2 is the window {0, 1, 2}, not the central {1, 2, 10} a symmetric trim keeps.
    expect(meanNearMedian(Float64Array.of(0, 1, 2, 10, 11), 3)).toBe(1);
  });

  it('fall back to the coordinate-wise median when too few updates arrived for f', () => {
    const few = PLANTED.slice(0, 4);
    const medianOfFew = Array.from(aggregate(median(), few));
    expect(Array.from(aggregate(multiKrum('krum', 2, 1), few))).toEqual(medianOfFew);
    expect(Array.from(aggregate(bulyan(1), PLANTED.slice(0, 6)))).toEqual(Array.from(aggregate(median(), PLANTED.slice(0, 6))));
  });
});

describe('centered clipping', () => {
  // One dimension, τ = 1: v ← v + (−2v + 1)/3 converges to the fixed point v = ½ from any start.
  const points = updatesOf({ 7: [0], 8: [0], 9: [10] });

  it('converges to the fixed point Σ clip_τ(xᵢ − v) = 0 and is the plain mean when all lie within τ', () => {
    expect(centeredClip(points, new Float64Array(1), 1, 60)[0]).toBeCloseTo(0.5, 12);
    expect(Array.from(centeredClip(updatesOf({ 1: [0.25], 2: [0.5] }), new Float64Array(1), 1, 1))).toEqual([0.375]);
  });

  it("starts from the previous round's aggregate, and exports and restores it", () => {
    const factory = centeredClipping({ tau: 1, iterations: 60, start: 'previous' });
    expect(aggregate(factory, points)[0]).toBe(0.5);
    const oneStep = centeredClipping({ tau: 1, iterations: 1, start: 'previous' });
    oneStep.restoreState(JSON.parse(JSON.stringify(factory.exportState())) as Record<string, unknown>);
    // From the fixed point one step stays there; from zero it would reach only ⅓.
    expect(aggregate(oneStep, points)[0]).toBe(0.5);
    expect(aggregate(centeredClipping({ tau: 1, iterations: 1, start: 'zero' }), points)[0]).toBe(Math.fround(1 / 3));
  });
});

describe('every robust aggregator', () => {
  const factories = (): AggregatorFactory[] => [
    median(),
    trimmedMean(0.2),
    multiKrum('krum', 2, 1),
    multiKrum('multi-krum', 2, 3),
    bulyan(1),
    centeredClipping({ tau: 5, iterations: 3, start: 'zero' }),
  ];

  it('gives bit-identical results whatever order the updates arrive in', () => {
    const shuffled = [PLANTED[4]!, PLANTED[6]!, PLANTED[0]!, PLANTED[2]!, PLANTED[5]!, PLANTED[1]!, PLANTED[3]!];
    const reversed = [...PLANTED].reverse();
    for (const [a, b, c] of factories().map((f, k) => [aggregate(f, PLANTED), aggregate(factories()[k]!, shuffled), aggregate(factories()[k]!, reversed)])) {
      expect(b).toEqual(a);
      expect(c).toEqual(a);
    }
  });

  it('is refused a secure sum and counted by the buffered-memory check, also inside a norm bound', () => {
    for (const factory of factories()) {
      expect(factory.buffersUpdates && !factory.acceptsSecureSum).toBe(true);
      expect(() => factory.create(1, 2).acceptSecureSum({ sum: new Float32Array(2), clients: 3 })).toThrow(/needs individual updates/);
      expect(() => checkBufferedMemory(normBound(10, factory), 100, 1_663_370, 512)).toThrow(/keeps every update of a round/);
    }
  });
});

describe('a fallback is recorded', () => {
  const updates = [[1], [2], [9]].map((values, clientId) => ({ clientId, delta: Float32Array.from(values), weight: 1 }));

  function finishWith(factory: AggregatorFactory) {
    const round = factory.create(1, 1);
    for (const update of updates) round.accept(update);
    return round.finish();
  }

  it('Krum and Bulyan with too few arrivals take the median and say why; a run that could use them records nothing', () => {
    expect(finishWith(multiKrum('krum', 1, 1))).toEqual({
      delta: Float32Array.from([2]),
      measurements: { fallback: { fallback: 'median', reason: 'krum needs n ≥ 2f + 3 = 5 updates (got 3)' } },
    });
    expect(finishWith(bulyan(1)).measurements.fallback).toEqual({ fallback: 'median', reason: 'bulyan needs n ≥ 4f + 3 = 7 updates (got 3)' });
    expect(finishWith(multiKrum('krum', 0, 1)).measurements).toEqual({});
  });
});
