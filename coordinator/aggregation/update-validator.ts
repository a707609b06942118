/**
 * The gate every client update passes before aggregation: a wrong length, a NaN or infinity,
 * or a norm beyond the configured bound gets the update refused and counted, never averaged in.
 */
import { firstNonFinite, l2Norm } from '../../shared/vector/vector-math.js';

export interface UpdateRules {
  expectedLength: number;
  maxNorm?: number;
}

/** Returns why the update is refused, or null if it is acceptable. */
export function rejectReason(update: Float32Array, rules: UpdateRules): string | null {
  if (update.length !== rules.expectedLength) {
    return `wrong length: ${update.length} values, expected ${rules.expectedLength}`;
  }
  const bad = firstNonFinite(update);
  if (bad >= 0) return `non-finite value ${update[bad]} at index ${bad}`;
  if (rules.maxNorm !== undefined) {
    const norm = l2Norm(update);
    if (norm > rules.maxNorm) return `L2 norm ${norm.toPrecision(4)} exceeds strategy.maxUpdateNorm ${rules.maxNorm}`;
  }
  return null;
}
