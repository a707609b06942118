/**
 * L2 clipping, the step that bounds one client's influence on the sum and so gives the Gaussian
 * mechanism its sensitivity.
 */
import { l2Norm } from '../vector/vector-math.js';

export interface Clipped {
  vector: Float32Array;
  /** The norm before clipping. */
  norm: number;
  /** True when the update was already inside the ball (adaptive clipping counts these). */
  unclipped: boolean;
}

/** Scales `update` into the L2 ball of radius `clipNorm`, in place. */
export function clipToNorm(update: Float32Array, clipNorm: number): Clipped {
  if (!(clipNorm > 0)) throw new RangeError(`clipToNorm: clipNorm must be > 0 (got ${clipNorm})`);
  const norm = l2Norm(update);
  if (norm <= clipNorm) return { vector: update, norm, unclipped: true };
  // Scaling in float32 can overshoot the bound by an ulp; shrink the factor so the clipped norm,
  // recomputed by anyone, is never above clipNorm.
  let scale = clipNorm / norm;
  for (let attempt = 0; attempt < 4; attempt++) {
    const scaled = Float32Array.from(update, (v) => v * scale);
    if (l2Norm(scaled) <= clipNorm) {
      update.set(scaled);
      return { vector: update, norm, unclipped: false };
    }
    scale *= 1 - 1e-6;
  }
  throw new Error(`clipToNorm: could not bring norm ${norm} under ${clipNorm}`);
}
