/**
 * The FedAvg paper's CNN (McMahan et al. 2017): 5×5 conv 32, 2×2 max pool, 5×5 conv 64, 2×2 max
 * pool, dense 512 ReLU, softmax. 1,663,370 parameters on MNIST.
 */
import { z } from 'zod';
import { imageClassifierProblems, sizeWords } from '../fit-checks.js';
import type { ModelEntry } from '../model-entry.js';

const SPEC = z.strictObject({ name: z.literal('cnn') });
export type CnnSpec = z.output<typeof SPEC>;

export const CNN = {
  name: 'cnn',
  description: "McMahan et al. 2017's CNN: two 5×5 conv and 2×2 max-pool blocks (32, 64 filters), dense 512 ReLU, softmax (images)",
  schema: SPEC,
  suits: 'mnist',
  build: (tf, spec, shape) =>
    tf.sequential({
      name: spec.name,
      layers: [
        tf.layers.conv2d({ inputShape: shape.featureShape, filters: 32, kernelSize: 5, padding: 'same', activation: 'relu', name: 'conv1' }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool1' }),
        tf.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu', name: 'conv2' }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool2' }),
        tf.layers.flatten({ name: 'flatten' }),
        tf.layers.dense({ units: 512, activation: 'relu', name: 'dense1' }),
        tf.layers.dense({ units: shape.numClasses, activation: 'softmax', name: 'softmax' }),
      ],
    }),
  problems: (spec, shape, datasetName) => imageClassifierProblems(spec.name, shape, datasetName),
  describe: (_spec, shape) =>
    `CNN (McMahan et al. 2017): conv 5×5×32 same relu, maxpool 2×2, conv 5×5×64 same relu, maxpool 2×2, dense 512 relu, dense ${sizeWords(shape).classes} softmax`,
} satisfies ModelEntry<CnnSpec>;
