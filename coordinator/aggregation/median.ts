/**
 * Coordinate-wise median (Yin et al. 2018): each parameter of the aggregate is the median of
 * that parameter over the round's updates. Tolerates fewer than half the updates being
 * arbitrary; unweighted (see buffered-updates.ts), so it needs every update of the round.
 */
import { z } from 'zod';
import type { AggregatorEntry } from './aggregator-entry.js';
import type { AggregatorFactory } from './aggregator.js';
import { bufferingFactory } from './buffered-updates.js';
import { coordinateMedian } from './coordinate-statistics.js';

export function median(): AggregatorFactory {
  return bufferingFactory('median', coordinateMedian);
}

export const MEDIAN = {
  name: 'median',
  description: 'coordinate-wise median of the updates (robust to < 50% arbitrary updates; unweighted)',
  schema: z.strictObject({ name: z.literal('median') }),
  create: () => median(),
} satisfies AggregatorEntry;
