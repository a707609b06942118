import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../client/backend/select-backend.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import { buildModel, checkModelFitsData, describeModel } from '../../shared/models/build-model.js';
import { parameterCountOf, type ModelSpec } from '../../shared/models/registry.js';
import { trainLocal } from '../../client/training/local-training.js';
import { evaluateModel } from '../../shared/models/evaluate-model.js';
import { Rng } from '../../shared/random.js';
import * as tf from '../../shared/tf.js';
import { getFlatWeights, initialWeights, layoutOf, layoutsEqual, setFlatWeights } from '../../shared/models/parameters.js';

const mnist: DataShape = { task: 'classification', featureShape: [28, 28, 1], numClasses: 10 };
const boston: DataShape = { task: 'regression', featureShape: [13], numClasses: 0 };

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('models', () => {
  it('builds the FedAvg paper CNN with exactly 1,663,370 parameters', () => {
    // conv1 5·5·1·32+32 = 832; conv2 5·5·32·64+64 = 51,264; dense 3136·512+512 = 1,606,144;
    // softmax 512·10+10 = 5,130.
    expect(buildModel({ name: 'cnn' }, mnist).countParams()).toBe(1_663_370);
  });

  it('builds the 2NN (784-200-200-10) with 199,210 parameters', () => {
    expect(buildModel({ name: 'mlp', preset: '2nn' }, mnist).countParams()).toBe(199_210);
  });

  it('builds cnn-small with 693,962 parameters', () => {
    // conv 3·3·1·32+32 = 320; 26×26 → pool → 13·13·32 = 5,408; dense 5408·128+128 = 692,352;
    // softmax 128·10+10 = 1,290.
    expect(buildModel({ name: 'cnn-small' }, mnist).countParams()).toBe(693_962);
  });

  it("builds the documents' presets: the Keras tutorial CNN (93,322) and the 784-128-10 MLP (101,770)", () => {
    // conv1 3·3·1·32+32 = 320 (26×26, pool 13×13); conv2 3·3·32·64+64 = 18,496 (11×11, pool 5×5);
    // conv3 3·3·64·64+64 = 36,928 (3×3·64 = 576); dense 576·64+64 = 36,928; softmax 64·10+10 = 650.
    expect(buildModel({ name: 'cnn', preset: 'keras' }, mnist).countParams()).toBe(93_322);
    // 784·128+128 = 100,480; 128·10+10 = 1,290.
    expect(buildModel({ name: 'mlp', preset: 'mnist-128' }, mnist).countParams()).toBe(101_770);
    expect(describeModel({ name: 'cnn', preset: 'keras' }, mnist)).toMatch(/^CNN \(Keras tutorial\): conv 3×3×32 valid/);
    expect(checkModelFitsData({ name: 'cnn', preset: 'keras' }, { ...mnist, featureShape: [17, 17, 1] })).toEqual([
      "model.preset: keras's three valid 3×3 convs and two pools need images of at least 18×18 (got 17×17 in this dataset, expected a larger image dataset or no preset)",
    ]);
    expect(checkModelFitsData({ name: 'mlp', preset: 'mnist-128', hidden: [5] }, mnist)).toEqual([
      'model.hidden: the mnist-128 preset fixes the hidden layers at [128] (got [5], expected no hidden with preset: mnist-128)',
    ]);
  });

  it('builds the FedAvg paper Shakespeare LSTM with LEAF’s 817,872 parameters (80-character vocabulary), and counts every recurrent preset', () => {
    const text: DataShape = { task: 'classification', featureShape: [80], numClasses: 80, vocabulary: 80 };
    // embedding 80·8 = 640; LSTM 4·(256·(8+256)+256) = 271,360 and 4·(256·512+256) = 525,312; softmax 256·80+80 = 20,560.
    expect(buildModel({ name: 'lstm', preset: 'shakespeare' }, text).countParams()).toBe(640 + 271_360 + 525_312 + 20_560);
    expect(parameterCountOf({ name: 'lstm', preset: 'shakespeare' }, text)).toBe(817_872);
    for (const spec of [
      { name: 'lstm', preset: 'small' },
      { name: 'gru', preset: 'shakespeare' },
      { name: 'gru', preset: 'small' },
      { name: 'gru', embedding: 16, layers: [32, 24] },
    ] satisfies ModelSpec[]) {
      expect(parameterCountOf(spec, text), JSON.stringify(spec)).toBe(buildModel(spec, text).countParams());
    }
    expect(parameterCountOf({ name: 'lstm', preset: 'small' }, text)).toBe(24_528);
    expect(checkModelFitsData({ name: 'lstm' }, mnist)).toEqual([
      'model.name: lstm reads sequences of tokens (got this dataset with features [28, 28, 1], expected shakespeare)',
    ]);
    expect(checkModelFitsData({ name: 'gru', preset: 'small', layers: [8] }, text)[0]).toMatch(/^model\.preset: small fixes the embedding and layers/);
  });

  it('trains the Keras tutorial CNN one batch on the cpu backend to a finite, lower loss', async () => {
    const tf = await import('../../shared/tf.js');
    const model = buildModel({ name: 'cnn', preset: 'keras' }, mnist);
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10);
    const losses: number[] = [];
    for (let step = 0; step < 3; step++) losses.push((await model.trainOnBatch(x, y)) as number);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[2]!).toBeLessThan(losses[0]!);
  });

  it("builds the documents' binary MLP (3-10-1, sigmoid): 51 parameters, [1 − p, p] out, binary cross-entropy, and it learns", async () => {
    const binary: DataShape = { task: 'classification', featureShape: [3], numClasses: 2 };
    const model = buildModel({ name: 'mlp', preset: 'binary-10' }, binary);
    // hidden 3·10+10 = 40; sigmoid 10·1+1 = 11.
    expect(model.countParams()).toBe(51);
    expect(parameterCountOf({ name: 'mlp', preset: 'binary-10' }, binary)).toBe(51);
    expect(describeModel({ name: 'mlp', preset: 'binary-10' }, binary)).toBe('MLP 3-10-1, relu hidden, sigmoid output (two classes)');
    const rng = new Rng(11);
    const count = 400;
    const features = Float32Array.from({ length: count * 3 }, () => rng.normal(0, 1));
    const labels = Float32Array.from({ length: count }, (_, i) => (features[i * 3]! - features[i * 3 + 2]! > 0 ? 1 : 0));
    const [probabilities, p] = tf.tidy(() => {
      const x = tf.tensor2d(features.subarray(0, 12), [4, 3]);
      // Every layer but the last: the sigmoid unit itself.
      const sigmoid = model.layers.slice(0, -1).reduce((t, layer) => layer.apply(t) as tf.Tensor, x as tf.Tensor);
      return [(model.predict(x) as tf.Tensor).arraySync() as number[][], sigmoid.arraySync() as number[][]];
    });
    probabilities.forEach((row, i) => expect(row.map((v) => +v.toFixed(6))).toEqual([+(1 - p[i]![0]!).toFixed(6), +p[i]![0]!.toFixed(6)]));
    // Evaluation's cross-entropy on [1 − p, p] is binary cross-entropy on p.
    const split = { features, labels, count };
    const before = await evaluateModel(model, split, binary);
    const scores = tf.tidy(() => (model.predict(tf.tensor2d(features, [count, 3])) as tf.Tensor).arraySync() as number[][]);
    const bce = -scores.reduce((s, [, q], i) => s + (labels[i] === 1 ? Math.log(q!) : Math.log(1 - q!)), 0) / count;
    expect(before.loss).toBeCloseTo(bce, 5);
    await trainLocal(model, split, binary, { epochs: 20, batchSize: 20, optimizer: 'sgd', learningRate: 0.3, seed: 1 });
    const after = await evaluateModel(model, split, binary);
    expect(after.loss).toBeLessThan(before.loss);
    expect(after.accuracy).toBeGreaterThan(0.9);
    expect(after.auc).toBeGreaterThan(0.95);
    expect(checkModelFitsData({ name: 'mlp', preset: 'binary-10' }, mnist, 'mnist')).toEqual([
      'model.preset: binary-10 has one sigmoid output for two classes (got mnist with 10 classes, expected a two-class dataset such as synthetic with numClasses: 2, or output: softmax)',
    ]);
    expect(checkModelFitsData({ name: 'mlp', hidden: [4], output: 'sigmoid' }, mnist, 'mnist')[0]).toMatch(/^model\.output: sigmoid has one sigmoid output/);
    model.dispose();
  });

  it('builds linear and logistic regression', () => {
    expect(buildModel({ name: 'linear-regression' }, boston).countParams()).toBe(14);
    expect(buildModel({ name: 'logistic-regression' }, mnist).countParams()).toBe(7850);
    expect(buildModel({ name: 'mlp', hidden: [32, 16], activation: 'tanh' }, mnist).countParams()).toBe(784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10);
  });

  it('refuses data a model cannot take, naming the problem', () => {
    expect(() => buildModel({ name: 'cnn' }, { task: 'classification', featureShape: [60], numClasses: 10 })).toThrow(
      /cnn needs image data of shape \[height, width, channels\] \(got this dataset with features \[60\]/,
    );
    expect(checkModelFitsData({ name: 'linear-regression' }, mnist, 'mnist')[0]).toMatch(/got classification dataset mnist/);
    expect(checkModelFitsData({ name: 'mlp' }, boston, 'boston-housing')[0]).toMatch(/mlp is a classifier \(got regression dataset boston-housing/);
    expect(checkModelFitsData({ name: 'logistic-regression' }, { ...mnist, numClasses: 1 })).toEqual([
      'model.name: logistic-regression needs at least 2 classes (got 1 in this dataset, expected 2 or more)',
    ]);
    expect(() => buildModel({ name: 'cnn' }, { ...mnist, featureShape: [3, 8, 1] })).toThrow(
      'model.name: cnn needs images of at least 4×4 pixels (got 3×8 in this dataset, expected 4×4 or larger)',
    );
    expect(buildModel({ name: 'cnn-small' }, { ...mnist, featureShape: [4, 4, 3] }).countParams()).toBe(3 * 3 * 3 * 32 + 32 + 32 * 128 + 128 + 128 * 10 + 10);
    expect(checkModelFitsData({ name: 'mlp', preset: '2nn' }, mnist)).toEqual([]);
  });

  it('describes each model in one line', () => {
    expect(describeModel({ name: 'mlp', preset: '2nn' }, mnist)).toBe('MLP 2NN (McMahan et al. 2017) 784-200-200-10, relu hidden, softmax output');
    expect(describeModel({ name: 'mlp', hidden: [64], activation: 'tanh' })).toBe('MLP in-64-classes, tanh hidden, softmax output');
    expect(describeModel({ name: 'linear-regression' }, boston)).toBe('linear regression (dense 13→1, MSE)');
    expect(describeModel({ name: 'cnn' }, mnist)).toMatch(/^CNN \(McMahan et al\. 2017\): conv 5×5×32 same relu.*dense 10 softmax$/);
  });
});

