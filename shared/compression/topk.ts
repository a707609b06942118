/**
 * Top-k sparsification: keep the k = round(ratio · n) values of largest magnitude (at least 1
 * of a non-empty vector) as (index, value) pairs; the rest are sent as zero. Biased on its own:
 * pair it with error feedback (error-feedback.ts) so the dropped mass is sent later.
 *
 * Body: k (u32), k ascending indices (u32), then the k values as an inner block of any value
 * codec (fp32 when alone: 8 bytes a pair; fp16 in "topk>fp16": 6 bytes a pair). Ties at the
 * threshold go to the lower index, so encoding is deterministic.
 */
import type { Rng } from '../random.js';
import { CodecError, HEADER_BYTES, checkFinite, readHeader, startBlock, type VectorCodec } from './codec.js';

export function topkCount(length: number, ratio: number): number {
  if (!(ratio > 0 && ratio <= 1)) throw new RangeError(`codec topk: ratio must be in (0, 1] (got ${ratio})`);
  return length === 0 ? 0 : Math.min(length, Math.max(1, Math.round(ratio * length)));
}

export function topkCodec(ratio: number, values: VectorCodec): VectorCodec {
  topkCount(1, ratio);
  const size = (length: number) => {
    const k = topkCount(length, ratio);
    return HEADER_BYTES + 4 + 4 * k + values.encodedSize(k);
  };
  return {
    name: `topk(${ratio})>${values.name}`,
    encodedSize: size,
    encode(vector: Float32Array, rng: Rng): Uint8Array {
      checkFinite('topk', vector);
      const k = topkCount(vector.length, ratio);
      const indices = largestMagnitudes(vector, k);
      const kept = new Float32Array(k);
      for (let j = 0; j < k; j++) kept[j] = vector[indices[j]!]!;
      const inner = values.encode(kept, rng);
      const { bytes, view } = startBlock('topk', vector.length, HEADER_BYTES + 4 + 4 * k + inner.length);
      view.setUint32(HEADER_BYTES, k, true);
      for (let j = 0; j < k; j++) view.setUint32(HEADER_BYTES + 4 + 4 * j, indices[j]!, true);
      bytes.set(inner, HEADER_BYTES + 4 + 4 * k);
      return bytes;
    },
    decode: (bytes) => decodeTopkBlock(bytes, (inner) => values.decode(inner)),
  };
}

/** `decodeValues` decodes the inner block; it must hold exactly k values. */
export function decodeTopkBlock(bytes: Uint8Array, decodeValues: (inner: Uint8Array) => Float32Array): Float32Array {
  const { length, view } = readHeader(bytes, 'topk');
  if (bytes.length < HEADER_BYTES + 4) throw new CodecError(`topk block is ${bytes.length} bytes, too short for its count`);
  const k = view.getUint32(HEADER_BYTES, true);
  if (k > length) throw new CodecError(`topk block keeps ${k} values of a vector of ${length}`);
  const valuesAt = HEADER_BYTES + 4 + 4 * k;
  if (bytes.length < valuesAt + HEADER_BYTES)
    throw new CodecError(`topk block is ${bytes.length} bytes, truncated before its ${k} indices and values (need more than ${valuesAt})`);
  const values = decodeValues(bytes.subarray(valuesAt));
  if (values.length !== k) throw new CodecError(`topk block lists ${k} indices but ${values.length} values`);
  const out = new Float32Array(length);
  let previous = -1;
  for (let j = 0; j < k; j++) {
    const index = view.getUint32(HEADER_BYTES + 4 + 4 * j, true);
    if (index >= length) throw new CodecError(`topk block: index ${index} (pair ${j}) is outside a vector of ${length}`);
    if (index <= previous) throw new CodecError(`topk block: indices must be strictly increasing (pair ${j}: ${index} after ${previous})`);
    out[index] = values[j]!;
    previous = index;
  }
  return out;
}

/** Indices of the k largest |v[i]|, ascending; expected O(n) by selection, not a sort. */
export function largestMagnitudes(v: Float32Array, k: number): Uint32Array {
  const n = v.length;
  const out = new Uint32Array(k);
  if (k === 0) return out;
  const magnitudes = new Float32Array(n);
  for (let i = 0; i < n; i++) magnitudes[i] = Math.abs(v[i]!);
  const threshold = kthSmallest(magnitudes.slice(), n - k);
  let above = 0;
  for (let i = 0; i < n; i++) if (magnitudes[i]! > threshold) above++;
  let ties = k - above;
  let j = 0;
  for (let i = 0; i < n && j < k; i++) {
    const m = magnitudes[i]!;
    if (m > threshold || (m === threshold && ties-- > 0)) out[j++] = i;
  }
  return out;
}

/** The element of rank `rank` (0-based, ascending); reorders `a`. Quickselect, median-of-three (Numerical Recipes' `select`). */
function kthSmallest(a: Float32Array, rank: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const swap = (i: number, j: number) => {
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  };
  for (;;) {
    if (hi <= lo + 1) {
      if (hi === lo + 1 && a[hi]! < a[lo]!) swap(lo, hi);
      return a[rank]!;
    }
    swap((lo + hi) >>> 1, lo + 1);
    if (a[lo]! > a[hi]!) swap(lo, hi);
    if (a[lo + 1]! > a[hi]!) swap(lo + 1, hi);
    if (a[lo]! > a[lo + 1]!) swap(lo, lo + 1);
    let i = lo + 1;
    let j = hi;
    const pivot = a[lo + 1]!;
    for (;;) {
      do i++;
      while (a[i]! < pivot);
      do j--;
      while (a[j]! > pivot);
      if (j < i) break;
      swap(i, j);
    }
    a[lo + 1] = a[j]!;
    a[j] = pivot;
    if (j >= rank) hi = j - 1;
    if (j <= rank) lo = i;
  }
}
