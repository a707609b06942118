/**
 * Ratings for collaborative filtering, generated: no ratings data set installs from npm (no
 * MovieLens package), so a seeded low-rank model stands in, with the two properties that make
 * federated recommendation hard, one client per user and skewed popularity:
 *
 *   p_u, q_i ~ N(0, I/rank)        b_i ~ N(0, itemBiasStd²)
 *   r_ui = clip(3 + scale·p_u·q_i + b_i + ε, 1, 5),   ε ~ N(0, noise²)
 *
 * User u rates n_u items (lognormal around meanRatings, at least 5, at most all of them), drawn
 * without replacement with probability ∝ (rank of the item's popularity)^(−popularity), Zipf-like:
 * a few items are rated by most users, most by few. Features are [user, item] ids; a share of
 * each user's ratings is the test set. Each user's ratings come from its own random stream.
 */
import type { Rng } from '../random.js';
import type { Dataset } from './dataset.js';

export interface RatingsOptions {
  users: number;
  items: number;
  rank: number;
  meanRatings: number;
  /** Zipf exponent of item popularity (0: uniform). */
  popularity: number;
  noise: number;
  testFraction: number;
}

const SCALE = 1.5;
const ITEM_BIAS_STD = 0.4;
const MIN_RATINGS = 5;

export function generateRatings(options: RatingsOptions, rng: Rng): Dataset {
  const { users, items, rank } = options;
  const factors = rng.fork('item-factors');
  const itemFactors = Float64Array.from({ length: items * rank }, () => factors.normal(0, 1 / Math.sqrt(rank)));
  const itemBias = Float64Array.from({ length: items }, () => factors.normal(0, ITEM_BIAS_STD));
  // Item i's popularity rank is a seeded permutation, so popular items are not the low ids.
  const order = rng.fork('popularity').sampleWithoutReplacement(items, items);
  const weight = new Float64Array(items);
  order.forEach((item, position) => (weight[item] = Math.pow(position + 1, -options.popularity)));

  const train: number[][] = [];
  const test: number[][] = [];
  const naturalPartition: number[][] = [];
  for (let u = 0; u < users; u++) {
    const r = rng.fork(`user:${u}`);
    const p = Float64Array.from({ length: rank }, () => r.normal(0, 1 / Math.sqrt(rank)));
    const count = Math.min(items, Math.max(MIN_RATINGS, Math.round(r.logNormal(Math.log(options.meanRatings) - 0.125, 0.5))));
    const rated = weightedSampleWithoutReplacement(weight, count, r);
    const testCount = Math.min(Math.round(count * options.testFraction), count - 1);
    const own: number[] = [];
    rated.forEach((item, j) => {
      let dot = 0;
      for (let k = 0; k < rank; k++) dot += p[k]! * itemFactors[item * rank + k]!;
      const rating = Math.min(5, Math.max(1, 3 + SCALE * dot + itemBias[item]! + r.normal(0, options.noise)));
      if (j < testCount) test.push([u, item, rating]);
      else {
        own.push(train.length);
        train.push([u, item, rating]);
      }
    });
    naturalPartition.push(own);
  }
  return {
    name: 'synthetic-ratings',
    task: 'regression',
    featureShape: [2],
    featureSize: 2,
    numClasses: 0,
    categories: [users, items],
    train: splitOf(train),
    test: splitOf(test),
    naturalPartition,
    description: `synthetic ratings: ${users} users × ${items} items, rank ${rank}, Zipf popularity ${options.popularity}, ${train.length + test.length} ratings (generated, one client per user)`,
  };
}

function splitOf(rows: number[][]): Dataset['train'] {
  const features = new Float32Array(rows.length * 2);
  const labels = new Float32Array(rows.length);
  rows.forEach(([user, item, rating], i) => {
    features[2 * i] = user!;
    features[2 * i + 1] = item!;
    labels[i] = rating!;
  });
  return { features, labels, count: rows.length };
}

/** `count` distinct indices, each draw ∝ its weight among those left (Efraimidis–Spirakis keys). */
function weightedSampleWithoutReplacement(weight: Float64Array, count: number, rng: Rng): number[] {
  const keys = Array.from(weight, (w, i) => ({ i, key: Math.log(Math.max(rng.next(), Number.MIN_VALUE)) / w }));
  keys.sort((a, b) => b.key - a.key || a.i - b.i);
  return keys.slice(0, count).map((k) => k.i);
}