describe('flat parameter vectors', () => {
  it('lays weights out contiguously in getWeights order', () => {
    const layout = layoutOf(buildModel({ name: 'cnn' }, mnist));
    expect(layout.totalSize).toBe(1_663_370);
    let offset = 0;
    for (const entry of layout.entries) {
      expect(entry.offset).toBe(offset);
      expect(entry.size).toBe(entry.shape.reduce((a, b) => a * b, 1));
      offset += entry.size;
    }
    expect(layout.entries.map((e) => e.name)).toEqual([
      'conv1/kernel',
      'conv1/bias',
      'conv2/kernel',
      'conv2/bias',
      'dense1/kernel',
      'dense1/bias',
      'softmax/kernel',
      'softmax/bias',
    ]);
  });

  it('gives two builds in one process the same layout', () => {
    expect(layoutsEqual(layoutOf(buildModel({ name: 'mlp', preset: '2nn' }, mnist)), layoutOf(buildModel({ name: 'mlp', preset: '2nn' }, mnist)))).toBe(true);
    expect(layoutsEqual(layoutOf(buildModel({ name: 'cnn' }, mnist)), layoutOf(buildModel({ name: 'cnn-small' }, mnist)))).toBe(false);
  });

  it('round-trips weights exactly and refuses the wrong length', () => {
    const model = buildModel({ name: 'mlp', hidden: [16] }, mnist);
    const weights = initialWeights(model, 5);
    setFlatWeights(model, weights);
    expect(Buffer.from(getFlatWeights(model).buffer).equals(Buffer.from(weights.buffer))).toBe(true);
    expect(() => setFlatWeights(model, new Float32Array(weights.length - 1))).toThrow(/vector has 12729 values, expected 12730/);
  });

  it('initialises deterministically by seed, Glorot-uniform kernels and zero biases', () => {
    const model = buildModel({ name: 'cnn' }, mnist);
    const a = initialWeights(model, 7);
    expect(Buffer.from(initialWeights(buildModel({ name: 'cnn' }, mnist), 7).buffer).equals(Buffer.from(a.buffer))).toBe(true);
    expect(Buffer.from(initialWeights(model, 8).buffer).equals(Buffer.from(a.buffer))).toBe(false);
    for (const entry of layoutOf(model).entries) {
      const values = a.subarray(entry.offset, entry.offset + entry.size);
      if (entry.shape.length === 1) {
        expect(values.every((v) => v === 0)).toBe(true);
        continue;
      }
      const field = entry.shape.slice(0, -2).reduce((x, y) => x * y, 1);
      const limit = Math.sqrt(6 / (field * (entry.shape.at(-2)! + entry.shape.at(-1)!)));
      const max = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(max).toBeLessThanOrEqual(limit);
      expect(max).toBeGreaterThan(0.95 * limit);
    }
  });
});
