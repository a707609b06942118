import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../client/backend/select-backend.js';
import { trainLocal } from '../../client/training/local-training.js';
import { denseInputLayer, reconstructInputs } from '../../coordinator/privacy/gradient-inversion.js';
import { MAX_PSNR_DB, psnr, ssim } from '../../coordinator/privacy/image-quality.js';
import { matchOneToOne } from '../../coordinator/privacy/update-attacks.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import { buildModel } from '../../shared/models/build-model.js';
import { getFlatWeights, initialWeights, layoutOf, setFlatWeights } from '../../shared/models/parameters.js';
import { Rng } from '../../shared/random.js';
import { subtract } from '../../shared/vector/vector-math.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

const shape: DataShape = { task: 'classification', featureShape: [8, 8, 1], numClasses: 3 };
const PIXELS = 64;

function images(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * PIXELS }, () => rng.next());
}

/** The update one client sends after local SGD on `count` images (B = 1), as the worker computes it. */
async function clientUpdate(
  count: number,
  epochs: number,
  seed: number,
): Promise<{ delta: Float32Array; features: Float32Array; layout: ReturnType<typeof layoutOf> }> {
  const model = buildModel({ name: 'mlp', hidden: [64] }, shape);
  const global = initialWeights(model, seed);
  setFlatWeights(model, global);
  const features = images(count, seed + 1);
  const labels = Float32Array.from({ length: count }, (_, i) => i % 3);
  await trainLocal(model, { features, labels, count }, shape, { epochs, batchSize: 1, optimizer: 'sgd', learningRate: 0.1, seed });
  const delta = subtract(getFlatWeights(model), global);
  const layout = layoutOf(model);
  model.dispose();
  return { delta, features, layout };
}

describe('analytic gradient inversion', () => {
  it('recovers one input exactly from a hand-made dense-layer update: ΔW[:, j] / Δb[j] = x', () => {
    const x = [0.25, 0, 1, 0.5];
    const coefficients = [0.3, 0, -2, 0.01]; // −η·∂L/∂z_j per unit; unit 1 never moved
    // Kernel [4 inputs, 4 units] row-major, then the bias, then a second layer the attack ignores.
    const kernel = x.flatMap((xi) => coefficients.map((c) => c * xi));
    const delta = Float32Array.from([...kernel, ...coefficients, 9, 9, 9]);
    const layout = {
      entries: [
        { name: 'hidden1/kernel', shape: [4, 4], offset: 0, size: 16 },
        { name: 'hidden1/bias', shape: [4], offset: 16, size: 4 },
        { name: 'softmax/bias', shape: [3], offset: 20, size: 3 },
      ],
      totalSize: 23,
    };
    const layer = denseInputLayer(layout, 4);
    if ('reason' in layer) throw new Error(layer.reason);
    const [best, ...rest] = reconstructInputs(delta, layer, 1);
    expect(rest).toEqual([]);
    expect(Array.from(best!.values)).toEqual(x.map((v) => Math.fround(v)));
    // The three units that moved all give x: one group.
    expect(best!.units).toBe(3);
  });

  it('recovers one sample exactly after several local SGD steps on it', async () => {
    const { delta, features, layout } = await clientUpdate(1, 3, 11);
    const layer = denseInputLayer(layout, PIXELS);
    if ('reason' in layer) throw new Error(layer.reason);
    const [rebuilt] = reconstructInputs(delta, layer, 1);
    expect(psnr(features, rebuilt!.values, 1)).toBeGreaterThan(60);
    for (let i = 0; i < PIXELS; i++) expect(rebuilt!.values[i]).toBeCloseTo(features[i]!, 4);
  });

  it('separates several samples of one update (B = 1) through the units only one sample switched on', async () => {
    const count = 3;
    const { delta, features, layout } = await clientUpdate(count, 1, 5);
    const layer = denseInputLayer(layout, PIXELS);
    if ('reason' in layer) throw new Error(layer.reason);
    const rebuilt = reconstructInputs(delta, layer, count).map((r) => r.values);
    const originals = Array.from({ length: count }, (_, i) => features.subarray(i * PIXELS, (i + 1) * PIXELS));
    const match = matchOneToOne(originals, rebuilt, 1);
    expect(new Set(match).size).toBe(count);
    for (const [i, j] of match.entries()) expect(psnr(originals[i]!, rebuilt[j]!, 1)).toBeGreaterThan(60);
  });

  it('says why a convolutional first layer is out of its reach', () => {
    const model = buildModel({ name: 'cnn-small' }, { task: 'classification', featureShape: [28, 28, 1], numClasses: 10 });
    const layer = denseInputLayer(layoutOf(model), 784);
    model.dispose();
    expect('reason' in layer ? layer.reason : '').toMatch(/first layer is not dense on the input .*shape \[\d+, \d+, 1, \d+\]/);
  });
});

describe('image quality', () => {
  it('PSNR: 20 dB for an RMS error of a tenth of the range; capped for exact copies', () => {
    const a = new Float32Array(100).fill(0.5);
    expect(
      psnr(
        a,
        a.map((v) => v + 0.1),
        1,
      ),
    ).toBeCloseTo(20, 5);
    expect(psnr(a, a, 1)).toBe(MAX_PSNR_DB);
  });

  it('SSIM: 1 for identical images, lower for noise, near 0 for an unrelated image', () => {
    const a = images(1, 3);
    const rng = new Rng(4);
    expect(ssim(a, a, [8, 8, 1], 1)).toBeCloseTo(1, 10);
    const noisy = a.map((v) => v + 0.2 * rng.normal());
    const s = ssim(a, noisy, [8, 8, 1], 1);
    expect(s).toBeLessThan(0.9);
    expect(s).toBeGreaterThan(0.2);
    expect(Math.abs(ssim(a, images(1, 99), [8, 8, 1], 1))).toBeLessThan(0.3);
  });
});
