/**
 * AUC of a two-class classifier: hand-made rankings, ties, a missing class, the pairwise
 * definition on seeded random scores, and evaluateModel's AUC on a real tfjs model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../client/backend/select-backend.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import { buildModel } from '../../shared/models/build-model.js';
import { evaluateModel } from '../../shared/models/evaluate-model.js';
import { rocAuc } from '../../shared/models/roc-auc.js';
import { Rng } from '../../shared/random.js';
import * as tf from '../../shared/tf.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

/** The definition: the share of (positive, negative) pairs ranked right, ties counting ½. */
function pairwiseAuc(scores: number[], labels: number[]): number {
  let right = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    for (let j = 0; j < scores.length; j++) {
      if (labels[i] !== 1 || labels[j] !== 0) continue;
      pairs += 1;
      right += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return right / pairs;
}

describe('rocAuc', () => {
  it('is 1 for a perfect ranking, 0 for an inverted one, ½ when all tie, 0.75 on the textbook case', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
  });

  it('is null when the split holds one class only', () => {
    expect(rocAuc([0.1, 0.7], [1, 1])).toBeNull();
    expect(rocAuc([0.1, 0.7], [0, 0])).toBeNull();
    expect(() => rocAuc([0.1], [0, 1])).toThrow(/1 scores for 2 labels/);
  });

  it('equals the pairwise definition on seeded scores with many ties', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + rng.int(60);
      const labels = Array.from({ length: n }, () => (rng.next() < 0.4 ? 1 : 0));
      labels[0] = 1;
      labels[1] = 0;
      // Scores on a coarse grid, so that ties across classes are common.
      const scores = labels.map((l) => Math.round((rng.next() + 0.3 * l) * 8) / 8);
      expect(rocAuc(scores, labels)).toBeCloseTo(pairwiseAuc(scores, labels), 12);
    }
  });
});

describe('evaluateModel on two classes', () => {
  it('reports the AUC of P(class 1) beside accuracy, over several batches', async () => {
    const shape: DataShape = { task: 'classification', featureShape: [3], numClasses: 2 };
    const model = buildModel({ name: 'logistic-regression' }, shape);
    const rng = new Rng(3);
    const count = 57;
    const features = Float32Array.from({ length: count * 3 }, () => rng.normal(0, 1));
    const labels = Float32Array.from({ length: count }, (_, i) => (features[i * 3]! + 0.5 * rng.normal(0, 1) > 0 ? 1 : 0));
    const evaluation = await evaluateModel(model, { features, labels, count }, shape, 10);
    const probabilities = tf.tidy(() => (model.predict(tf.tensor2d(features, [count, 3])) as tf.Tensor).arraySync() as number[][]);
    expect(evaluation.auc).toBeCloseTo(
      pairwiseAuc(
        probabilities.map((p) => p[1]!),
        [...labels],
      ),
      6,
    );
    expect(evaluation.accuracy).toBeGreaterThan(0);
    model.dispose();
  });

  it('leaves AUC out for more classes and for regression', async () => {
    const shape: DataShape = { task: 'classification', featureShape: [3], numClasses: 3 };
    const model = buildModel({ name: 'logistic-regression' }, shape);
    const evaluation = await evaluateModel(model, { features: new Float32Array(6), labels: Float32Array.from([0, 2]), count: 2 }, shape);
    expect(evaluation.auc).toBeUndefined();
    model.dispose();
  });
});
