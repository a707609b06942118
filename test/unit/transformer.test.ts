/**
 * The transformer model (shared/models/catalog/transformer.ts and its layers): its parameter
 * arithmetic against tfjs, the causal mask, both heads, its refusals, and training on cpu and
 * wasm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../client/backend/select-backend.js';
import { trainLocal, type LocalTrainingConfig } from '../../client/training/local-training.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import type { DataSplit } from '../../shared/data/dataset.js';
import { buildModel } from '../../shared/models/build-model.js';
import { evaluateModel } from '../../shared/models/evaluate-model.js';
import { TRANSFORMER, type TransformerSpec } from '../../shared/models/catalog/transformer.js';
import { getFlatWeights, initialWeights, layoutOf, layoutsEqual, setFlatWeights } from '../../shared/models/parameters.js';
import { checkModelFitsData, parameterCountOf } from '../../shared/models/registry.js';
import { transformerBlock } from '../../shared/models/self-attention.js';
import { Rng } from '../../shared/random.js';
import * as tf from '../../shared/tf.js';

const shakespeare: DataShape = { task: 'classification', featureShape: [80], numClasses: 80, vocabulary: 80 };
/** A sentiment-like shape: 16 token ids below 50, two classes. */
const reviews: DataShape = { task: 'classification', featureShape: [16], numClasses: 2, vocabulary: 50 };
const spec = (fields: Partial<TransformerSpec> = {}): TransformerSpec => TRANSFORMER.schema.parse({ name: 'transformer', ...fields });

/** Random token windows whose label is the token just before the last one: learnable only by attending to another position. */
function previousTokenTask(n: number, length: number, vocabulary: number, seed: number): DataSplit {
  const rng = new Rng(seed);
  const features = Float32Array.from({ length: n * length }, () => Math.floor(rng.next() * vocabulary));
  const labels = Float32Array.from({ length: n }, (_, i) => features[i * length + length - 2]!);
  return { features, labels, count: n };
}

beforeAll(async () => {
  await selectBackend('cpu');
});
afterAll(async () => {
  await selectBackend('cpu');
});

describe('transformer parameters', () => {
  const cases: [string, TransformerSpec, DataShape][] = [
    ['default (base) on shakespeare', spec(), shakespeare],
    ['small on shakespeare', spec({ preset: 'small' }), shakespeare],
    ['3 heads of 8, one block', spec({ dimension: 24, heads: 3, blocks: 1, ffn: 40 }), shakespeare],
    ['classifier on reviews', spec({ dimension: 16, heads: 4, blocks: 3, ffn: 8, head: 'classifier' }), reviews],
  ];
  for (const [label, modelSpec, shape] of cases) {
    it(`counts by arithmetic what tfjs builds, and names its weighted layers: ${label}`, () => {
      const model = buildModel(modelSpec, shape);
      expect(parameterCountOf(modelSpec, shape)).toBe(model.countParams());
      expect(TRANSFORMER.layers(modelSpec)).toEqual(model.layers.filter((l) => l.weights.length > 0).map((l) => l.name));
      model.dispose();
    });
  }

  it('has the preset sizes reported to fedsim models', () => {
    expect(parameterCountOf(spec({ preset: 'small' }), shakespeare)).toBe(82_512);
    expect(parameterCountOf(spec({ preset: 'base' }), shakespeare)).toBe(824_144);
  });

  it('builds the same parameter layout twice in one process (explicit names, no tfjs counters)', () => {
    const [a, b] = [buildModel(spec({ preset: 'small' }), shakespeare), buildModel(spec({ preset: 'small' }), shakespeare)];
    expect(layoutsEqual(layoutOf(a), layoutOf(b))).toBe(true);
    expect(
      layoutOf(a)
        .entries.slice(2, 5)
        .map((e) => e.name),
    ).toEqual(['block1/attention_norm/gain', 'block1/attention_norm/bias', 'block1/query/kernel']);
    tf.dispose([a, b].flatMap((m) => m.weights.map((w) => w.read())));
  });
});

describe('causal self-attention', () => {
  it('lets position i see positions ≤ i only: a change at j leaves earlier outputs identical, bit for bit', () => {
    const [batch, length, dimension, changed] = [2, 12, 8, 5];
    const rng = new Rng(11);
    const block = transformerBlock(tf, { dimension, heads: 2, ffn: 16, name: 'block' });
    const values = Float32Array.from({ length: batch * length * dimension }, () => rng.normal());
    // New random values, not a shift: LayerNorm would cancel a constant added to a whole vector.
    const altered = values.slice();
    for (let b = 0; b < batch; b++) for (let d = 0; d < dimension; d++) altered[(b * length + changed) * dimension + d] = rng.normal();
    const [before, after] = [values, altered].map((v) => tf.tidy(() => (block.apply(tf.tensor3d(v, [batch, length, dimension])) as tf.Tensor).arraySync())) as [
      number[][][],
      number[][][],
    ];
    for (let b = 0; b < batch; b++) {
      for (let position = 0; position < length; position++) {
        if (position < changed) expect(after[b]![position]).toEqual(before[b]![position]);
        else expect(after[b]![position]).not.toEqual(before[b]![position]);
      }
    }
  });

  it('reads the whole window at the next-token head: the first token still changes the prediction', () => {
    const shape: DataShape = { task: 'classification', featureShape: [10], numClasses: 6, vocabulary: 6 };
    const model = buildModel(spec({ dimension: 8, heads: 2, blocks: 2, ffn: 8 }), shape);
    setFlatWeights(model, initialWeights(model, 5));
    const window = [1, 2, 3, 4, 5, 0, 1, 2, 3, 4];
    const predict = (tokens: number[]) => tf.tidy(() => (model.predict(tf.tensor2d(tokens, [1, 10])) as tf.Tensor).arraySync() as number[][]);
    expect(predict([0, ...window.slice(1)])).not.toEqual(predict(window));
  });
});

