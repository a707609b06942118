/**
 * Sign flipping (Damaskinos et al. 2018; Karimireddy et al. 2021): the attacker sends −k times its
 * benign update, pulling the mean against the descent direction. Colluding attackers all send
 * −k times the colluders' mean, identical vectors that also pass distance-based defences together.
 */
import { z } from 'zod';
import type { AttackEntry } from './attack-entry.js';
import { referenceUpdate, scaledUpdate } from './update-statistics.js';

export function signFlipped(update: ArrayLike<number>, factor: number): Float32Array {
  return scaledUpdate(update, -factor);
}

const schema = z.strictObject({
  name: z.literal('sign-flip'),
  factor: z.number().gt(0).describe('k: the flipped update is −k · Δ').default(1),
});

export const SIGN_FLIP = {
  name: 'sign-flip',
  description: 'sends −k · its benign update (colluding: −k · the colluders’ mean)',
  schema,
  collusion: 'optional',
  create: (spec) => {
    const { factor } = schema.parse(spec);
    return {
      craft: async (context) => {
        const { result } = await context.honest();
        return { result, delta: signFlipped(await referenceUpdate(context), factor) };
      },
    };
  },
} satisfies AttackEntry;
