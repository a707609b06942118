import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../client/backend/select-backend.js';
import { trainLocal, type LocalTrainingConfig } from '../../client/training/local-training.js';
import { evaluateModel } from '../../shared/models/evaluate-model.js';
import type { DataSplit } from '../../shared/data/dataset.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import { buildModel } from '../../shared/models/build-model.js';
import type { ModelSpec } from '../../shared/models/registry.js';
import { getFlatWeights, initialWeights, setFlatWeights } from '../../shared/models/parameters.js';
import { Rng } from '../../shared/random.js';
import * as tf from '../../shared/tf.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

/** Two Gaussian blobs in 4-D, linearly separable. */
function blobs(n: number, seed: number): DataSplit {
  const rng = new Rng(seed);
  const features = new Float32Array(n * 4);
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    labels[i] = label;
    for (let j = 0; j < 4; j++) features[i * 4 + j] = rng.normal(label === 0 ? -1.5 : 1.5, 0.7);
  }
  return { features, labels, count: n };
}
const blobShape: DataShape = { task: 'classification', featureShape: [4], numClasses: 2 };
const config = { epochs: 3, batchSize: 8 as number | 'all', optimizer: 'sgd' as const, learningRate: 0.2, seed: 3 };

describe('local training', () => {
  it('is deterministic: same seed, data and start give bit-identical weights', async () => {
    const data = blobs(64, 1);
    const runOnce = async () => {
      const model = buildModel({ name: 'mlp', hidden: [8] }, blobShape);
      setFlatWeights(model, initialWeights(model, 9));
      await trainLocal(model, data, blobShape, config);
      return getFlatWeights(model);
    };
    const a = await runOnce();
    const b = await runOnce();
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });

  it('lets the event loop turn between steps, and yields the same weights as a blocking run', async () => {
    const data = blobs(64, 5);
    // Each turn of the loop runs one link of this chain: how many turns training allowed.
    const turnsDuring = async (turnMs: number) => {
      const model = buildModel({ name: 'mlp', hidden: [8] }, blobShape);
      setFlatWeights(model, initialWeights(model, 9));
      let turns = 0;
      let training = true;
      const spin = () => {
        turns += 1;
        if (training) setImmediate(spin);
      };
      setImmediate(spin);
      const result = await trainLocal(model, data, blobShape, { ...config, turnMs });
      training = false;
      return { turns, steps: result.steps, weights: getFlatWeights(model) };
    };
    const yielding = await turnsDuring(0);
    const blocking = await turnsDuring(Infinity);
    expect(yielding.turns).toBeGreaterThanOrEqual(yielding.steps);
    expect(blocking.turns).toBeLessThan(blocking.steps);
    expect(Buffer.from(yielding.weights.buffer).equals(Buffer.from(blocking.weights.buffer))).toBe(true);
  });

  it('lowers the loss on a separable problem and counts steps as E·⌈n/B⌉', async () => {
    const model = buildModel({ name: 'logistic-regression' }, blobShape);
    setFlatWeights(model, initialWeights(model, 1));
    const result = await trainLocal(model, blobs(100, 2), blobShape, { ...config, epochs: 4, batchSize: 16 });
    expect(result.steps).toBe(4 * Math.ceil(100 / 16));
    expect(result.samples).toBe(100);
    expect(result.meanLoss).toBeLessThan(result.firstEpochLoss);
    const evaluation = await evaluateModel(model, blobs(200, 3), blobShape);
    expect(evaluation.accuracy).toBeGreaterThan(0.95);
  });

  it('takes one full-batch step per epoch with batchSize "all"', async () => {
    const model = buildModel({ name: 'logistic-regression' }, blobShape);
    setFlatWeights(model, initialWeights(model, 1));
    const result = await trainLocal(model, blobs(50, 4), blobShape, { ...config, epochs: 5, batchSize: 'all' });
    expect(result.steps).toBe(5);
  });

  it('fits a linear regression close to the true coefficients', async () => {
    const rng = new Rng(5);
    const truth = [2, -3, 0.5];
    const n = 400;
    const features = Float32Array.from({ length: n * 3 }, () => rng.normal());
    const labels = Float32Array.from({ length: n }, (_, i) => truth.reduce((s, w, j) => s + w * features[i * 3 + j]!, 1) + rng.normal(0, 0.05));
    const shape: DataShape = { task: 'regression', featureShape: [3], numClasses: 0 };
    const model = buildModel({ name: 'linear-regression' }, shape);
    setFlatWeights(model, initialWeights(model, 1));
    await trainLocal(model, { features, labels, count: n }, shape, { epochs: 30, batchSize: 20, optimizer: 'sgd', learningRate: 0.05, seed: 1 });
    const w = getFlatWeights(model);
    for (let j = 0; j < 3; j++) expect(w[j]).toBeCloseTo(truth[j]!, 1);
    expect(w[3]).toBeCloseTo(1, 1);
    const evaluation = await evaluateModel(model, { features, labels, count: n }, shape);
    expect(evaluation.mse).toBeLessThan(0.01);
  });

  it("reports the global model's loss on the client's data before training when the config asks (q-FedAvg's F_k)", async () => {
    const data = blobs(40, 8);
    const model = buildModel({ name: 'mlp', hidden: [8] }, blobShape);
    setFlatWeights(model, initialWeights(model, 4));
    const before = (await evaluateModel(model, data, blobShape)).loss;
    const asked = await trainLocal(model, data, blobShape, {
      ...config,
      round: { global: getFlatWeights(model), config: { reportStartLoss: true }, vectors: {} },
    });
    expect(asked.startLoss).toBe(before);
    expect(asked.meanLoss).toBeLessThan(before);
    expect((await trainLocal(model, data, blobShape, config)).startLoss).toBeUndefined();
  });

  it('leaks no tensors', async () => {
    const model = buildModel({ name: 'mlp', hidden: [8] }, blobShape);
    setFlatWeights(model, initialWeights(model, 1));
    const before = tf.memory().numTensors;
    await trainLocal(model, blobs(40, 6), blobShape, { ...config, optimizer: 'adam', learningRate: 0.01 });
    await trainLocal(model, blobs(40, 6), blobShape, { ...config, optimizer: 'momentum', learningRate: 0.01 });
    await evaluateModel(model, blobs(40, 7), blobShape, 16);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('refusals', () => {
  it('refuses settings that cannot train, and data that does not fit its shape', async () => {
    const model = buildModel({ name: 'logistic-regression' }, blobShape);
    const data = blobs(10, 1);
    await expect(trainLocal(model, data, blobShape, { ...config, batchSize: 0 })).rejects.toThrow(
      'trainLocal: batchSize must be an integer ≥ 1 or "all" (got 0)',
    );
    await expect(trainLocal(model, data, blobShape, { ...config, epochs: 0, learningRate: -1 })).rejects.toThrow(
      'trainLocal: epochs must be an integer ≥ 1 (got 0); learningRate must be > 0 (got -1)',
    );
    await expect(trainLocal(model, { ...data, count: 11 }, blobShape, config)).rejects.toThrow(
      /got 40 feature values and 10 labels for 11 samples, expected 11 × 4/,
    );
    await expect(evaluateModel(model, { ...data, count: 0, features: new Float32Array(0) }, blobShape)).rejects.toThrow(
      'evaluateModel: the split has no samples',
    );
  });

  it('refuses a label that is not a class index, without leaking tensors', async () => {
    const model = buildModel({ name: 'logistic-regression' }, blobShape);
    const data = blobs(20, 1);
    data.labels[13] = 2;
    const before = tf.memory().numTensors;
    await expect(trainLocal(model, data, blobShape, config)).rejects.toThrow('label of sample 13 is not a class index (got 2, expected an integer in [0, 2))');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('evaluation', () => {
  it('computes accuracy and cross-entropy exactly on a hand-made model', async () => {
    // Logistic regression with W = 0 and bias (ln 3, 0): every prediction is (0.75, 0.25).
    const model = buildModel({ name: 'logistic-regression' }, blobShape);
    const weights = new Float32Array(4 * 2 + 2);
    weights[8] = Math.log(3);
    setFlatWeights(model, weights);
    const data: DataSplit = { features: new Float32Array(4 * 4), labels: Float32Array.from([0, 0, 0, 1]), count: 4 };
    const evaluation = await evaluateModel(model, data, blobShape, 3);
    expect(evaluation.accuracy).toBeCloseTo(0.75, 6);
    expect(evaluation.loss).toBeCloseTo((3 * -Math.log(0.75) - Math.log(0.25)) / 4, 5);
  });
});

describe('regression evaluation', () => {
  it('reports the mean squared and absolute errors of known predictions', async () => {
    // y = 2·x + 1 exactly; targets off by (0, 1, −2, 3): MSE = (0 + 1 + 4 + 9) / 4 = 3.5, MAE = 6 / 4.
    const shape: DataShape = { task: 'regression', featureShape: [1], numClasses: 0 };
    const model = buildModel({ name: 'linear-regression' }, shape);
    setFlatWeights(model, Float32Array.from([2, 1]));
    const x = [0, 1, 2, 3];
    const data: DataSplit = { features: Float32Array.from(x), labels: Float32Array.from(x.map((v, i) => 2 * v + 1 + [0, 1, -2, 3][i]!)), count: 4 };
    const evaluation = await evaluateModel(model, data, shape, 3);
    expect(evaluation).toEqual({ loss: 3.5, mse: 3.5, mae: 1.5, samples: 4 });
  });
});

/**
 * The same local training on cpu and on wasm, from the same initial weights: the wasm run's
 * last-epoch loss, its first, and the largest weight difference between the two backends.
 */
async function onBothBackends(spec: ModelSpec, shape: DataShape, data: DataSplit, initSeed: number, config: LocalTrainingConfig) {
  const trained = async (backend: 'cpu' | 'wasm') => {
    await selectBackend(backend);
    const model = buildModel(spec, shape);
    setFlatWeights(model, initialWeights(model, initSeed));
    const result = await trainLocal(model, data, shape, config);
    return { weights: getFlatWeights(model), result };
  };
  const cpu = await trained('cpu');
  const wasm = await trained('wasm');
  await selectBackend('cpu');
  let maxDiff = 0;
  for (let i = 0; i < cpu.weights.length; i++) maxDiff = Math.max(maxDiff, Math.abs(cpu.weights[i]! - wasm.weights[i]!));
  return { wasm: wasm.result, maxDiff };
}

describe('the CNN trains on wasm like on cpu', () => {
  it('takes the same SGD steps on both backends', async () => {
    const rng = new Rng(8);
    const shape: DataShape = { task: 'classification', featureShape: [28, 28, 1], numClasses: 10 };
    const data: DataSplit = { features: Float32Array.from({ length: 6 * 784 }, () => rng.next()), labels: Float32Array.from([0, 1, 2, 3, 4, 5]), count: 6 };
    const { wasm, maxDiff } = await onBothBackends({ name: 'cnn-small' }, shape, data, 4, {
      epochs: 3,
      batchSize: 3,
      optimizer: 'sgd',
      learningRate: 0.05,
      seed: 2,
    });
    expect(wasm.meanLoss).toBeLessThan(wasm.firstEpochLoss);
    expect(maxDiff).toBeLessThan(1e-3);
  }, 60_000);
});

describe('the LSTM trains on wasm', () => {
  it('takes SGD steps there (its embedding needs no gather gradient, which wasm lacks) close to cpu’s', async () => {
    const shape: DataShape = { task: 'classification', featureShape: [12], numClasses: 6, vocabulary: 6 };
    // A repeating sequence: each window's next token is predictable.
    const data: DataSplit = {
      features: Float32Array.from({ length: 8 * 12 }, (_, i) => (Math.floor(i / 12) + (i % 12)) % 6),
      labels: Float32Array.from({ length: 8 }, (_, r) => (r + 12) % 6),
      count: 8,
    };
    const spec: ModelSpec = { name: 'lstm', embedding: 4, layers: [8] };
    const { wasm, maxDiff } = await onBothBackends(spec, shape, data, 3, { epochs: 20, batchSize: 4, optimizer: 'sgd', learningRate: 0.5, seed: 1 });
    expect(wasm.meanLoss).toBeLessThan(wasm.firstEpochLoss);
    expect(maxDiff).toBeLessThan(1e-3);
  }, 60_000);
});
