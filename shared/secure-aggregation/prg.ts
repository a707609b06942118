/**
 * The PRG that expands a 32-byte seed into a mask vector in Z_{2^32}^L (PRG in Bonawitz et al.,
 * CCS 2017, §3): the AES-256-CTR keystream under key = seed, IV = 0, read as little-endian
 * 32-bit words. A zero IV is safe because every seed keys exactly one stream (self-mask seeds are
 * fresh random values; pairwise seeds come out of HKDF with a per-session salt).
 *
 * AES-CTR because OpenSSL runs it on AES-NI where the CPU has it (ChaCha20 through node:crypto
 * was no faster on the 2-core dev machine). The keystream is produced in 64 KiB slices and
 * folded into the accumulator at once, so a 4 MB mask never exists in full and the slice stays in
 * cache.
 */
import { createCipheriv } from 'node:crypto';
import { endianness } from 'node:os';
import { SecAggError } from './errors.js';

export const SEED_BYTES = 32;

const SLICE_WORDS = 16_384;
const ZEROS = Buffer.alloc(SLICE_WORDS * 4);
const IV = Buffer.alloc(16);

// Client and server must expand identical masks; both read the keystream through a native-endian
// Uint32Array view, which is only the specified little-endian order on little-endian hosts.
if (endianness() !== 'LE') throw new Error('secure aggregation PRG assumes a little-endian host');

/** acc ← acc + sign · PRG(seed) (mod 2^32), in place. */
export function addMask(acc: Uint32Array, seed: Uint8Array, sign: 1 | -1): void {
  if (seed.length !== SEED_BYTES) throw new SecAggError('invalid-argument', `PRG seed must be ${SEED_BYTES} bytes, got ${seed.length}`);
  const cipher = createCipheriv('aes-256-ctr', seed, IV);
  const aligned = new Uint32Array(SLICE_WORDS);
  for (let offset = 0; offset < acc.length; offset += SLICE_WORDS) {
    const n = Math.min(SLICE_WORDS, acc.length - offset);
    const stream = cipher.update(ZEROS.subarray(0, n * 4));
    let words: Uint32Array;
    if (stream.byteOffset % 4 === 0) {
      words = new Uint32Array(stream.buffer, stream.byteOffset, n);
    } else {
      new Uint8Array(aligned.buffer).set(stream);
      words = aligned;
    }
    if (sign === 1) {
      for (let i = 0; i < n; i++) acc[offset + i] = (acc[offset + i]! + words[i]!) >>> 0;
    } else {
      for (let i = 0; i < n; i++) acc[offset + i] = (acc[offset + i]! - words[i]!) >>> 0;
    }
  }
}

/** PRG(seed) as a fresh vector (tests and inspection; the protocol folds masks in with addMask). */
export function expandMask(seed: Uint8Array, length: number): Uint32Array {
  const out = new Uint32Array(length);
  addMask(out, seed, 1);
  return out;
}
