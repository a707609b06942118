/**
 * Krum and Multi-Krum (Blanchard et al. 2017). With n updates of which up to f are Byzantine,
 * each update's score is the sum of its squared L2 distances to its n − f − 2 nearest others;
 * Krum returns the lowest-scoring update, Multi-Krum the unweighted mean of the m lowest.
 * Needs n > 2f + 2. Distances are summed in float64 over updates sorted by client id, and ties
 * go to the lower client id, so the choice never depends on arrival order.
 *
 * A round where fewer than 2f + 3 updates arrived (stragglers, offline devices) falls back to
 * the coordinate-wise median of what arrived rather than failing the run: the median needs no
 * f and still tolerates a minority of arbitrary updates. Multi-Krum's m is capped at n − f.
 */
import { z } from 'zod';
import type { AggregatorEntry } from './aggregator-entry.js';
import type { AggregatorFactory } from './aggregator.js';
import { bufferingFactory, medianFallback, type BufferedUpdate } from './buffered-updates.js';
import { meanOf } from './coordinate-statistics.js';

/** Krum's requirement n > 2f + 2, as the smallest n. */
export function krumMinimumClients(f: number): number {
  return 2 * f + 3;
}

/** Squared L2 distances between every pair, row-major n × n, in float64. */
export function squaredDistances(updates: readonly BufferedUpdate[]): Float64Array {
  const n = updates.length;
  const distances = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const x = updates[a]!.delta;
      const y = updates[b]!.delta;
      let sum = 0;
      for (let i = 0; i < x.length; i++) sum += (x[i]! - y[i]!) ** 2;
      distances[a * n + b] = sum;
      distances[b * n + a] = sum;
    }
  }
  return distances;
}

/** Each update's Krum score: the sum of its squared distances to its n − f − 2 nearest others. */
export function krumScores(distances: Float64Array, n: number, f: number): number[] {
  const neighbours = n - f - 2;
  return Array.from({ length: n }, (_, a) => {
    const row = Array.from({ length: n }, (_, b) => distances[a * n + b]!).filter((_, b) => b !== a);
    row.sort((p, q) => p - q);
    return row.slice(0, neighbours).reduce((sum, d) => sum + d, 0);
  });
}

/**
 * The indices of the m lowest Krum scores, lowest first; ties go to the lower index, which is the
 * lower client id. Needs n ≥ 2f + 3.
 */
export function multiKrumSelection(updates: readonly BufferedUpdate[], f: number, m: number): number[] {
  const scores = krumScores(squaredDistances(updates), updates.length, f);
  return updates
    .map((_, index) => index)
    .sort((a, b) => scores[a]! - scores[b]! || a - b)
    .slice(0, m);
}

export function multiKrum(name: string, f: number, m: number): AggregatorFactory {
  return bufferingFactory(name, (updates) => {
    if (updates.length < krumMinimumClients(f))
      return medianFallback(updates, `${name} needs n ≥ 2f + 3 = ${krumMinimumClients(f)} updates (got ${updates.length})`);
    const chosen = multiKrumSelection(updates, f, Math.min(m, updates.length - f));
    return meanOf(chosen.map((index) => updates[index]!));
  });
}

const byzantine = z.number().int().min(0).describe('f: how many Byzantine updates a round may hold');

const krumSchema = z.strictObject({ name: z.literal('krum'), f: byzantine.default(1) });

const multiKrumSchema = z.strictObject({
  name: z.literal('multi-krum'),
  f: byzantine.default(1),
  m: z.number().int().min(1).describe('how many of the lowest-scoring updates are averaged').default(2),
});

/** Krum's bound on f for the scenario's clients per round. */
function fProblems(name: string, f: number, clientsPerRound: number): string[] {
  if (clientsPerRound >= krumMinimumClients(f)) return [];
  const expected = clientsPerRound >= 3 ? `f at most ${Math.floor((clientsPerRound - 3) / 2)}` : 'clientsPerRound at least 3';
  return [
    `strategy.aggregator.f: ${name} needs more than 2f + 2 = ${2 * f + 2} clients per round (got f ${f} with clientsPerRound ${clientsPerRound}, expected ${expected})`,
  ];
}

export const KRUM = {
  name: 'krum',
  description: 'the one update closest to its n − f − 2 nearest others (Blanchard et al. 2017; needs n > 2f + 2)',
  schema: krumSchema,
  create: (spec) => multiKrum('krum', krumSchema.parse(spec).f, 1),
  cohortProblems: (spec, clientsPerRound) => fProblems('krum', krumSchema.parse(spec).f, clientsPerRound),
} satisfies AggregatorEntry;

export const MULTI_KRUM = {
  name: 'multi-krum',
  description: 'unweighted mean of the m updates with the lowest Krum scores (needs n > 2f + 2, m ≤ n − f)',
  schema: multiKrumSchema,
  create: (spec) => {
    const { f, m } = multiKrumSchema.parse(spec);
    return multiKrum('multi-krum', f, m);
  },
  cohortProblems: (spec, clientsPerRound) => {
    const { f, m } = multiKrumSchema.parse(spec);
    const problems = fProblems('multi-krum', f, clientsPerRound);
    if (m > clientsPerRound - f) {
      problems.push(
        `strategy.aggregator.m: multi-krum selects at most n − f updates (got m ${m} with clientsPerRound ${clientsPerRound} and f ${f}, expected m at most ${Math.max(clientsPerRound - f, 1)})`,
      );
    }
    return problems;
  },
} satisfies AggregatorEntry;
