/**
 * 8-bit stochastic uniform quantization (QSGD-style, Alistarh et al. 2017, with 255 levels),
 * per chunk of `chunkSize` values with a float32 scale s = max|x| / 127 of its own, so one large
 * value costs precision only in its chunk.
 *
 * x/s lies in [−127, 127]; it is rounded to one of its two neighbouring integers with
 * probabilities that make the rounding unbiased: q = ⌊x/s⌋ + 1 with probability x/s − ⌊x/s⌋.
 * Hence E[q·s] = x, and the variance per value is at most s²/4.
 *
 * Body: chunkSize (u32), then ⌈n / chunkSize⌉ scales (f32), then n codes (int8 in [−127, 127]).
 */
import type { Rng } from '../random.js';
import { CodecError, HEADER_BYTES, checkFinite, expectSize, readHeader, startBlock, type VectorCodec } from './codec.js';

export const DEFAULT_INT8_CHUNK = 1024;
const LEVELS = 127;
const UINT32_UNIT = 2 ** -32;

export function int8Codec(chunkSize = DEFAULT_INT8_CHUNK): VectorCodec {
  if (!(Number.isInteger(chunkSize) && chunkSize >= 1 && chunkSize <= 2 ** 31))
    throw new RangeError(`codec int8: chunkSize must be a whole number ≥ 1 (got ${chunkSize})`);
  const size = (length: number) => HEADER_BYTES + 4 + 4 * Math.ceil(length / chunkSize) + length;
  return {
    name: chunkSize === DEFAULT_INT8_CHUNK ? 'int8' : `int8(${chunkSize})`,
    encodedSize: size,
    encode(vector: Float32Array, rng: Rng): Uint8Array {
      checkFinite('int8', vector);
      const n = vector.length;
      const chunks = Math.ceil(n / chunkSize);
      const { bytes, view } = startBlock('int8', n, size(n));
      view.setUint32(HEADER_BYTES, chunkSize, true);
      const codes = new Int8Array(bytes.buffer, HEADER_BYTES + 4 + 4 * chunks, n);
      for (let c = 0; c < chunks; c++) {
        const start = c * chunkSize;
        const end = Math.min(n, start + chunkSize);
        let max = 0;
        for (let i = start; i < end; i++) max = Math.max(max, Math.abs(vector[i]!));
        const scale = scaleFor(max);
        view.setFloat32(HEADER_BYTES + 4 + 4 * c, scale, true);
        if (scale === 0) continue; // an all-zero chunk: codes stay 0
        for (let i = start; i < end; i++) {
          const y = vector[i]! / scale;
          const floor = Math.floor(y);
          // 32 random bits are plenty: the bias they leave is below 2^-32 of a level.
          codes[i] = floor + (rng.nextUint32() * UINT32_UNIT < y - floor ? 1 : 0);
        }
      }
      return bytes;
    },
    decode: (bytes) => decodeInt8Block(bytes),
  };
}

export function decodeInt8Block(bytes: Uint8Array): Float32Array {
  const { length, view } = readHeader(bytes, 'int8');
  if (bytes.length < HEADER_BYTES + 4) throw new CodecError(`int8 block is ${bytes.length} bytes, too short for its chunk size`);
  const chunkSize = view.getUint32(HEADER_BYTES, true);
  if (chunkSize === 0) throw new CodecError('int8 block: chunk size 0');
  const chunks = Math.ceil(length / chunkSize);
  expectSize('int8', bytes, HEADER_BYTES + 4 + 4 * chunks + length, `${length} values in ${chunks} chunks of ${chunkSize}`);
  const codes = new Int8Array(bytes.buffer, bytes.byteOffset + HEADER_BYTES + 4 + 4 * chunks, length);
  const out = new Float32Array(length);
  for (let c = 0; c < chunks; c++) {
    const scale = view.getFloat32(HEADER_BYTES + 4 + 4 * c, true);
    if (!(Number.isFinite(scale) && scale >= 0)) throw new CodecError(`int8 block: scale of chunk ${c} is ${scale}, expected a finite number ≥ 0`);
    const end = Math.min(length, (c + 1) * chunkSize);
    for (let i = c * chunkSize; i < end; i++) {
      if (codes[i] === -128) throw new CodecError(`int8 block: code −128 at index ${i} is outside the symmetric range [−127, 127]`);
      out[i] = codes[i]! * scale;
    }
  }
  return out;
}

/**
 * The float32 scale that is stored, chosen so that max / scale ≤ 127 holds for the stored value
 * itself: rounding max/127 to float32 may round down, and a code of 128 would not fit.
 */
function scaleFor(max: number): number {
  if (max === 0) return 0;
  let scale = Math.fround(max / LEVELS);
  while (scale === 0 || max / scale > LEVELS) scale = nextFloat32Up(scale);
  return scale;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function nextFloat32Up(x: number): number {
  f32[0] = x;
  u32[0] = u32[0]! + 1; // x ≥ 0 and finite: the next bit pattern is the next float32 up
  return f32[0];
}
