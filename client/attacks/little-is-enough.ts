/**
 * "A little is enough" (ALIE, Baruch et al. 2019): colluding attackers estimate the benign
 * updates' per-coordinate mean μ and standard deviation σ from their own benign updates and all
 * send μ − z·σ, a shift small enough to stay within the spread that median, trimmed mean and
 * Krum accept. The paper's z: with n clients per round of which m attack, s = ⌊n/2 + 1⌋ − m
 * benign clients must be won over, and z = Φ⁻¹((n − s)/n).
 */
import { z } from 'zod';
import type { AttackEntry } from './attack-entry.js';
import { meanOfUpdates, stdOfUpdates } from './update-statistics.js';

/** Baruch et al.'s z_max for n clients per round and m attackers among them (at least a small positive shift). */
export function alieZ(clients: number, attackers: number): number {
  const s = Math.floor(clients / 2 + 1) - attackers;
  return Math.max(normalQuantile((clients - s) / clients), 0.1);
}

export function littleIsEnough(benign: readonly Float32Array[], zValue: number): Float32Array {
  const mean = meanOfUpdates(benign);
  const std = stdOfUpdates(benign, mean);
  return Float32Array.from(mean, (mu, i) => mu - zValue * std[i]!);
}

/** Φ⁻¹(p), the standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1) (got ${p})`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

const schema = z.strictObject({
  name: z.literal('little-is-enough'),
  z: z.number().gt(0).describe("the shift in standard deviations; default Baruch et al.'s z_max for the cohort").optional(),
});

export const LITTLE_IS_ENOUGH = {
  name: 'little-is-enough',
  description: 'colluders send μ − z·σ of their benign updates (ALIE, Baruch et al. 2019)',
  schema,
  collusion: 'required',
  create: (spec) => {
    const options = schema.parse(spec);
    return {
      craft: async (context) => {
        const { result } = await context.honest();
        const zValue = options.z ?? alieZ(context.cohort.clients, context.cohort.attackers);
        return { result, delta: littleIsEnough(await context.colluders(), zValue) };
      },
    };
  },
} satisfies AttackEntry;
