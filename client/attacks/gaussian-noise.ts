/**
 * Gaussian noise (Blanchard et al. 2017's Gaussian Byzantine worker): the update is replaced by
 * a draw from N(0, σ²I). Colluding attackers send the same draw (the round's shared stream).
 */
import { z } from 'zod';
import type { Rng } from '../../shared/random.js';
import type { AttackEntry } from './attack-entry.js';

export function gaussianUpdate(length: number, std: number, rng: Rng): Float32Array {
  return Float32Array.from({ length }, () => rng.normal(0, std));
}

const schema = z.strictObject({
  name: z.literal('gaussian-noise'),
  std: z.number().gt(0).describe('σ of every coordinate').default(0.5),
});

export const GAUSSIAN_NOISE = {
  name: 'gaussian-noise',
  description: 'sends N(0, σ²) noise in place of its update (colluding: the same draw)',
  schema,
  collusion: 'optional',
  create: (spec) => {
    const { std } = schema.parse(spec);
    return {
      craft: async (context) => {
        const { result, delta } = await context.honest();
        return { result, delta: gaussianUpdate(delta.length, std, context.rng) };
      },
    };
  },
} satisfies AttackEntry;
