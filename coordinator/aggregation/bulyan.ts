/**
 * Bulyan (El Mhamdi et al. 2018): Multi-Krum's selection of θ = n − 2f updates (the θ lowest
 * Krum scores, computed once over all n: the paper's recursive Krum would score its last picks
 * among fewer than 2f + 3 updates, where Krum's own bound fails), then per coordinate the mean of
 * the β = θ − 2f selected values closest to their median. Needs n ≥ 4f + 3. Unweighted, float64 sums, order-independent
 * (updates sorted by client id, ties to the lower id; window ties to the lower values).
 *
 * A round where fewer than 4f + 3 updates arrived falls back to the coordinate-wise median of
 * what arrived, as Krum does, instead of failing the run.
 */
import { z } from 'zod';
import type { AggregatorEntry } from './aggregator-entry.js';
import type { AggregatorFactory } from './aggregator.js';
import { bufferingFactory, medianFallback } from './buffered-updates.js';
import { coordinateWise, meanOfRange, medianOfSorted } from './coordinate-statistics.js';
import { multiKrumSelection } from './krum.js';

export function bulyanMinimumClients(f: number): number {
  return 4 * f + 3;
}

/** The mean of the `keep` sorted values nearest the median: the tightest window around it. */
export function meanNearMedian(sorted: Float64Array, keep: number): number {
  const middle = medianOfSorted(sorted);
  let start = 0;
  let widest = Infinity;
  for (let from = 0; from + keep <= sorted.length; from++) {
    const reach = Math.max(middle - sorted[from]!, sorted[from + keep - 1]! - middle);
    if (reach < widest) [start, widest] = [from, reach];
  }
  return meanOfRange(sorted, start, start + keep);
}

export function bulyan(f: number): AggregatorFactory {
  return bufferingFactory('bulyan', (updates) => {
    if (updates.length < bulyanMinimumClients(f))
      return medianFallback(updates, `bulyan needs n ≥ 4f + 3 = ${bulyanMinimumClients(f)} updates (got ${updates.length})`);
    const selected = multiKrumSelection(updates, f, updates.length - 2 * f).map((index) => updates[index]!);
    const keep = selected.length - 2 * f;
    return coordinateWise(selected, (sorted) => meanNearMedian(sorted, keep));
  });
}

const schema = z.strictObject({
  name: z.literal('bulyan'),
  f: z.number().int().min(0).describe('f: how many Byzantine updates a round may hold').default(1),
});

export const BULYAN = {
  name: 'bulyan',
  description: 'Multi-Krum picks θ = n − 2f, then a per-coordinate mean of the θ − 2f values nearest the median (needs n ≥ 4f + 3)',
  schema,
  create: (spec) => bulyan(schema.parse(spec).f),
  cohortProblems: (spec, clientsPerRound) => {
    const { f } = schema.parse(spec);
    if (clientsPerRound >= bulyanMinimumClients(f)) return [];
    const expected = clientsPerRound >= 3 ? `f at most ${Math.floor((clientsPerRound - 3) / 4)}` : 'clientsPerRound at least 3';
    return [
      `strategy.aggregator.f: bulyan needs at least 4f + 3 = ${bulyanMinimumClients(f)} clients per round (got f ${f} with clientsPerRound ${clientsPerRound}, expected ${expected})`,
    ];
  },
} satisfies AggregatorEntry;
