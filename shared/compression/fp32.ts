/**
 * float32 as is: the identity codec, so an uncompressed vector (or top-k's values without a
 * quantizer) travels in the same self-describing frame. Body: n little-endian float32.
 */
import type { Rng } from '../random.js';
import { CodecError, HEADER_BYTES, checkFinite, expectSize, readHeader, startBlock, type VectorCodec } from './codec.js';

export function fp32Codec(): VectorCodec {
  return {
    name: 'fp32',
    encodedSize: (length) => HEADER_BYTES + 4 * length,
    encode(vector: Float32Array, _rng: Rng): Uint8Array {
      checkFinite('fp32', vector);
      const { bytes } = startBlock('fp32', vector.length, HEADER_BYTES + 4 * vector.length);
      // Byte copies: fedsim refuses big-endian hosts at start, so memory order is little-endian.
      bytes.set(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength), HEADER_BYTES);
      return bytes;
    },
    decode: (bytes) => decodeFp32Block(bytes),
  };
}

export function decodeFp32Block(bytes: Uint8Array): Float32Array {
  const { length } = readHeader(bytes, 'fp32');
  expectSize('fp32', bytes, HEADER_BYTES + 4 * length, `${length} float32 values`);
  const out = new Float32Array(bytes.slice(HEADER_BYTES).buffer); // a copy, aligned and owning its memory
  for (let i = 0; i < length; i++) {
    if (!Number.isFinite(out[i]!)) throw new CodecError(`fp32 block: value ${out[i]} at index ${i} is not finite`);
  }
  return out;
}
