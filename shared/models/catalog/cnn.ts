/**
 * The FedAvg paper's CNN (McMahan et al. 2017): 5×5 conv 32, 2×2 max pool, 5×5 conv 64, 2×2 max
 * pool, dense 512 ReLU, softmax. 1,663,370 parameters on MNIST. Preset `keras`: the Keras /
 * TensorFlow tutorial CNN of the project's documents (three valid 3×3 convs 32-64-64 with two
 * max pools, dense 64, softmax), 93,322 parameters on MNIST.
 */
import { z } from 'zod';
import { imageClassifierProblems, sizeWords } from '../fit-checks.js';
import type { DataShape } from '../../data/data-shape.js';
import type * as tfjs from '../../tf.js';
import type { ModelEntry, Tf } from '../model-entry.js';

const SPEC = z.strictObject({ name: z.literal('cnn'), preset: z.enum(['keras']).optional() });
export type CnnSpec = z.output<typeof SPEC>;

/** 18 → 16 → 8 → 6 → 3 → 1: the smallest side that leaves the last conv an output. */
const KERAS_MIN_SIDE = 18;

function fedAvgLayers(tf: Tf, shape: DataShape): tfjs.layers.Layer[] {
  return [
    tf.layers.conv2d({ inputShape: shape.featureShape, filters: 32, kernelSize: 5, padding: 'same', activation: 'relu', name: 'conv1' }),
    tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool1' }),
    tf.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu', name: 'conv2' }),
    tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool2' }),
    tf.layers.flatten({ name: 'flatten' }),
    tf.layers.dense({ units: 512, activation: 'relu', name: 'dense1' }),
    tf.layers.dense({ units: shape.numClasses, activation: 'softmax', name: 'softmax' }),
  ];
}

function kerasLayers(tf: Tf, shape: DataShape): tfjs.layers.Layer[] {
  return [
    tf.layers.conv2d({ inputShape: shape.featureShape, filters: 32, kernelSize: 3, activation: 'relu', name: 'conv1' }),
    tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool1' }),
    tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', name: 'conv2' }),
    tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool2' }),
    tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', name: 'conv3' }),
    tf.layers.flatten({ name: 'flatten' }),
    tf.layers.dense({ units: 64, activation: 'relu', name: 'dense1' }),
    tf.layers.dense({ units: shape.numClasses, activation: 'softmax', name: 'softmax' }),
  ];
}

export const CNN = {
  name: 'cnn',
  description:
    "McMahan et al. 2017's CNN: two 5×5 conv and 2×2 max-pool blocks (32, 64 filters), dense 512 ReLU, softmax (images); preset keras: the Keras tutorial CNN (3×3 convs 32-64-64, dense 64)",
  schema: SPEC,
  presets: SPEC.shape.preset.unwrap().options,
  suits: 'mnist',
  build: (tf, spec, shape) => tf.sequential({ name: spec.name, layers: spec.preset === 'keras' ? kerasLayers(tf, shape) : fedAvgLayers(tf, shape) }),
  problems: (spec, shape, datasetName) => {
    const problems = imageClassifierProblems(spec.name, shape, datasetName);
    const [height = 0, width = 0] = shape.featureShape;
    if (problems.length === 0 && spec.preset === 'keras' && Math.min(height, width) < KERAS_MIN_SIDE) {
      problems.push(
        `model.preset: keras's three valid 3×3 convs and two pools need images of at least ${KERAS_MIN_SIDE}×${KERAS_MIN_SIDE} (got ${height}×${width} in ${datasetName}, expected a larger image dataset or no preset)`,
      );
    }
    return problems;
  },
  layers: (spec) => (spec.preset === 'keras' ? ['conv1', 'conv2', 'conv3', 'dense1', 'softmax'] : ['conv1', 'conv2', 'dense1', 'softmax']),
  describe: (spec, shape) =>
    spec.preset === 'keras'
      ? `CNN (Keras tutorial): conv 3×3×32 valid relu, maxpool 2×2, conv 3×3×64 valid relu, maxpool 2×2, conv 3×3×64 valid relu, dense 64 relu, dense ${sizeWords(shape).classes} softmax`
      : `CNN (McMahan et al. 2017): conv 5×5×32 same relu, maxpool 2×2, conv 5×5×64 same relu, maxpool 2×2, dense 512 relu, dense ${sizeWords(shape).classes} softmax`,
} satisfies ModelEntry<CnnSpec>;
