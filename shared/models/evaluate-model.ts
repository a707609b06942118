/** A model's loss and accuracy (or MSE) over a data split, in bounded batches. */
import type { DataSplit } from '../data/dataset.js';
import type { DataShape } from '../data/data-shape.js';
import * as tf from '../tf.js';
import { checkedFeatureSize, makeBatch } from './batches.js';

export interface EvaluationResult {
  loss: number;
  accuracy?: number;
  mse?: number;
  /** Regression: mean absolute error. */
  mae?: number;
  /** Ratings (shared/models/rating-ranking.ts): the share of users whose liked held-out item is in their top 10. */
  hitRate10?: number;
  samples: number;
}

/** Cross-entropy and accuracy for classifiers, MSE and MAE for regression. */
export async function evaluateModel(model: tf.LayersModel, data: DataSplit, shape: DataShape, batchSize = 1000): Promise<EvaluationResult> {
  // An empty split has no loss or accuracy; NaN metrics would only surface later as a bad chart.
  if (data.count === 0) throw new RangeError('evaluateModel: the split has no samples');
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`evaluateModel: batchSize must be a positive integer (got ${batchSize})`);
  const featureSize = checkedFeatureSize(data, shape, 'evaluateModel');
  let lossSum = 0;
  let correct = 0;
  let absoluteErrors = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const rows = Array.from({ length: Math.min(batchSize, data.count - start) }, (_, i) => start + i);
    const { x, y } = makeBatch(data, rows, featureSize, shape);
    const [loss, hits] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
      const predictions = model.predict(x) as tf.Tensor;
      if (shape.task === 'regression') {
        const predicted = predictions.reshape(y.shape);
        // `hits` carries the absolute errors' sum for regression.
        return [tf.losses.meanSquaredError(y, predicted, undefined, tf.Reduction.SUM), tf.sum(tf.abs(tf.sub(y, predicted)))];
      }
      // The models end in softmax: cross-entropy on probabilities, clipped as in training.
      const crossEntropy = tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(predictions, 1e-7, 1 - 1e-7)))));
      return [crossEntropy, tf.sum(tf.equal(tf.argMax(predictions, 1), tf.argMax(y, 1)).asType('float32'))];
    });
    lossSum += (await loss.data())[0]!;
    if (shape.task === 'regression') absoluteErrors += (await hits.data())[0]!;
    else correct += (await hits.data())[0]!;
    tf.dispose([x, y, loss, hits]);
  }
  const loss = lossSum / data.count;
  return shape.task === 'regression'
    ? { loss, mse: loss, mae: absoluteErrors / data.count, samples: data.count }
    : { loss, accuracy: correct / data.count, samples: data.count };
}
