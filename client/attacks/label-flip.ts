/**
 * Label flipping (Biggio et al. 2012; Fang et al. 2020's LF): the attacker trains honestly on
 * its own samples with every label replaced, c → C − 1 − c (`reverse`) or c → c + 1 mod C
 * (`shift`). A data-poisoning attack: the update is an honest one on wrong data.
 */
import { z } from 'zod';
import type { DataSplit } from '../../shared/data/dataset.js';
import type { AttackEntry } from './attack-entry.js';

export type LabelMapping = 'reverse' | 'shift';

export function flippedLabel(label: number, numClasses: number, mapping: LabelMapping): number {
  return mapping === 'reverse' ? numClasses - 1 - label : (label + 1) % numClasses;
}

export function flipLabels(data: DataSplit, numClasses: number, mapping: LabelMapping): DataSplit {
  return { ...data, labels: Float32Array.from(data.labels, (label) => flippedLabel(label, numClasses, mapping)) };
}

const schema = z.strictObject({
  name: z.literal('label-flip'),
  mapping: z.enum(['reverse', 'shift']).describe('c → C − 1 − c, or c → c + 1 mod C').default('reverse'),
});

export const LABEL_FLIP = {
  name: 'label-flip',
  description: 'trains on its own data with every label flipped (c → C − 1 − c, or c → c + 1)',
  schema,
  collusion: 'none',
  dataProblems: (_spec, shape, dataset) =>
    shape.task === 'classification'
      ? []
      : [`adversaries.attack.name: label-flip needs class labels (got regression dataset ${dataset}, expected a classification dataset)`],
  create: (spec) => {
    const { mapping } = schema.parse(spec);
    return { craft: (context) => context.train(flipLabels(context.data, context.numClasses, mapping)) };
  },
} satisfies AttackEntry;
