/**
 * IEEE 754 binary16 ("half") conversion, done on the float32 bit pattern so that rounding is
 * exactly round-to-nearest-even, subnormals included (Node 20 has no Math.f16round).
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Largest finite half, 65504; values from 65520 on round to infinity. */
export const HALF_MAX = 65504;

/** The half nearest to x (ties to even), as its 16-bit pattern; ±Infinity on overflow. */
export function float32ToHalfBits(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half: count units of 2^-24. The 24-bit significand m is worth m · 2^(e−38), so
    // shift right by 14 − e. Below 2^-25 (e < −10) everything rounds to zero.
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let half = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1; // may carry into the smallest normal: still the right pattern
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1; // a carry into the exponent, up to infinity, is correct rounding
  return sign | half;
}

let table: Float32Array | null = null;

/** The value of a 16-bit half pattern (exact in float32). */
export function halfBitsToFloat32(bits: number): number {
  table ??= buildTable();
  return table[bits & 0xffff]!;
}

/** All 65,536 halves, so that decoding is one lookup per value. */
function buildTable(): Float32Array {
  const out = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    let value: number;
    if (exponent === 0) value = mantissa * 2 ** -24;
    else if (exponent === 0x1f) value = mantissa === 0 ? Infinity : NaN;
    else value = (1 + mantissa / 1024) * 2 ** (exponent - 15);
    out[bits] = sign * value;
  }
  return out;
}