describe('the classifier head', () => {
  it('gives one distribution over the classes per sequence', () => {
    const model = buildModel(spec({ preset: 'small', head: 'classifier' }), reviews);
    setFlatWeights(model, initialWeights(model, 2));
    const tokens = tf.tensor2d(previousTokenTask(3, 16, 50, 1).features, [3, 16]);
    const output = model.predict(tokens) as tf.Tensor;
    expect(output.shape).toEqual([3, 2]);
    for (const row of output.arraySync() as number[][]) expect(row[0]! + row[1]!).toBeCloseTo(1, 5);
    tf.dispose([tokens, output]);
  });
});

describe('transformer refusals', () => {
  it('refuses data that is not token sequences, naming the dataset and its features', () => {
    const mnist: DataShape = { task: 'classification', featureShape: [28, 28, 1], numClasses: 10 };
    expect(checkModelFitsData(spec(), mnist, 'mnist')).toEqual([
      'model.name: transformer reads sequences of tokens (got mnist with features [28, 28, 1], expected shakespeare)',
    ]);
  });

  it('refuses a preset with explicit sizes, and heads that do not divide the width', () => {
    expect(TRANSFORMER.problems(spec({ preset: 'small', dimension: 96, ffn: 64 }), shakespeare, 'shakespeare')).toEqual([
      'model.preset: small fixes dimension, heads, blocks, ffn (got preset with dimension, ffn, expected one or the other)',
    ]);
    expect(TRANSFORMER.problems(spec({ heads: 3 }), shakespeare, 'shakespeare')).toEqual([
      'model.heads: each head takes an equal share of the width (got 3, expected a divisor of dimension 128)',
    ]);
    expect(TRANSFORMER.problems(spec({ preset: 'small', head: 'classifier' }), reviews, 'reviews')).toEqual([]);
    expect(() => buildModel(spec({ dimension: 10, heads: 4 }), shakespeare)).toThrow('model.heads:');
  });

  it('describes itself in one line', () => {
    expect(TRANSFORMER.describe(spec({ preset: 'small' }), shakespeare)).toBe(
      'Transformer (small): embedding 80×64 + 80 positions, 2 blocks of 2-head causal self-attention and ffn 128, last position → softmax over 80',
    );
  });
});

describe('transformer training', () => {
  const shape: DataShape = { task: 'classification', featureShape: [8], numClasses: 6, vocabulary: 6 };
  const tiny = (head: TransformerSpec['head']) => spec({ dimension: 16, heads: 2, blocks: 1, ffn: 16, head });

  /** The weights before, and after the same local training from them on each backend. */
  async function trainedOnBoth(modelSpec: TransformerSpec, data: DataSplit, config: LocalTrainingConfig) {
    const weights: Float32Array[] = [];
    let start: Float32Array = new Float32Array(0);
    for (const backend of ['cpu', 'wasm'] as const) {
      await selectBackend(backend);
      const model = buildModel(modelSpec, shape);
      start = initialWeights(model, 7);
      setFlatWeights(model, start);
      await trainLocal(model, data, shape, config);
      weights.push(getFlatWeights(model));
      model.dispose();
    }
    return { start, cpu: weights[0]!, wasm: weights[1]! };
  }
  const largestDifference = (a: Float32Array, b: Float32Array) => a.reduce((max, value, i) => Math.max(max, Math.abs(value - b[i]!)), 0);

  for (const head of ['next-token', 'classifier'] as const) {
    it(`takes the same SGD steps on wasm as on cpu, head ${head} (no kernel or gradient is missing there)`, async () => {
      const config: LocalTrainingConfig = { epochs: 2, batchSize: 4, optimizer: 'sgd', learningRate: 0.1, seed: 1 };
      const { start, cpu, wasm } = await trainedOnBoth(tiny(head), previousTokenTask(12, 8, 6, 3), config);
      expect(largestDifference(cpu, start)).toBeGreaterThan(1e-2);
      // Measured 1.5e-7 (float32 rounding in a different order).
      expect(largestDifference(cpu, wasm)).toBeLessThan(1e-4);
    }, 30_000);
  }

  it('learns to copy the previous token, which only attention to another position can do', async () => {
    await selectBackend('wasm');
    const model = buildModel(tiny('next-token'), shape);
    setFlatWeights(model, initialWeights(model, 1));
    const train = previousTokenTask(240, 8, 6, 4);
    const before = await evaluateModel(model, train, shape);
    await trainLocal(model, train, shape, { epochs: 10, batchSize: 16, optimizer: 'adam', learningRate: 0.01, seed: 2 });
    const after = await evaluateModel(model, previousTokenTask(120, 8, 6, 5), shape);
    // Chance is 1/6; measured: loss 2.70 → 0.004, accuracy 1 on fresh windows.
    expect(after.loss).toBeLessThan(before.loss / 10);
    expect(after.accuracy).toBeGreaterThan(0.9);
    model.dispose();
  }, 30_000);
});
