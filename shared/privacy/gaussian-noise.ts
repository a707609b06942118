/**
 * Gaussian noise for the Gaussian mechanism. Drawn from the run's seeded generator so a run can
 * be repeated exactly: right for a simulator, wrong for a deployment, which would draw from a
 * cryptographic source (floating-point attacks on naive samplers aside, Mironov 2012).
 */
import type { Rng } from '../random.js';

/** Adds N(0, std²) to every coordinate, in place. */
export function addGaussianNoise(vector: Float32Array | Float64Array, std: number, rng: Rng): void {
  if (!(std >= 0) || !Number.isFinite(std)) throw new RangeError(`addGaussianNoise: std must be a finite number ≥ 0 (got ${std})`);
  if (std === 0) return;
  for (let i = 0; i < vector.length; i++) vector[i] = vector[i]! + rng.normal(0, std);
}
