/**
 * Federated collaborative filtering's parts: the generated ratings (one client per user, ratings
 * in range, a popularity skew, deterministic), the matrix-factorisation model (its dot product
 * is p·q + b_u + b_i + μ, weight by weight), hit rate at 10 on a model whose ranking is set by
 * hand, MAE beside MSE, and the factorisation training on wasm as on cpu.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../client/backend/select-backend.js';
import { trainLocal } from '../../client/training/local-training.js';
import { generateRatings } from '../../shared/data/synthetic-ratings.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import { buildModel } from '../../shared/models/build-model.js';
import { evaluateModel } from '../../shared/models/evaluate-model.js';
import { layerSlices } from '../../shared/models/layer-slices.js';
import { getFlatWeights, initialWeights, layoutOf, setFlatWeights } from '../../shared/models/parameters.js';
import { hitRateAt10 } from '../../shared/models/rating-ranking.js';
import { Rng } from '../../shared/random.js';
import * as tf from '../../shared/tf.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

const OPTIONS = { users: 60, items: 80, rank: 4, meanRatings: 20, popularity: 1, noise: 0.3, testFraction: 0.2 };

describe('synthetic ratings', () => {
  it('gives each user its own client, ratings in [1, 5] from the users’ own streams, and skewed popularity', () => {
    const data = generateRatings(OPTIONS, new Rng(5));
    expect(data.categories).toEqual([60, 80]);
    expect(data.naturalPartition).toHaveLength(60);
    data.naturalPartition!.forEach((rows, user) => {
      expect(rows.length).toBeGreaterThanOrEqual(4);
      for (const r of rows) expect(data.train.features[2 * r]).toBe(user);
    });
    expect(Math.min(...data.train.labels)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...data.train.labels)).toBeLessThanOrEqual(5);
    expect(data.test.count / (data.train.count + data.test.count)).toBeCloseTo(0.2, 1);
    const perItem = new Array<number>(80).fill(0);
    for (let r = 0; r < data.train.count; r++) perItem[data.train.features[2 * r + 1]!]! += 1;
    const sorted = [...perItem].sort((a, b) => b - a);
    expect(sorted[0]).toBeGreaterThan(4 * sorted[40]!);
    expect(generateRatings(OPTIONS, new Rng(5))).toEqual(data);
    // A user's ratings come from its own stream: more users leave the first ones as they were.
    const more = generateRatings({ ...OPTIONS, users: 61 }, new Rng(5));
    expect(more.naturalPartition![0]!.map((r) => more.train.labels[r])).toEqual(data.naturalPartition![0]!.map((r) => data.train.labels[r]));
  });
});

describe('matrix factorisation', () => {
  const shape: DataShape = { task: 'regression', featureShape: [2], numClasses: 0, categories: [3, 12] };

  /** Weights set by hand: user u's vector, its bias, item vectors, item biases, μ. */
  function handMade(): { model: tf.LayersModel; predict: (u: number, i: number) => number } {
    const model = buildModel({ name: 'matrix-factorization', dimension: 2 }, shape);
    const layout = layoutOf(model);
    expect(layout.entries.map((e) => `${e.name}:${e.shape.join('x')}`)).toEqual([
      'users/embeddings:3x2',
      'users/bias:3',
      'items/embeddings:12x2',
      'items/bias:12',
      'items/offset:1',
    ]);
    const p = [
      [1, 0],
      [0, 1],
      [0.5, -0.5],
    ];
    const bu = [0.1, -0.2, 0];
    const q = Array.from({ length: 12 }, (_, i) => [i / 10, (11 - i) / 10]);
    const bi = Array.from({ length: 12 }, (_, i) => (i % 3) / 10);
    const mu = 3;
    setFlatWeights(model, Float32Array.from([...p.flat(), ...bu, ...q.flat(), ...bi, mu]));
    return { model, predict: (u, i) => p[u]![0]! * q[i]![0]! + p[u]![1]! * q[i]![1]! + bu[u]! + bi[i]! + mu };
  }

  it('rates p_u·q_i + b_u + b_i + μ', () => {
    const { model, predict } = handMade();
    const pairs = [
      [0, 0],
      [1, 5],
      [2, 11],
    ];
    const out = (model.predict(tf.tensor2d(pairs.flat(), [3, 2])) as tf.Tensor).dataSync();
    pairs.forEach(([u, i], k) => expect(out[k]).toBeCloseTo(predict(u!, i!), 5));
    expect(layerSlices(layoutOf(model), ['users']).size).toBe(3 * 2 + 3);
  });

  it('hit rate at 10: a liked held-out item among the top 10 unseen items', () => {
    const { model, predict } = handMade();
    // User 0 scores items by i/10 + (i%3)/10: its ranking, best first.
    const ranking = Array.from({ length: 12 }, (_, i) => i).sort((a, b) => predict(0, b) - predict(0, a) || a - b);
    const worst = ranking.at(-1)!;
    const best = ranking[0]!;
    const rows = (list: [number, number, number][]) => ({
      features: Float32Array.from(list.flatMap(([u, i]) => [u, i])),
      labels: Float32Array.from(list.map(([, , r]) => r)),
      count: list.length,
    });
    const none = rows([]);
    // The worst item ranks 12th of 12: a miss; rate the two best in training and it moves up to 10th: a hit.
    expect(hitRateAt10(model, rows([[0, worst, 5]]), none, shape)).toBe(0);
    expect(
      hitRateAt10(
        model,
        rows([[0, worst, 5]]),
        rows([
          [0, ranking[0]!, 3],
          [0, ranking[1]!, 3],
        ]),
        shape,
      ),
    ).toBe(1);
    // Disliked held-out items do not count; a user with none liked is left out.
    expect(hitRateAt10(model, rows([[0, best, 2]]), none, shape)).toBeNull();
    expect(
      hitRateAt10(
        model,
        rows([
          [0, best, 4],
          [1, worst, 1],
        ]),
        none,
        shape,
      ),
    ).toBe(1);
  });

  it('reports MAE beside MSE', async () => {
    const { model, predict } = handMade();
    const rows = { features: Float32Array.from([0, 0, 1, 1]), labels: Float32Array.from([predict(0, 0) + 0.5, predict(1, 1) - 1]), count: 2 };
    const scored = await evaluateModel(model, rows, shape);
    expect(scored.mse).toBeCloseTo((0.25 + 1) / 2, 5);
    expect(scored.mae).toBeCloseTo(0.75, 5);
  });

  it('trains the same on wasm as on cpu', async () => {
    const data = generateRatings({ ...OPTIONS, users: 3, items: 12 }, new Rng(2));
    const ratingShape: DataShape = { task: 'regression', featureShape: [2], numClasses: 0, categories: [3, 12] };
    const trained: Float32Array[] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      await selectBackend(backend);
      const model = buildModel({ name: 'matrix-factorization', dimension: 2 }, ratingShape);
      setFlatWeights(model, initialWeights(model, 1));
      await trainLocal(model, data.train, ratingShape, { epochs: 3, batchSize: 4, optimizer: 'sgd', learningRate: 0.1, seed: 1 });
      trained.push(getFlatWeights(model));
    }
    await selectBackend('cpu');
    trained[1]!.forEach((v, i) => expect(v).toBeCloseTo(trained[0]![i]!, 4));
    expect(trained[0]).not.toEqual(initialWeights(buildModel({ name: 'matrix-factorization', dimension: 2 }, ratingShape), 1));
  });
});
