/**
 * Scaling / model replacement (Bagdasaryan et al. 2020): the attacker trains (with the backdoor
 * trigger in its data when `backdoor` is given) and sends γ times its update. With γ = n/η, the
 * clients per round over the server learning rate (1 for FedAvg), the aggregate of one such
 * update among n benign ones that roughly cancel replaces the global model by the attacker's.
 * Each attacker boosts its own update; collusion changes nothing.
 */
import { z } from 'zod';
import { BACKDOOR_SPEC, backdoorProblems } from '../../shared/adversaries/backdoor-trigger.js';
import type { AttackEntry } from './attack-entry.js';
import { poisonedData } from './backdoor.js';
import { scaledUpdate } from './update-statistics.js';

const schema = z.strictObject({
  name: z.literal('scaling'),
  factor: z.number().gt(0).describe('γ; default n, the clients per round (model replacement under FedAvg)').optional(),
  backdoor: BACKDOOR_SPEC.describe('train with this backdoor before scaling (model replacement of a backdoored model)').optional(),
});

export const SCALING = {
  name: 'scaling',
  description: 'sends γ · its update, optionally backdoored (model replacement, Bagdasaryan et al. 2020; γ defaults to n)',
  schema,
  collusion: 'none',
  dataProblems: (spec, shape, dataset) => {
    const { backdoor } = schema.parse(spec);
    return backdoor ? backdoorProblems(backdoor, shape, dataset, 'adversaries.attack.backdoor') : [];
  },
  create: (spec) => {
    const { factor, backdoor } = schema.parse(spec);
    return {
      craft: async (context) => {
        const trained = backdoor ? await context.train(poisonedData(context, backdoor)) : await context.honest();
        return { result: trained.result, delta: scaledUpdate(trained.delta, factor ?? context.cohort.clients) };
      },
    };
  },
} satisfies AttackEntry;
