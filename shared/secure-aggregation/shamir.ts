/**
 * Shamir t-of-n secret sharing (Shamir, "How to Share a Secret", CACM 1979) over the prime field
 * GF(p), p = 2^521 − 1, as SS.share / SS.recon in Bonawitz et al., CCS 2017, §3.
 *
 * Why this prime: it is a Mersenne prime (reduction is a shift and an add) and far larger than the
 * 2^256 secrets we share (32-byte X25519 keys and mask seeds). The slack is deliberate: combining
 * fewer than t shares interpolates to a uniformly random field element, which lands below 2^256 with
 * probability 2^−265, so reconstruction from too few (or wrong) shares is detected rather than
 * silently returning garbage.
 *
 * x-coordinates are small positive integers (client index + 1 in the protocol); 0 is the secret.
 */
import { randomBytes } from 'node:crypto';
import { SecAggError } from './errors.js';

export const FIELD_BITS = 521;
export const FIELD_PRIME = (1n << 521n) - 1n;
/** Fixed width of one encoded share value (big-endian). */
export const SHARE_BYTES = 66;
/** Secrets must stay below 2^(8·64) < p so that every secret is a field element. */
export const MAX_SECRET_BYTES = 64;

export interface Share {
  /** Evaluation point, ≥ 1. */
  readonly x: number;
  /** Polynomial value at x, in [0, p). */
  readonly y: bigint;
}

/**
 * Shares `secret` with threshold t: any t of the returned shares reconstruct it, any t − 1 reveal
 * nothing. One share per x in `xs` (distinct, ≥ 1).
 */
export function splitSecret(secret: Uint8Array, threshold: number, xs: readonly number[]): Share[] {
  if (secret.length === 0 || secret.length > MAX_SECRET_BYTES) {
    throw new SecAggError('invalid-argument', `secret must be 1–${MAX_SECRET_BYTES} bytes, got ${secret.length}`);
  }
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new SecAggError('invalid-argument', `threshold must be a positive integer, got ${threshold}`);
  }
  checkXs(xs);
  // f(x) = secret + a1 x + … + a_{t−1} x^{t−1}; a_i uniform in GF(p).
  const coefficients: bigint[] = [bytesToBigInt(secret)];
  for (let i = 1; i < threshold; i++) coefficients.push(randomFieldElement());
  return xs.map((x) => {
    const bx = BigInt(x);
    let y = 0n;
    for (let i = coefficients.length - 1; i >= 0; i--) y = reduce(y * bx + coefficients[i]!);
    return { x, y };
  });
}

/**
 * Lagrange interpolation at 0 from exactly the given shares. Returns the constant term of the
 * unique polynomial of degree < shares.length through them; with fewer than t shares that is a
 * uniformly random field element, not the secret.
 */
export function interpolateAtZero(shares: readonly Share[]): bigint {
  const coefficients = lagrangeCoefficientsAtZero(shares.map((s) => s.x));
  return combineShares(
    coefficients,
    shares.map((s) => s.y),
  );
}

/**
 * λ_i = Π_{j≠i} x_j / (x_j − x_i). They depend only on which holders answered, so a server that
 * reconstructs many secrets from the same holders computes them once.
 */
export function lagrangeCoefficientsAtZero(xs: readonly number[]): bigint[] {
  checkXs(xs);
  const m = xs.length;
  const bx = xs.map(BigInt);
  const numerators = new Array<bigint>(m);
  const denominators = new Array<bigint>(m);
  for (let i = 0; i < m; i++) {
    let num = 1n;
    let den = 1n;
    for (let j = 0; j < m; j++) {
      if (j === i) continue;
      num = reduce(num * bx[j]!);
      den = reduce(den * mod(bx[j]! - bx[i]!));
    }
    numerators[i] = num;
    denominators[i] = den;
  }
  const inverses = batchInvert(denominators);
  return numerators.map((num, i) => reduce(num * inverses[i]!));
}

export function combineShares(coefficients: readonly bigint[], ys: readonly bigint[]): bigint {
  if (coefficients.length !== ys.length) {
    throw new SecAggError('invalid-argument', `combineShares: ${coefficients.length} coefficients for ${ys.length} shares`);
  }
  let acc = 0n;
  for (let i = 0; i < ys.length; i++) acc = reduce(acc + coefficients[i]! * ys[i]!);
  return acc;
}

