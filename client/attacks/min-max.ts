/**
 * Min-max (Shejwalkar & Houmansadr 2021, AGR-agnostic): colluders send μ − γ·p, the benign mean
 * pushed along a perturbation p (the coordinates' standard deviation, the unit mean, or its
 * sign), with the largest γ for which the malicious update is no farther from any benign update
 * than the two farthest benign updates are from each other, so distance-based defences cannot
 * tell it apart. γ by the paper's halving search from γ = 10 to a step of 1e-5.
 */
import { z } from 'zod';
import type { AttackEntry } from './attack-entry.js';
import { meanOfUpdates, stdOfUpdates } from './update-statistics.js';

export type MinMaxPerturbation = 'std' | 'unit' | 'sign';

const GAMMA_START = 10;
const GAMMA_TOLERANCE = 1e-5;

export function perturbation(benign: readonly Float32Array[], mean: Float64Array, kind: MinMaxPerturbation): Float64Array {
  if (kind === 'std') return stdOfUpdates(benign, mean);
  if (kind === 'sign') return mean.map(Math.sign);
  const norm = Math.sqrt(mean.reduce((s, v) => s + v * v, 0));
  return mean.map((v) => (norm > 0 ? v / norm : 0));
}

export function minMax(benign: readonly Float32Array[], kind: MinMaxPerturbation): Float32Array {
  const mean = meanOfUpdates(benign);
  const p = perturbation(benign, mean, kind);
  const bound = largestPairwiseDistance(benign);
  const candidate = (gamma: number) => Float32Array.from(mean, (mu, i) => mu - gamma * p[i]!);
  let gamma = GAMMA_START;
  let step = GAMMA_START / 2;
  let accepted = 0;
  while (Math.abs(accepted - gamma) > GAMMA_TOLERANCE) {
    if (largestDistanceTo(candidate(gamma), benign) <= bound) {
      accepted = gamma;
      gamma += step;
    } else {
      gamma -= step;
    }
    step /= 2;
  }
  return candidate(accepted);
}

function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum);
}

function largestPairwiseDistance(updates: readonly Float32Array[]): number {
  let largest = 0;
  for (let a = 0; a < updates.length; a++) for (let b = a + 1; b < updates.length; b++) largest = Math.max(largest, distance(updates[a]!, updates[b]!));
  return largest;
}

function largestDistanceTo(x: Float32Array, updates: readonly Float32Array[]): number {
  return updates.reduce((largest, update) => Math.max(largest, distance(x, update)), 0);
}

const schema = z.strictObject({
  name: z.literal('min-max'),
  perturbation: z.enum(['std', 'unit', 'sign']).describe("p: the coordinates' standard deviation, the unit benign mean, or its sign").default('std'),
});

export const MIN_MAX = {
  name: 'min-max',
  description: 'colluders send μ − γ·p with the largest γ that stays as close to every benign update as they are to each other (Shejwalkar & Houmansadr 2021)',
  schema,
  collusion: 'required',
  create: (spec) => {
    const { perturbation: kind } = schema.parse(spec);
    return {
      craft: async (context) => {
        const { result } = await context.honest();
        return { result, delta: minMax(await context.colluders(), kind) };
      },
    };
  },
} satisfies AttackEntry;
