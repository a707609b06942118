/** A small CNN for quick image runs: one 3×3 conv, 2×2 max pool, dense 128, softmax. */
import { z } from 'zod';
import { imageClassifierProblems, sizeWords } from '../fit-checks.js';
import type { ModelEntry } from '../model-entry.js';

const SPEC = z.strictObject({ name: z.literal('cnn-small') });
export type CnnSmallSpec = z.output<typeof SPEC>;

export const CNN_SMALL = {
  name: 'cnn-small',
  description: 'small CNN: one 3×3 conv (32 filters), 2×2 max pool, dense 128 ReLU, softmax (images)',
  schema: SPEC,
  suits: 'mnist',
  build: (tf, spec, shape) =>
    tf.sequential({
      name: spec.name,
      layers: [
        tf.layers.conv2d({ inputShape: shape.featureShape, filters: 32, kernelSize: 3, activation: 'relu', name: 'conv1' }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool1' }),
        tf.layers.flatten({ name: 'flatten' }),
        tf.layers.dense({ units: 128, activation: 'relu', name: 'dense1' }),
        tf.layers.dense({ units: shape.numClasses, activation: 'softmax', name: 'softmax' }),
      ],
    }),
  problems: (spec, shape, datasetName) => imageClassifierProblems(spec.name, shape, datasetName),
  layers: () => ['conv1', 'dense1', 'softmax'],
  describe: (_spec, shape) => `small CNN: conv 3×3×32 valid relu, maxpool 2×2, dense 128 relu, dense ${sizeWords(shape).classes} softmax`,
} satisfies ModelEntry<CnnSmallSpec>;
