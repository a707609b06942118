/**
 * Layer normalisation over the last axis, from plain ops (moments, rsqrt, mul, add), for the
 * transformer's layers (self-attention.ts, sequence-readout.ts).
 *
 * The stored gain is the offset from 1: y = normalised · (1 + gain) + bias. fedsim's
 * initialWeights (parameters.ts) starts every 1-D weight at zero, so a gain stored as itself
 * would start at 0 and switch every normalised path off (a transformer whose attention and
 * output see only zeros until the gains grow); stored as an offset, zero is the identity scale
 * Layer normalisation starts from. The map from stored values to the model is affine, so
 * averaging stored gains averages the scales: aggregation is unchanged.
 */
import type * as tfjs from '../tf.js';
import type { Tf } from './model-entry.js';

/** PyTorch's LayerNorm default, as GPT-2 uses. */
const EPSILON = 1e-5;

export interface NormWeights {
  gain: tfjs.LayerVariable;
  bias: tfjs.LayerVariable;
}

/** Each vector along the last axis to mean 0, variance 1, then scaled by 1 + gain and shifted by bias. */
export function layerNorm(tf: Tf, x: tfjs.Tensor, weights: NormWeights): tfjs.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, EPSILON)));
  return tf.add(tf.mul(normalised, tf.add(weights.gain.read(), 1)), weights.bias.read());
}
