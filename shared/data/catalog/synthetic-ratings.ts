/** Generated low-rank ratings with skewed item popularity, one client per user (collaborative filtering). */
import { z } from 'zod';
import { positiveInt, probability } from '../../scenario/spec-fields.js';
import type { DatasetEntry } from '../dataset-entry.js';
import { generateRatings } from '../synthetic-ratings.js';

const SPEC = z.strictObject({
  name: z.literal('synthetic-ratings'),
  /** Items to rate (users are the partition's clients). */
  items: z.number().int().min(10).max(100_000).default(200),
  /** Rank of the true preference model. */
  rank: positiveInt.max(256).default(5),
  /** Mean ratings per user (lognormal, at least 5). */
  meanRatings: z.number().min(5).max(10_000).default(40),
  /** Zipf exponent of item popularity (0: every item equally likely to be rated). */
  popularity: z.number().min(0).max(3).default(1),
  /** Standard deviation of the rating noise. */
  noise: z.number().min(0).max(2).default(0.3),
  testFraction: probability.default(0.2),
});
export type RatingsSpec = z.output<typeof SPEC>;

export const SYNTHETIC_RATINGS = {
  name: 'synthetic-ratings',
  description: 'ratings 1–5 from a seeded low-rank model with Zipf item popularity, one client per user (generated, natural partition)',
  schema: SPEC,
  comesFederated: true,
  // One user per client of the partition.
  dataShape: (spec, context) => ({ task: 'regression', featureShape: [2], numClasses: 0, categories: [context.clients, spec.items] }),
  load: (spec, context, rng) =>
    generateRatings(
      {
        users: context.clients,
        items: spec.items,
        rank: spec.rank,
        meanRatings: spec.meanRatings,
        popularity: spec.popularity,
        noise: spec.noise,
        testFraction: spec.testFraction,
      },
      rng,
    ),
} satisfies DatasetEntry<RatingsSpec>;
