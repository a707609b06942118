/**
 * IEEE half precision, round-to-nearest-even: 2 bytes a value, relative error ≤ 2^-11 for
 * |x| ≥ 2^-14 and absolute error ≤ 2^-25 below. Body: n little-endian half patterns.
 * Deterministic, hence biased per value (by at most half a unit in the last place).
 */
import type { Rng } from '../random.js';
import { CodecError, HEADER_BYTES, checkFinite, expectSize, readHeader, startBlock, type VectorCodec } from './codec.js';
import { HALF_MAX, float32ToHalfBits, halfBitsToFloat32 } from './half-precision.js';

export function fp16Codec(): VectorCodec {
  return {
    name: 'fp16',
    encodedSize: (length) => HEADER_BYTES + 2 * length,
    encode(vector: Float32Array, _rng: Rng): Uint8Array {
      checkFinite('fp16', vector);
      const { bytes, view } = startBlock('fp16', vector.length, HEADER_BYTES + 2 * vector.length);
      for (let i = 0; i < vector.length; i++) {
        const bits = float32ToHalfBits(vector[i]!);
        // Overflow would silently turn an update into ±Infinity; say so instead.
        if ((bits & 0x7c00) === 0x7c00) throw new RangeError(`codec fp16: value ${vector[i]} at index ${i} is beyond half precision's range (±${HALF_MAX})`);
        view.setUint16(HEADER_BYTES + 2 * i, bits, true);
      }
      return bytes;
    },
    decode: (bytes) => decodeFp16Block(bytes),
  };
}

export function decodeFp16Block(bytes: Uint8Array): Float32Array {
  const { length, view } = readHeader(bytes, 'fp16');
  expectSize('fp16', bytes, HEADER_BYTES + 2 * length, `${length} half values`);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const bits = view.getUint16(HEADER_BYTES + 2 * i, true);
    if ((bits & 0x7c00) === 0x7c00)
      throw new CodecError(`fp16 block: value at index ${i} is ${bits & 0x3ff ? 'NaN' : 'infinite'} (0x${bits.toString(16)}), which no encoder produces`);
    out[i] = halfBitsToFloat32(bits);
  }
  return out;
}
