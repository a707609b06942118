/** A model's loss and accuracy (or MSE) over a data split, in bounded batches. */
import type { DataSplit } from '../data/dataset.js';
import { isBinaryClassification, type DataShape } from '../data/data-shape.js';
import * as tf from '../tf.js';
import { checkedFeatureSize, makeBatch } from './batches.js';
import { rocAuc } from './roc-auc.js';

export interface EvaluationResult {
  loss: number;
  accuracy?: number;
  mse?: number;
  /** Regression: mean absolute error. */
  mae?: number;
  /** Ratings (shared/models/rating-ranking.ts): the share of users whose liked held-out item is in their top 10. */
  hitRate10?: number;
  /** Two-class data: area under the ROC curve of P(class 1); absent when the split holds one class only. */
  auc?: number;
  samples: number;
}

/** Cross-entropy and accuracy for classifiers (and AUC for two classes), MSE and MAE for regression. */
export async function evaluateModel(model: tf.LayersModel, data: DataSplit, shape: DataShape, batchSize = 1000): Promise<EvaluationResult> {
  // An empty split has no loss or accuracy; NaN metrics would only surface later as a bad chart.
  if (data.count === 0) throw new RangeError('evaluateModel: the split has no samples');
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`evaluateModel: batchSize must be a positive integer (got ${batchSize})`);
  const featureSize = checkedFeatureSize(data, shape, 'evaluateModel');
  let lossSum = 0;
  let correct = 0;
  let absoluteErrors = 0;
  const positiveScores = isBinaryClassification(shape) ? new Float32Array(data.count) : null;
  for (let start = 0; start < data.count; start += batchSize) {
    const rows = Array.from({ length: Math.min(batchSize, data.count - start) }, (_, i) => start + i);
    const { x, y } = makeBatch(data, rows, featureSize, shape);
    const [loss, hits, positive] = tf.tidy((): [tf.Tensor, tf.Tensor, tf.Tensor?] => {
      const predictions = model.predict(x) as tf.Tensor;
      if (shape.task === 'regression') {
        const predicted = predictions.reshape(y.shape);
        // `hits` carries the absolute errors' sum for regression.
        return [tf.losses.meanSquaredError(y, predicted, undefined, tf.Reduction.SUM), tf.sum(tf.abs(tf.sub(y, predicted)))];
      }
      // The models end in softmax: cross-entropy on probabilities, clipped as in training.
      const crossEntropy = tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(predictions, 1e-7, 1 - 1e-7)))));
      const correct = tf.sum(tf.equal(tf.argMax(predictions, 1), tf.argMax(y, 1)).asType('float32'));
      return [crossEntropy, correct, positiveScores ? predictions.slice([0, 1], [-1, 1]).reshape([-1]) : undefined];
    });
    lossSum += (await loss.data())[0]!;
    if (shape.task === 'regression') absoluteErrors += (await hits.data())[0]!;
    else correct += (await hits.data())[0]!;
    if (positive) positiveScores!.set(await positive.data(), start);
    tf.dispose([x, y, loss, hits, ...(positive ? [positive] : [])]);
  }
  const loss = lossSum / data.count;
  if (shape.task === 'regression') return { loss, mse: loss, mae: absoluteErrors / data.count, samples: data.count };
  const auc = positiveScores ? rocAuc(positiveScores, data.labels.subarray(0, data.count)) : null;
  return { loss, accuracy: correct / data.count, ...(auc !== null ? { auc } : {}), samples: data.count };
}