/**
 * Reconstructs a secret of `secretBytes` bytes from at least `threshold` shares (the first
 * `threshold` are used). Throws below the threshold, and when the interpolated value is not a
 * possible secret — the sign of shares from different sharings, tampered shares or too few.
 */
export function reconstructSecret(shares: readonly Share[], threshold: number, secretBytes: number): Uint8Array {
  if (shares.length < threshold) {
    throw new SecAggError('below-threshold', `need ${threshold} shares to reconstruct, got ${shares.length}`);
  }
  return secretFromFieldElement(interpolateAtZero(shares.slice(0, threshold)), secretBytes);
}

/** The inverse of the secret → field element map, refusing values that no secret maps to. */
export function secretFromFieldElement(value: bigint, secretBytes: number): Uint8Array {
  if (secretBytes < 1 || secretBytes > MAX_SECRET_BYTES) {
    throw new SecAggError('invalid-argument', `secretBytes must be 1–${MAX_SECRET_BYTES}, got ${secretBytes}`);
  }
  if (value >> BigInt(8 * secretBytes) !== 0n) {
    throw new SecAggError(
      'protocol-violation',
      `reconstruction gave a value outside the ${secretBytes}-byte secret range: shares are inconsistent, tampered, or fewer than the threshold`,
    );
  }
  const out = new Uint8Array(secretBytes);
  let v = value;
  for (let i = secretBytes - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function encodeShareValue(y: bigint): Uint8Array {
  if (y < 0n || y >= FIELD_PRIME) throw new SecAggError('invalid-argument', 'share value outside the field');
  const out = new Uint8Array(SHARE_BYTES);
  let v = y;
  for (let i = SHARE_BYTES - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function decodeShareValue(bytes: Uint8Array): bigint {
  if (bytes.length !== SHARE_BYTES) {
    throw new SecAggError('malformed-message', `a share value is ${SHARE_BYTES} bytes, got ${bytes.length}`);
  }
  const y = bytesToBigInt(bytes);
  if (y >= FIELD_PRIME) throw new SecAggError('malformed-message', 'share value is not a field element (≥ 2^521 − 1)');
  return y;
}

function checkXs(xs: readonly number[]): void {
  const seen = new Set<number>();
  for (const x of xs) {
    if (!Number.isSafeInteger(x) || x < 1) {
      throw new SecAggError('invalid-argument', `share x-coordinates must be integers ≥ 1 (x = 0 is the secret), got ${x}`);
    }
    if (seen.has(x)) throw new SecAggError('invalid-argument', `duplicate share x-coordinate ${x}`);
    seen.add(x);
  }
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`);
}

/** Uniform in [0, p): 521 random bits, rejecting the single value p itself. */
function randomFieldElement(): bigint {
  for (;;) {
    const bytes = randomBytes(SHARE_BYTES);
    bytes[0]! &= 0x01; // 66 bytes = 528 bits; keep the low 521
    const v = bytesToBigInt(bytes);
    if (v < FIELD_PRIME) return v;
  }
}

/** x mod p for 0 ≤ x, by folding the bits above 521 back in (2^521 ≡ 1). */
function reduce(x: bigint): bigint {
  while (x > FIELD_PRIME) x = (x & FIELD_PRIME) + (x >> 521n);
  return x === FIELD_PRIME ? 0n : x;
}

function mod(x: bigint): bigint {
  if (x >= 0n) return reduce(x);
  const r = reduce(-x);
  return r === 0n ? 0n : FIELD_PRIME - r;
}

/** Montgomery's trick: one extended-Euclid inversion for the whole batch. */
function batchInvert(values: readonly bigint[]): bigint[] {
  const prefix = new Array<bigint>(values.length);
  let acc = 1n;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === 0n) throw new SecAggError('invalid-argument', 'cannot invert 0 (duplicate x-coordinates?)');
    prefix[i] = acc;
    acc = reduce(acc * values[i]!);
  }
  let inv = invert(acc);
  const out = new Array<bigint>(values.length);
  for (let i = values.length - 1; i >= 0; i--) {
    out[i] = reduce(inv * prefix[i]!);
    inv = reduce(inv * values[i]!);
  }
  return out;
}

function invert(a: bigint): bigint {
  let [oldR, r] = [a, FIELD_PRIME];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS);
}
