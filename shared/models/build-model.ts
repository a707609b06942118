/**
 * The models of fedsim's source documents, as tfjs layers models. Layers are named explicitly:
 * tfjs' automatic names carry process-wide counters, and two builds of one model must have the
 * same parameter layout in every process.
 */
import type { DataShape } from '../data/data-shape.js';
import type { ModelSpec } from '../scenario/schema.js';
import * as tf from '../tf.js';
import { checkModelFitsData } from './model-requirements.js';

export { MODEL_NAMES, checkModelFitsData, describeModel } from './model-requirements.js';

export function buildModel(spec: ModelSpec, shape: DataShape): tf.LayersModel {
  const problems = checkModelFitsData(spec, shape);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  const model = tf.sequential({ name: spec.name });
  switch (spec.name) {
    case 'linear-regression':
      model.add(flattenInput(shape));
      model.add(tf.layers.dense({ units: 1, name: 'linear' }));
      break;
    case 'logistic-regression':
      model.add(flattenInput(shape));
      model.add(tf.layers.dense({ units: shape.numClasses, activation: 'softmax', name: 'softmax' }));
      break;
    case 'mlp': {
      // The FedAvg paper's 2NN: two hidden layers of 200 ReLU units.
      const hidden = spec.preset === '2nn' ? [200, 200] : (spec.hidden ?? [200, 200]);
      model.add(flattenInput(shape));
      hidden.forEach((units, i) => model.add(tf.layers.dense({ units, activation: spec.activation ?? 'relu', name: `hidden${i + 1}` })));
      model.add(tf.layers.dense({ units: shape.numClasses, activation: 'softmax', name: 'softmax' }));
      break;
    }
    case 'cnn':
      // McMahan et al. 2017: 5×5 conv 32, 2×2 max pool, 5×5 conv 64, 2×2 max pool, dense 512
      // ReLU, softmax. 1,663,370 parameters on MNIST.
      model.add(tf.layers.conv2d({ inputShape: shape.featureShape, filters: 32, kernelSize: 5, padding: 'same', activation: 'relu', name: 'conv1' }));
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool1' }));
      model.add(tf.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu', name: 'conv2' }));
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool2' }));
      model.add(tf.layers.flatten({ name: 'flatten' }));
      model.add(tf.layers.dense({ units: 512, activation: 'relu', name: 'dense1' }));
      model.add(tf.layers.dense({ units: shape.numClasses, activation: 'softmax', name: 'softmax' }));
      break;
    case 'cnn-small':
      model.add(tf.layers.conv2d({ inputShape: shape.featureShape, filters: 32, kernelSize: 3, activation: 'relu', name: 'conv1' }));
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool1' }));
      model.add(tf.layers.flatten({ name: 'flatten' }));
      model.add(tf.layers.dense({ units: 128, activation: 'relu', name: 'dense1' }));
      model.add(tf.layers.dense({ units: shape.numClasses, activation: 'softmax', name: 'softmax' }));
      break;
  }
  return model;
}

/** Features as one vector per sample; a reshape, since tfjs' flatten refuses 1-D features. */
function flattenInput(shape: DataShape): tf.layers.Layer {
  const size = shape.featureShape.reduce((a, b) => a * b, 1);
  return tf.layers.reshape({ inputShape: shape.featureShape, targetShape: [size], name: 'flatten' });
}
