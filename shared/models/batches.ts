/** Rows of a data split as model-ready tensors: features in the model's input shape, one-hot (or scalar) targets. */
import type { DataSplit } from '../data/dataset.js';
import type { DataShape } from '../data/data-shape.js';
import * as tf from '../tf.js';

/**
 * Values per sample, checked against the split: a split whose length disagrees with the model's
 * input would otherwise be read with shifted rows and train on garbage without any error.
 */
export function checkedFeatureSize(data: DataSplit, shape: DataShape, caller: string): number {
  const featureSize = shape.featureShape.reduce((a, b) => a * b, 1);
  if (data.features.length !== data.count * featureSize || data.labels.length < data.count) {
    throw new RangeError(
      `${caller}: data does not match its shape (got ${data.features.length} feature values and ${data.labels.length} labels for ${data.count} samples, ` +
        `expected ${data.count} × ${featureSize} for features [${shape.featureShape.join(', ')}] and ${data.count} labels)`,
    );
  }
  return featureSize;
}

export function makeBatch(data: DataSplit, rows: number[], featureSize: number, shape: DataShape): { x: tf.Tensor; y: tf.Tensor } {
  const features = new Float32Array(rows.length * featureSize);
  const labels = new Float32Array(rows.length);
  rows.forEach((row, i) => {
    features.set(data.features.subarray(row * featureSize, (row + 1) * featureSize), i * featureSize);
    labels[i] = data.labels[row]!;
  });
  const x = tf.tensor(features, [rows.length, ...shape.featureShape]);
  if (shape.task === 'regression') return { x, y: tf.tensor2d(labels, [rows.length, 1]) };
  // tf.oneHot turns an out-of-range index into a row of zeros: the sample would silently add
  // nothing to the loss, so a bad label is an error here instead.
  const classes = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= shape.numClasses) {
      x.dispose();
      throw new RangeError(`label of sample ${rows[i]} is not a class index (got ${label}, expected an integer in [0, ${shape.numClasses}))`);
    }
    classes[i] = label;
  }
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(classes, 'int32'), shape.numClasses).asType('float32'));
  return { x, y };
}
