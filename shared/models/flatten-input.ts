import type { DataShape } from '../data/data-shape.js';
import { featureCount } from './fit-checks.js';
import type { Tf } from './model-entry.js';
import type * as tfjs from '../tf.js';

/** Features as one vector per sample; a reshape, since tfjs' flatten refuses 1-D features. */
export function flattenInput(tf: Tf, shape: DataShape): tfjs.layers.Layer {
  return tf.layers.reshape({ inputShape: shape.featureShape, targetShape: [featureCount(shape)], name: 'flatten' });
}
