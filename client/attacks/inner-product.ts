/**
 * Inner-product manipulation (IPM, Xie et al. 2020, "Fall of empires"): the attackers send −ε
 * times the mean of benign updates, so that the aggregate's inner product with the true
 * gradient turns negative while every malicious update stays short. A small ε (0.1) slips
 * through median and Krum; a large one (e.g. 100) defeats the mean. Colluding attackers use the
 * colluders' mean; alone, each uses its own benign update.
 */
import { z } from 'zod';
import type { AttackEntry } from './attack-entry.js';
import { referenceUpdate, scaledUpdate } from './update-statistics.js';

export function innerProductManipulation(benignMean: ArrayLike<number>, epsilon: number): Float32Array {
  return scaledUpdate(benignMean, -epsilon);
}

const schema = z.strictObject({
  name: z.literal('inner-product'),
  epsilon: z.number().gt(0).describe('ε: the update sent is −ε · the benign mean').default(0.1),
});

export const INNER_PRODUCT = {
  name: 'inner-product',
  description: 'sends −ε · the benign mean (inner-product manipulation, Xie et al. 2020)',
  schema,
  collusion: 'optional',
  create: (spec) => {
    const { epsilon } = schema.parse(spec);
    return {
      craft: async (context) => {
        const { result } = await context.honest();
        return { result, delta: innerProductManipulation(await referenceUpdate(context), epsilon) };
      },
    };
  },
} satisfies AttackEntry;
