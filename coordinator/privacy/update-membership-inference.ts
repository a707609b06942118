/**
 * Membership inference from one client's update, by the coordinator that received it: was
 * sample x in this client's training data? The coordinator knows the model w the client
 * started from and the update Δ it sent, and tests candidate samples against them:
 *
 * - gradient alignment: cos(−∇L(w; x), Δ). Local SGD moves the weights along the negative
 *   gradients of the client's own samples, so a member's gradient points along Δ far more
 *   than a non-member's (the white-box gradient test of Nasr, Shokri, Houmansadr, S&P 2019,
 *   reduced to its core statistic).
 * - loss drop: L(w; x) − L(w + Δ; x). The update was fitted to the members, so their loss falls
 *   most (Yeom et al.'s loss test, made differential so the sample's own difficulty cancels).
 *
 * Scores of one attack are comparable across updates (a cosine, a loss difference), so a round's
 * AUC pools every attacked update of the round: one threshold for all, as a real attacker has.
 */
import type { DataSplit } from '../../shared/data/dataset.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import { checkedFeatureSize, makeBatch } from '../../shared/models/batches.js';
import { layoutOf, setFlatWeights } from '../../shared/models/parameters.js';
import { eventLoopTurns } from '../../shared/scheduling/event-loop-turns.js';
import { add, l2Norm } from '../../shared/vector/vector-math.js';
import * as tf from '../../shared/tf.js';
import type { LayersModel } from '../../shared/tf.js';
import { perSampleLosses } from './membership-inference.js';

export type UpdateAttackName = 'gradient-alignment' | 'loss-drop';

export interface UpdateMembershipScores {
  /** One score per sample of the split, higher = more likely a member. */
  'gradient-alignment': Float64Array;
  'loss-drop': Float64Array;
}

/** Scores the samples of `candidates` against one update. The model's weights are left at `global`. */
export async function scoreAgainstUpdate(p: {
  model: LayersModel;
  shape: DataShape;
  global: Float32Array;
  delta: Float32Array;
  candidates: DataSplit;
}): Promise<UpdateMembershipScores> {
  const { model, shape, global, delta, candidates } = p;
  if (global.length !== delta.length) throw new RangeError(`scoreAgainstUpdate: global has ${global.length} values, delta ${delta.length}`);
  setFlatWeights(model, add(global, delta));
  const after = await perSampleLosses(model, candidates, shape);
  setFlatWeights(model, global);
  const before = await perSampleLosses(model, candidates, shape);
  return {
    'gradient-alignment': await gradientAlignment(model, shape, delta, candidates),
    'loss-drop': before.map((loss, i) => loss - after[i]!),
  };
}

/** cos(−∇L(x), Δ) per sample, at the model's current weights; one backward pass per sample. */
async function gradientAlignment(model: LayersModel, shape: DataShape, delta: Float32Array, data: DataSplit): Promise<Float64Array> {
  const featureSize = checkedFeatureSize(data, shape, 'scoreAgainstUpdate');
  const deltaNorm = l2Norm(delta);
  const offsets = new Map(layoutOf(model).entries.map((e) => [e.name, e.offset]));
  const variables = model.trainableWeights.map((w) => ({ variable: w.read() as tf.Variable, offset: offsets.get(w.originalName ?? w.name)! }));
  const yieldTurn = eventLoopTurns();
  const scores = new Float64Array(data.count);
  for (let row = 0; row < data.count; row++) {
    const { x, y } = makeBatch(data, [row], featureSize, shape);
    try {
      const { grads, value } = tf.variableGrads(
        () => sampleLoss(model, x, y, shape),
        variables.map((v) => v.variable),
      );
      let dot = 0;
      let squared = 0;
      for (const { variable, offset } of variables) {
        const gradient = grads[variable.name]!.dataSync();
        for (let i = 0; i < gradient.length; i++) {
          dot -= gradient[i]! * delta[offset + i]!;
          squared += gradient[i]! * gradient[i]!;
        }
      }
      tf.dispose([value, ...Object.values(grads)]);
      scores[row] = squared > 0 && deltaNorm > 0 ? dot / (Math.sqrt(squared) * deltaNorm) : 0;
    } finally {
      tf.dispose([x, y]);
    }
    await yieldTurn();
  }
  return scores;
}

/** The training loss of one sample (local training's cross-entropy, clipped the same way; squared error for regression). */
function sampleLoss(model: LayersModel, x: tf.Tensor, y: tf.Tensor, shape: DataShape): tf.Scalar {
  const predictions = model.apply(x) as tf.Tensor;
  if (shape.task === 'regression') return tf.losses.meanSquaredError<tf.Tensor, tf.Scalar>(y, predictions.reshape(y.shape));
  return tf.mean<tf.Scalar>(tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(predictions, 1e-7, 1 - 1e-7))), -1)));
}
