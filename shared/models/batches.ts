/** Rows of a data split as model-ready tensors: features in the model's input shape, one-hot (or scalar) targets. */
import type { DataSplit } from '../data/dataset.js';
import type { DataShape } from '../data/data-shape.js';
import * as tf from '../tf.js';

export function makeBatch(data: DataSplit, rows: number[], featureSize: number, shape: DataShape): { x: tf.Tensor; y: tf.Tensor } {
  const features = new Float32Array(rows.length * featureSize);
  const labels = new Float32Array(rows.length);
  rows.forEach((row, i) => {
    features.set(data.features.subarray(row * featureSize, (row + 1) * featureSize), i * featureSize);
    labels[i] = data.labels[row]!;
  });
  const x = tf.tensor(features, [rows.length, ...shape.featureShape]);
  if (shape.task === 'regression') return { x, y: tf.tensor2d(labels, [rows.length, 1]) };
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), shape.numClasses).asType('float32'));
  return { x, y };
}
