/**
 * Fixed-point encoding of clipped float updates into Z_{2^32}, the group the masks live in
 * (Bonawitz et al., CCS 2017, §3: inputs are vectors in Z_R^m with R large enough that the sum of
 * all inputs does not wrap).
 *
 * Encoding with b bits of precision for values clipped to [−c, c]:
 *
 *   scale s = (2^(b−1) − 1) / c,   q = round(v · s) ∈ [−(2^(b−1) − 1), 2^(b−1) − 1],   word = q mod 2^32
 *
 * The sum of n ≤ nMax such values satisfies |Σq| ≤ nMax · (2^(b−1) − 1) < 2^(b − 1 + ⌈log2 nMax⌉),
 * so it is exactly representable as a signed 32-bit integer — and decodes by reinterpreting the
 * summed word as int32 — whenever
 *
 *   b + ⌈log2 nMax⌉ ≤ 32        (bits for the range + bits for the cohort size).
 *
 * Each coordinate of the decoded sum is within n / (2s) = n·c / (2^b − 2) of the true float sum
 * (round-to-nearest error ≤ 1/(2s) per client). Rounding is deterministic so that the server's
 * sum can be checked bit for bit against the plain fixed-point sum.
 */
import { SecAggError } from './errors.js';

export const MODULUS_BITS = 32;

export interface FixedPointSpec {
  /** Every value lies in [−clip, clip]. */
  readonly clip: number;
  /** Largest cohort whose sum must not wrap. */
  readonly maxClients: number;
  /** Precision: quantisation levels per value = 2^bits − 1. */
  readonly bits: number;
  /** Multiplier from float to integer. */
  readonly scale: number;
}

/** Bits of headroom the sum of `n` values needs: ⌈log2 n⌉. */
export function cohortBits(n: number): number {
  return n <= 1 ? 0 : Math.ceil(Math.log2(n) - 1e-12);
}

/**
 * Picks the scale for values in [−clip, clip] summed over up to `maxClients` clients. Without
 * `bits`, uses the most precision the 32-bit modulus allows, 32 − ⌈log2 maxClients⌉.
 */
export function fixedPointSpec(options: { clip: number; maxClients: number; bits?: number }): FixedPointSpec {
  const { clip, maxClients } = options;
  if (!(clip > 0) || !Number.isFinite(clip)) throw new SecAggError('invalid-argument', `fixed point: clip must be a finite number > 0, got ${clip}`);
  if (!Number.isInteger(maxClients) || maxClients < 1) {
    throw new SecAggError('invalid-argument', `fixed point: maxClients must be a positive integer, got ${maxClients}`);
  }
  const headroom = cohortBits(maxClients);
  const bits = options.bits ?? MODULUS_BITS - headroom;
  if (!Number.isInteger(bits) || bits < 2) {
    throw new SecAggError(
      'invalid-argument',
      `fixed point: ${maxClients} clients leave ${MODULUS_BITS - headroom} bits per value in a 2^32 modulus; at least 2 are needed`,
    );
  }
  if (bits + headroom > MODULUS_BITS) {
    throw new SecAggError(
      'invalid-argument',
      `fixed point: ${bits} bits of precision for a sum over n = ${maxClients} clients needs ${bits} + ⌈log2 ${maxClients}⌉ = ` +
        `${bits + headroom} bits, more than the 32-bit modulus; use at most ${MODULUS_BITS - headroom} bits or fewer clients`,
    );
  }
  return { clip, maxClients, bits, scale: (2 ** (bits - 1) - 1) / clip };
}

/** Encodes one client's clipped update. Values beyond the clip (NaN, ±∞, |v| > c) are refused. */
export function encodeFixedPoint(values: ArrayLike<number>, spec: FixedPointSpec): Uint32Array {
  const limit = 2 ** (spec.bits - 1) - 1;
  // A clip computed in float64 and applied in float32 can leave |v| an ulp above c; tolerate that
  // much and clamp, so the no-wrap bound still holds exactly.
  const tolerance = spec.clip * (1 + 2 ** -20);
  const out = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(Math.abs(v) <= tolerance)) {
      throw new SecAggError('invalid-argument', `fixed point: value ${v} at index ${i} is outside [−${spec.clip}, ${spec.clip}]; clip before encoding`);
    }
    const q = Math.min(limit, Math.max(-limit, Math.round(v * spec.scale)));
    out[i] = q >>> 0;
  }
  return out;
}

/** Decodes the mod-2^32 sum of `count` encoded vectors back to floats. */
export function decodeSum(sum: Uint32Array, spec: FixedPointSpec, count: number): Float32Array {
  if (!Number.isInteger(count) || count < 0 || count > spec.maxClients) {
    throw new SecAggError('invalid-argument', `fixed point: the sum of ${count} clients cannot be decoded with a scale chosen for at most ${spec.maxClients}`);
  }
  const out = new Float32Array(sum.length);
  for (let i = 0; i < sum.length; i++) out[i] = (sum[i]! | 0) / spec.scale;
  return out;
}

/** The plain sum mod 2^32 (what secure aggregation must reproduce exactly). */
export function sumMod32(vectors: readonly Uint32Array[], length = vectors[0]?.length ?? 0): Uint32Array {
  const out = new Uint32Array(length);
  for (const v of vectors) {
    if (v.length !== length) throw new SecAggError('invalid-argument', `sumMod32: lengths differ (${v.length} vs ${length})`);
    for (let i = 0; i < length; i++) out[i] = (out[i]! + v[i]!) >>> 0;
  }
  return out;
}
