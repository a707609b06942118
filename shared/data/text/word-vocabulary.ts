/**
 * Token ids for words, the way Keras prepares its IMDB data: the most frequent words of the
 * training text get ids from 2 up, 0 is padding, 1 stands for every other word, and each text
 * becomes exactly one row of `sequenceLength` ids.
 */
import type { WordIndex } from './word-index.js';

export const PADDING_ID = 0;
export const OUT_OF_VOCABULARY_ID = 1;
/** The most frequent word's id: 0 and 1 are taken. */
export const FIRST_WORD_ID = 2;

export class WordVocabulary {
  private constructor(
    /** Word number (WordIndex) → token id; numbers past its end are words first seen later. */
    private readonly tokenIds: Int32Array,
    /** The words by id: words[k] has id FIRST_WORD_ID + k. */
    readonly words: readonly string[],
  ) {}

  /**
   * The `size − 2` most frequent words of `texts` (word numbers from `index`). Equal counts go by
   * the words' UTF-16 code units, not by first appearance or locale, so every process that counts
   * the same texts gets the same ids. Texts with fewer distinct words leave the top ids unused.
   */
  static fromTexts(texts: Iterable<Int32Array>, index: WordIndex, size: number): WordVocabulary {
    if (!Number.isInteger(size) || size <= FIRST_WORD_ID) {
      throw new RangeError(
        `vocabulary size: out of range (got ${size}, expected an integer above ${FIRST_WORD_ID}: ids 0 and 1 are padding and out-of-vocabulary)`,
      );
    }
    const counts = new Int32Array(index.size);
    for (const text of texts) for (const number of text) counts[number]! += 1;
    const seen = Array.from({ length: index.size }, (_, number) => number).filter((number) => counts[number]! > 0);
    const ranked = seen.map((number) => ({ number, word: index.word(number), count: counts[number]! })).sort(byCountThenWord);
    const kept = ranked.slice(0, size - FIRST_WORD_ID);
    const tokenIds = new Int32Array(index.size).fill(OUT_OF_VOCABULARY_ID);
    kept.forEach(({ number }, rank) => (tokenIds[number] = FIRST_WORD_ID + rank));
    return new WordVocabulary(
      tokenIds,
      kept.map(({ word }) => word),
    );
  }

  tokenId(wordNumber: number): number {
    return this.tokenIds[wordNumber] ?? OUT_OF_VOCABULARY_ID;
  }

  /**
   * Writes a text's words as exactly `row.length` ids. A longer text keeps its LAST words (Keras
   * pad_sequences' default, truncating 'pre'): a review tends to end on its verdict. A shorter one
   * is padded at the start (padding 'pre'), so a recurrent model's final state has just read the
   * text rather than a run of padding.
   */
  encode(text: Int32Array, row: Float32Array): void {
    const kept = Math.min(text.length, row.length);
    const padding = row.length - kept;
    const first = text.length - kept;
    row.fill(PADDING_ID, 0, padding);
    for (let j = 0; j < kept; j++) row[padding + j] = this.tokenId(text[first + j]!);
  }
}

function byCountThenWord(a: { word: string; count: number }, b: { word: string; count: number }): number {
  if (a.count !== b.count) return b.count - a.count;
  return a.word < b.word ? -1 : a.word > b.word ? 1 : 0;
}
