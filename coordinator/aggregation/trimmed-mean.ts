/**
 * Coordinate-wise trimmed mean (Yin et al. 2018): per parameter, drop the ⌊β·n⌋ largest and the
 * ⌊β·n⌋ smallest of the n values and average the rest (unweighted, in float64). β < ½ always
 * leaves at least one value, so any round size works; with ⌊β·n⌋ = 0 it is the plain mean.
 */
import { z } from 'zod';
import type { AggregatorEntry } from './aggregator-entry.js';
import type { AggregatorFactory } from './aggregator.js';
import { bufferingFactory } from './buffered-updates.js';
import { coordinateWise, meanOfRange } from './coordinate-statistics.js';

export function trimmedMean(beta: number): AggregatorFactory {
  return bufferingFactory('trimmed-mean', (updates) => {
    const trimmed = Math.floor(beta * updates.length);
    return coordinateWise(updates, (sorted) => meanOfRange(sorted, trimmed, sorted.length - trimmed));
  });
}

const schema = z.strictObject({
  name: z.literal('trimmed-mean'),
  /** The fraction cut from each end of every coordinate's sorted values. */
  beta: z.number().min(0).lt(0.5, 'beta must be below 0.5: trimming half from each end leaves nothing').default(0.1),
});

export const TRIMMED_MEAN = {
  name: 'trimmed-mean',
  description: 'coordinate-wise mean after dropping the β fraction largest and smallest values (unweighted)',
  schema,
  create: (spec) => trimmedMean(schema.parse(spec).beta),
} satisfies AggregatorEntry;
