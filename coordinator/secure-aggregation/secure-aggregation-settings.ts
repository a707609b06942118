/**
 * The secure-aggregation settings of a run, resolved once from the scenario: the protocol
 * variant and its threat model, the fixed-point range, and whether the DP clip bit rides along.
 */
import type { Scenario } from '../../shared/scenario/schema.js';
import type { Variant } from '../../shared/secure-aggregation/index.js';

export interface SecAggSettings {
  variant: Variant;
  thresholdFraction: number;
  /** c: the L∞ range [−c, c] of every encoded coordinate. */
  clip: number;
  /** Fixed precision, or undefined for the most the cohort leaves (32 − ⌈log2 n⌉). */
  bits?: number;
  dropoutRate: number;
  /** η of SecAgg+'s parameter choice. */
  correctnessLog2?: number;
  stepTimeoutMs: number;
  /**
   * Adaptive DP clipping needs the number of clients whose update was inside the clip norm; the
   * clients append that bit to the masked vector so it is summed as securely as the updates.
   */
  countUnclipped: boolean;
}

export function resolveSecAggSettings(scenario: Scenario): SecAggSettings | null {
  const spec = scenario.privacy.secureAggregation;
  if (!spec) return null;
  const dp = scenario.privacy.dp;
  // Validation guarantees one of the two; with DP, L∞ ≤ L2 ≤ S, so c = S never clips further.
  const clip = spec.clipNorm ?? dp!.clipNorm;
  return {
    variant: spec.variant,
    thresholdFraction: spec.thresholdFraction,
    clip,
    ...(spec.bits !== undefined ? { bits: spec.bits } : {}),
    dropoutRate: spec.dropoutRate,
    ...(spec.failureProbabilityLog2 !== undefined ? { correctnessLog2: spec.failureProbabilityLog2 } : {}),
    stepTimeoutMs: spec.stepTimeoutSeconds * 1000,
    countUnclipped: dp?.clipping === 'adaptive',
  };
}
