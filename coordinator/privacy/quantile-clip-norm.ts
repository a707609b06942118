/**
 * Adaptive clipping (Andrew, Thakkar, McMahan, Ramaswamy 2021, "Differentially private learning
 * with adaptive clipping"): the clip norm follows the γ-quantile of the clients' update norms by a
 * geometric step on the noised fraction of clients that needed no clipping,
 *   C ← C · exp(−η · (b̄ − γ)),  b̄ = (Σ bᵢ + N(0, σ_b²)) / (expected clients).
 * Too many unclipped (b̄ > γ) shrinks C; too few grows it.
 */
import type { Rng } from '../../shared/random.js';

export class QuantileClipNorm {
  constructor(
    private clipNorm: number,
    private readonly targetQuantile: number,
    private readonly learningRate: number,
    private readonly countNoiseStd: number,
    private readonly expectedClients: number,
  ) {}

  get current(): number {
    return this.clipNorm;
  }

  /** A checkpoint's clip norm. */
  restore(clipNorm: number): void {
    if (!(clipNorm > 0)) throw new RangeError(`QuantileClipNorm.restore: clip norm must be > 0 (got ${clipNorm})`);
    this.clipNorm = clipNorm;
  }

  /** Updates the clip norm from this round's count; returns the noised unclipped fraction. */
  update(unclippedCount: number, rng: Rng): number {
    const noisedFraction = (unclippedCount + (this.countNoiseStd > 0 ? rng.normal(0, this.countNoiseStd) : 0)) / this.expectedClients;
    this.clipNorm *= Math.exp(-this.learningRate * (noisedFraction - this.targetQuantile));
    return noisedFraction;
  }
}
