/** Logistic regression: one dense softmax layer on the flattened features, cross-entropy. */
import { z } from 'zod';
import { classifierProblems, denseChainParameters, featureCount, sizeWords } from '../fit-checks.js';
import { flattenInput } from '../flatten-input.js';
import type { ModelEntry } from '../model-entry.js';

const SPEC = z.strictObject({ name: z.literal('logistic-regression') });
export type LogisticRegressionSpec = z.output<typeof SPEC>;

export const LOGISTIC_REGRESSION = {
  name: 'logistic-regression',
  description: 'logistic regression: one dense softmax layer on the flattened features, cross-entropy',
  schema: SPEC,
  suits: 'mnist',
  build: (tf, spec, shape) =>
    tf.sequential({ name: spec.name, layers: [flattenInput(tf, shape), tf.layers.dense({ units: shape.numClasses, activation: 'softmax', name: 'softmax' })] }),
  // The features (dataset.featureSize of synthetic data) set its size.
  parameterCount: (_spec, shape) => denseChainParameters([featureCount(shape), shape.numClasses]),
  problems: (spec, shape, datasetName) => classifierProblems(spec.name, shape, datasetName),
  layers: () => ['softmax'],
  describe: (_spec, shape) => {
    const { inputs, classes } = sizeWords(shape);
    return `logistic regression (dense ${inputs}→${classes} softmax, cross-entropy)`;
  },
} satisfies ModelEntry<LogisticRegressionSpec>;
