/**
 * Text → words, each word numbered by its first appearance (a WordIndex), so that counting and
 * encoding 11 million IMDB words work on integers rather than strings.
 *
 * The word rule: lowercase; an HTML tag such as `<br />` (the IMDB reviews' line breaks) or
 * `<i>` reads as a space; a word is a run of letters and digits (Unicode, Basic Multilingual
 * Plane), and an apostrophe between two such runs joins them ("don't", "costner's") while one
 * at a word's edge is dropped ('this' → this). Everything else separates words: punctuation,
 * hyphens ("barely-tapped" → barely, tapped), symbols. The typographic apostrophe ’ counts as '.
 *
 * The scan below is hand-written rather than a regex match because a Map lookup per matched
 * substring (which must be hashed afresh) took two thirds of the time to load IMDB; hashing while
 * scanning and comparing against the stored word in place allocates a string per new word only.
 */

const TAG = /<\/?[a-z][a-z0-9]*(?:\s[^<>]*)?\/?>/gi;
const TYPOGRAPHIC_APOSTROPHE = /\u2019/g;
const APOSTROPHE = 0x27;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** 1 for the UTF-16 code units that are letters or digits; a table, as the scan reads every character. */
const IS_WORD_CHARACTER = wordCharacterTable();

function wordCharacterTable(): Uint8Array {
  const letterOrDigit = /[\p{L}\p{N}]/u;
  const table = new Uint8Array(0x10000);
  for (let code = 0; code < table.length; code++) table[code] = letterOrDigit.test(String.fromCharCode(code)) ? 1 : 0;
  return table;
}

/** The text the word rule scans: tags as spaces, one apostrophe, lowercase. */
export function plainText(text: string): string {
  return text.replace(TAG, ' ').replace(TYPOGRAPHIC_APOSTROPHE, "'").toLowerCase();
}

/** The words of `text` by the rule above (in a fresh index, so for inspection, not bulk work). */
export function textWords(text: string): string[] {
  const index = new WordIndex();
  return Array.from(index.indicesOf(text), (i) => index.word(i));
}

/** Distinct words numbered 0, 1, 2, … in the order they are first seen. */
export class WordIndex {
  private readonly words: string[] = [];
  private hashes = new Int32Array(1 << 12);
  /** Open addressing, linear probing: word number + 1, 0 for an empty slot; kept at most half full. */
  private slots = new Int32Array(1 << 13);

  get size(): number {
    return this.words.length;
  }

  word(index: number): string {
    const word = this.words[index];
    if (word === undefined) throw new RangeError(`WordIndex.word: no word numbered ${index} (expected 0 to ${this.words.length - 1})`);
    return word;
  }

  /** The word numbers of `text`'s words in order, numbering the words not seen before. */
  indicesOf(text: string): Int32Array {
    const plain = plainText(text);
    const found: number[] = [];
    let i = 0;
    while (i < plain.length) {
      while (i < plain.length && IS_WORD_CHARACTER[plain.charCodeAt(i)] === 0) i++;
      if (i === plain.length) break;
      const start = i;
      let hash = FNV_OFFSET;
      for (;;) {
        while (i < plain.length && IS_WORD_CHARACTER[plain.charCodeAt(i)] === 1) hash = Math.imul(hash ^ plain.charCodeAt(i++), FNV_PRIME);
        const joins = plain.charCodeAt(i) === APOSTROPHE && IS_WORD_CHARACTER[plain.charCodeAt(i + 1)] === 1;
        if (!joins) break;
        hash = Math.imul(hash ^ APOSTROPHE, FNV_PRIME);
        i++;
      }
      found.push(this.numberOf(plain, start, i, hash));
    }
    return Int32Array.from(found);
  }

  private numberOf(text: string, start: number, end: number, hash: number): number {
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const stored = this.slots[slot]! - 1;
      if (stored < 0) return this.add(text.slice(start, end), hash, slot);
      if (this.hashes[stored] === hash && sameWord(this.words[stored]!, text, start, end)) return stored;
    }
  }

  private add(word: string, hash: number, slot: number): number {
    const number = this.words.length;
    this.words.push(word);
    this.slots[slot] = number + 1;
    if (number === this.hashes.length) this.hashes = grown(this.hashes);
    this.hashes[number] = hash;
    if (2 * this.words.length > this.slots.length) this.rehash();
    return number;
  }

  private rehash(): void {
    this.slots = new Int32Array(2 * this.slots.length);
    const mask = this.slots.length - 1;
    for (let number = 0; number < this.words.length; number++) {
      let slot = this.hashes[number]! & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = number + 1;
    }
  }
}

function sameWord(word: string, text: string, start: number, end: number): boolean {
  if (word.length !== end - start) return false;
  for (let k = 0; k < word.length; k++) if (word.charCodeAt(k) !== text.charCodeAt(start + k)) return false;
  return true;
}

function grown(array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const larger = new Int32Array(2 * array.length);
  larger.set(array);
  return larger;
}
