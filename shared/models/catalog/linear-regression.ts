/** Linear regression (house prices): one dense unit on the flattened features, MSE. */
import { z } from 'zod';
import { flattenInput } from '../flatten-input.js';
import { denseChainParameters, featureCount, regressionProblems, sizeWords } from '../fit-checks.js';
import type { ModelEntry } from '../model-entry.js';

const SPEC = z.strictObject({ name: z.literal('linear-regression') });
export type LinearRegressionSpec = z.output<typeof SPEC>;

export const LINEAR_REGRESSION = {
  name: 'linear-regression',
  description: 'linear regression: one dense unit on the flattened features, MSE (regression datasets)',
  schema: SPEC,
  suits: 'boston-housing',
  build: (tf, spec, shape) => tf.sequential({ name: spec.name, layers: [flattenInput(tf, shape), tf.layers.dense({ units: 1, name: 'linear' })] }),
  parameterCount: (_spec, shape) => denseChainParameters([featureCount(shape), 1]),
  problems: (spec, shape, datasetName) => regressionProblems(spec.name, shape, datasetName),
  layers: () => ['linear'],
  describe: (_spec, shape) => `linear regression (dense ${sizeWords(shape).inputs}→1, MSE)`,
} satisfies ModelEntry<LinearRegressionSpec>;
