/**
 * A backdoor (Gu et al. 2017; Bagdasaryan et al. 2020's naive approach): the attacker stamps the
 * pixel-pattern trigger into a seeded share of its own samples, relabels them as the target
 * class, and trains honestly on the mix, so the clean samples keep its update looking benign.
 * Scaling the result is the `scaling` attack's job (model replacement).
 */
import { z } from 'zod';
import { BACKDOOR_SPEC, backdoorProblems, poisonRows, type BackdoorSpec } from '../../shared/adversaries/backdoor-trigger.js';
import type { DataSplit } from '../../shared/data/dataset.js';
import type { AttackContext } from './attack.js';
import type { AttackEntry } from './attack-entry.js';

/** The attacker's data with round(poisonedFraction · count) seeded rows triggered and relabelled. */
export function poisonedData(context: Pick<AttackContext, 'data' | 'featureShape' | 'rng'>, backdoor: BackdoorSpec): DataSplit {
  const { data, featureShape, rng } = context;
  const count = Math.max(1, Math.round(backdoor.poisonedFraction * data.count));
  const rows = rng.fork('backdoor-rows').sampleWithoutReplacement(data.count, count);
  return poisonRows(data, rows, featureShape, backdoor);
}

const schema = BACKDOOR_SPEC.extend({ name: z.literal('backdoor') });

export const BACKDOOR = {
  name: 'backdoor',
  description: 'trains with a pixel-pattern trigger stamped on a share of its samples, relabelled as the target class',
  schema,
  collusion: 'none',
  dataProblems: (spec, shape, dataset) => backdoorProblems(schema.parse(spec), shape, dataset, 'adversaries.attack'),
  create: (spec) => {
    const backdoor = schema.parse(spec);
    return { craft: (context) => context.train(poisonedData(context, backdoor)) };
  },
} satisfies AttackEntry;
