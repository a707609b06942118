/**
 * The DP settings of a run, resolved once before round 1: the Poisson rate q, the noise
 * multiplier the accountant sees (calibrated to the budget when asked), and how adaptive
 * clipping splits that noise between the update and the count of unclipped clients.
 */
import { calibrateNoiseMultiplier, type EpsilonConversion } from '../../shared/privacy/rdp-accountant.js';
import { clientsPerRound } from '../../shared/scenario/load-scenario.js';
import type { DpSpec, Scenario } from '../../shared/scenario/schema.js';

export interface DpPlan {
  mode: 'central' | 'local';
  clipping: 'fixed' | 'adaptive';
  /** Poisson sampling rate: every client joins a round independently with probability q. */
  q: number;
  /** q·N: the fixed denominator of DP-FedAvg. */
  expectedClients: number;
  initialClipNorm: number;
  /** z as the accountant sees it (per round, for the whole mechanism). */
  noiseMultiplier: number;
  /** Noise on the update sum, in units of the clip norm. Equals z unless adaptive clipping takes a share. */
  updateNoiseMultiplier: number;
  /** Std of the noise on the count of unclipped clients (adaptive clipping only, else 0). */
  countNoiseStd: number;
  delta: number;
  conversion: EpsilonConversion;
  targetEpsilon?: number;
  /** True when z was chosen by calibration rather than given. */
  calibrated: boolean;
  targetQuantile: number;
  clipLearningRate: number;
}

export function resolveDpPlan(scenario: Scenario): DpPlan | null {
  const dp = scenario.privacy.dp;
  if (!dp) return null;
  const population = scenario.partition.clients;
  const expectedClients = clientsPerRound(scenario);
  const q = expectedClients / population;
  const noiseMultiplier = dp.calibrate ? calibrate(dp, q, scenario.rounds) : dp.noiseMultiplier!;
  const split = splitNoise(dp, noiseMultiplier, expectedClients);
  return {
    mode: dp.mode,
    clipping: dp.clipping,
    q,
    expectedClients,
    initialClipNorm: dp.clipNorm,
    noiseMultiplier,
    ...split,
    delta: dp.delta,
    conversion: dp.conversion,
    targetEpsilon: dp.targetEpsilon,
    calibrated: dp.calibrate,
    targetQuantile: dp.targetQuantile,
    clipLearningRate: dp.clipLearningRate,
  };
}

/**
 * Central DP is accounted per round with subsampling q, over the planned rounds. Local DP is
 * accounted per client, without amplification (the coordinator knows who took part): z is
 * calibrated so that ⌈q·T⌉ releases, a client's expected share of the run, meet the budget; a
 * client whose next release would exceed it sits out the rest of the run (see PrivacyLedger).
 */
export function plannedReleases(q: number, rounds: number): number {
  return Math.max(1, Math.ceil(q * rounds));
}

function calibrate(dp: DpSpec, q: number, rounds: number): number {
  const target = dp.targetEpsilon!;
  if (dp.mode === 'local') {
    // The local mechanism's sensitivity is 2S (any two updates in the ball): the accountant's
    // multiplier is z/2, so the z to use is twice the calibrated one.
    const steps = plannedReleases(q, rounds);
    return 2 * calibrateNoiseMultiplier({ q: 1, steps, delta: dp.delta, targetEpsilon: target, conversion: dp.conversion });
  }
  return calibrateNoiseMultiplier({ q, steps: rounds, delta: dp.delta, targetEpsilon: target, conversion: dp.conversion });
}

/**
 * Andrew et al. 2021, §3.1: with count noise σ_b (on bits of sensitivity ½), the update noise
 * z_Δ = (z⁻² − (2σ_b)⁻²)^(−½) keeps the whole round at multiplier z.
 */
function splitNoise(dp: DpSpec, z: number, expectedClients: number): { updateNoiseMultiplier: number; countNoiseStd: number } {
  if (dp.clipping === 'fixed' || z === 0) return { updateNoiseMultiplier: z, countNoiseStd: 0 };
  const countNoiseStd = dp.countNoise ?? expectedClients / 20;
  if (2 * countNoiseStd <= z) {
    throw new RangeError(
      `privacy.dp.countNoise: too small for noise multiplier ${z.toPrecision(4)} (got σ_b = ${countNoiseStd}, expected σ_b > z/2 = ${(z / 2).toPrecision(4)}; Andrew et al. suggest expected clients / 20, so sample more clients per round or give countNoise)`,
    );
  }
  return { updateNoiseMultiplier: 1 / Math.sqrt(z ** -2 - (2 * countNoiseStd) ** -2), countNoiseStd };
}
