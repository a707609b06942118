/** FedProx Synthetic(α, β) (Li et al. 2020): one generator per client, so it comes federated. */
import { z } from 'zod';
import { positiveInt, probability } from '../../scenario/spec-fields.js';
import type { DatasetEntry } from '../dataset-entry.js';
import { generateSynthetic } from '../synthetic.js';

const SPEC = z.strictObject({
  name: z.literal('synthetic'),
  alpha: z.number().min(0).default(1),
  beta: z.number().min(0).default(1),
  featureSize: positiveInt.default(60),
  numClasses: z.number().int().min(2).default(10),
  /** Scales the FedProx lognormal client sizes down; omit for the paper's sizes. */
  meanSamples: positiveInt.optional(),
  testFraction: probability.default(0.2),
});
export type SyntheticSpec = z.output<typeof SPEC>;

export const SYNTHETIC = {
  name: 'synthetic',
  description: 'FedProx Synthetic(α, β): per-client softmax-regression data, lognormal client sizes (generated, natural partition)',
  schema: SPEC,
  comesFederated: true,
  dataShape: (spec) => ({ task: 'classification', featureShape: [spec.featureSize], numClasses: spec.numClasses }),
  load: (spec, context, rng) =>
    generateSynthetic(
      {
        alpha: spec.alpha,
        beta: spec.beta,
        // One generator per client: as many as the partition has.
        clients: context.clients,
        featureSize: spec.featureSize,
        numClasses: spec.numClasses,
        meanSamples: spec.meanSamples,
        testFraction: spec.testFraction,
      },
      rng,
    ),
} satisfies DatasetEntry<SyntheticSpec>;
