import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../shared/data/dataset.js';
import { loadDataset } from '../../shared/data/load-dataset.js';
import { PARTITION_KINDS as SCHEMA_PARTITION_KINDS } from '../../shared/scenario/schema.js';
import { PARTITION_KINDS, formatPartitionSummary, partitionDataset, summarizePartition, type PartitionSpec } from '../../shared/partition/index.js';

let mnist: Dataset;
let boston: Dataset;
let synthetic: Dataset;

beforeAll(async () => {
  mnist = await loadDataset({ name: 'mnist', trainLimit: 6000, testLimit: 100 }, { clients: 1 }, 1);
  boston = await loadDataset({ name: 'boston-housing', testFraction: 0.2 }, { clients: 1 }, 1);
  synthetic = await loadDataset(
    { name: 'synthetic', alpha: 1, beta: 1, featureSize: 60, numClasses: 10, meanSamples: 40, testFraction: 0.2 },
    { clients: 12 },
    1,
  );
});

/** Every index in range and used at most once; returns how many were used. */
function expectDisjoint(parts: number[][], count: number): number {
  const seen = new Uint8Array(count);
  const bad: number[] = [];
  let used = 0;
  for (const part of parts) {
    for (const i of part) {
      if (!Number.isInteger(i) || i < 0 || i >= count || seen[i]) bad.push(i);
      else seen[i] = 1;
      used++;
    }
  }
  expect(bad, 'indices out of range or used twice').toEqual([]);
  return used;
}

const labelSkew = (data: Dataset, spec: PartitionSpec, seed = 1) =>
  summarizePartition(data, partitionDataset(data, spec, seed), spec.kind).labels!.meanTotalVariation;

describe('partitionDataset', () => {
  const specs: PartitionSpec[] = [
    { kind: 'iid', clients: 20 },
    { kind: 'dirichlet', clients: 20, alpha: 0.5 },
    { kind: 'shards', clients: 20, shardsPerClient: 2 },
    { kind: 'quantity-skew', clients: 20, sigma: 1 },
  ];

  it.each(specs)('$kind: disjoint, covers the training set, deterministic by seed', (spec) => {
    const parts = partitionDataset(mnist, spec, 42);
    expect(parts).toHaveLength(20);
    expect(expectDisjoint(parts, mnist.train.count)).toBe(6000);
    expect(parts.every((p) => p.length > 0)).toBe(true);
    expect(partitionDataset(mnist, spec, 42)).toEqual(parts);
    expect(partitionDataset(mnist, spec, 43)).not.toEqual(parts);
  });

  it('iid: sizes differ by at most one and every client sees (almost) every class', () => {
    const parts = partitionDataset(mnist, { kind: 'iid', clients: 7 }, 1);
    const sizes = parts.map((p) => p.length);
    expect(sizes.reduce((s, n) => s + n, 0)).toBe(6000);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    const summary = summarizePartition(mnist, parts, 'iid');
    expect(summary.labels!.classesPerClient.min).toBe(10);
    expect(summary.labels!.meanTotalVariation).toBeLessThan(0.06);
  });

  it('shards (FedAvg): with 2 shards per client, clients see about 2 classes', () => {
    const parts = partitionDataset(mnist, { kind: 'shards', clients: 100, shardsPerClient: 2 }, 1);
    expect(parts.every((p) => p.length === 60)).toBe(true);
    const { labels } = summarizePartition(mnist, parts, 'shards');
    // A shard can straddle a class boundary, so a client can reach 4 classes, but rarely.
    expect(labels!.classesPerClient.max).toBeLessThanOrEqual(4);
    expect(labels!.classesPerClient.mean).toBeLessThan(2.5);
    expect(labels!.meanTotalVariation).toBeGreaterThan(0.7);
  });

  it('shards: leaves out the remainder below clients × shardsPerClient, spread over the classes', () => {
    const parts = partitionDataset(mnist, { kind: 'shards', clients: 7, shardsPerClient: 3 }, 1);
    const used = expectDisjoint(parts, mnist.train.count);
    expect(used).toBe(6000 - (6000 % 21));
    expect(new Set(parts.map((p) => p.length))).toEqual(new Set([Math.floor(6000 / 21) * 3]));
    expect(summarizePartition(mnist, parts, 'shards').unassigned).toBe(6000 % 21);
  });

  it('dirichlet: α = 0.1 is far more label-skewed than α = 100 and than iid', () => {
    const skewed = labelSkew(mnist, { kind: 'dirichlet', clients: 20, alpha: 0.1 });
    const mild = labelSkew(mnist, { kind: 'dirichlet', clients: 20, alpha: 100 });
    const iid = labelSkew(mnist, { kind: 'iid', clients: 20 });
    expect(skewed).toBeGreaterThan(0.5);
    expect(mild).toBeLessThan(0.1);
    expect(iid).toBeLessThan(0.1);
    expect(skewed).toBeGreaterThan(4 * Math.max(mild, iid));
  });

  it('dirichlet: honours minSamples, and gives up clearly when it cannot be met', () => {
    const parts = partitionDataset(mnist, { kind: 'dirichlet', clients: 30, alpha: 0.3, minSamples: 20 }, 3);
    expect(Math.min(...parts.map((p) => p.length))).toBeGreaterThanOrEqual(20);
    expect(expectDisjoint(parts, 6000)).toBe(6000);
    expect(() => partitionDataset(mnist, { kind: 'dirichlet', clients: 100, alpha: 0.01, minSamples: 50 }, 1)).toThrow(
      /^partition\.minSamples: no Dirichlet draw in 1000 gave every client at least 50 sample\(s\) \(got alpha 0\.01, 100 clients, 6000 samples in 10 classes, expected a larger alpha/,
    );
  });

  it('quantity-skew: sizes vary widely, labels stay IID, every client has minSamples', () => {
    const parts = partitionDataset(mnist, { kind: 'quantity-skew', clients: 20, sigma: 1.5, minSamples: 10 }, 1);
    const summary = summarizePartition(mnist, parts, 'quantity-skew');
    expect(summary.totalSamples).toBe(6000);
    expect(summary.sizes.min).toBeGreaterThanOrEqual(10);
    expect(summary.sizes.std).toBeGreaterThan(0.5 * summary.sizes.mean); // iid: std ≤ 0.5
    expect(summary.sizes.max).toBeGreaterThan(5 * summary.sizes.median);
  });

  it('iid and quantity-skew work on regression data', () => {
    for (const spec of [
      { kind: 'iid', clients: 10 },
      { kind: 'quantity-skew', clients: 10, sigma: 1 },
    ] as PartitionSpec[]) {
      const parts = partitionDataset(boston, spec, 1);
      expect(expectDisjoint(parts, boston.train.count)).toBe(boston.train.count);
      expect(summarizePartition(boston, parts, spec.kind).labels).toBeUndefined();
    }
  });

  it('natural: returns the dataset’s own clients', () => {
    const parts = partitionDataset(synthetic, { kind: 'natural', clients: 12 }, 1);
    expect(parts).toEqual(synthetic.naturalPartition);
    expect(parts).not.toBe(synthetic.naturalPartition);
    expect(expectDisjoint(parts, synthetic.train.count)).toBe(synthetic.train.count);
  });
});

describe('partition errors', () => {
  it('refuses label-based partitions of regression data', () => {
    expect(() => partitionDataset(boston, { kind: 'shards', clients: 5, shardsPerClient: 2 }, 1)).toThrow(
      "partition.kind: 'shards' needs a classification dataset (got regression dataset boston-housing)",
    );
    expect(() => partitionDataset(boston, { kind: 'dirichlet', clients: 5, alpha: 1 }, 1)).toThrow(
      "partition.kind: 'dirichlet' needs a classification dataset (got regression dataset boston-housing)",
    );
  });

  it('names the field, what is wrong, what it got and what it expected', () => {
    const cases: [PartitionSpec, string | RegExp][] = [
      [{ kind: 'iid', clients: 0 }, 'partition.clients: not a positive integer (got 0, expected an integer ≥ 1)'],
      [{ kind: 'iid', clients: 2.5 }, 'partition.clients: not a positive integer (got 2.5, expected an integer ≥ 1)'],
      [{ kind: 'iid', clients: 7000 }, 'partition.clients: more clients than training samples (got 7000, expected at most 6000)'],
      [{ kind: 'dirichlet', clients: 10, alpha: 0 }, 'partition.alpha: not a positive number (got 0, expected a finite number > 0)'],
      [{ kind: 'dirichlet', clients: 10, alpha: -1 }, 'partition.alpha: not a positive number (got -1, expected a finite number > 0)'],
      [
        { kind: 'dirichlet', clients: 100, alpha: 1, minSamples: 61 },
        'partition.minSamples: more than the training samples allow (got 100 clients × 61 = 6100 samples, of 6000, expected at most 60)',
      ],
      [{ kind: 'quantity-skew', clients: 10, sigma: 0 }, 'partition.sigma: not a positive number (got 0, expected a finite number > 0)'],
      [{ kind: 'shards', clients: 10, shardsPerClient: 0 }, 'partition.shardsPerClient: not a positive integer (got 0, expected an integer ≥ 1)'],
      [
        { kind: 'shards', clients: 3000, shardsPerClient: 3 },
        'partition.shardsPerClient: more shards than training samples (got 3000 clients × 3 = 9000 shards over 6000 samples, expected clients × shardsPerClient ≤ 6000)',
      ],
      [
        { kind: 'natural', clients: 10 },
        "partition.kind: 'natural' needs a dataset that comes federated (got mnist, expected a dataset with its own clients, such as synthetic)",
      ],
      [{ kind: 'bogus', clients: 3 } as unknown as PartitionSpec, /^partition\.kind: unknown partition kind \(got bogus, expected one of iid, dirichlet/],
    ];
    for (const [spec, message] of cases) expect(() => partitionDataset(mnist, spec, 1), JSON.stringify(spec)).toThrow(message);
    expect(() => partitionDataset(synthetic, { kind: 'natural', clients: 5 }, 1)).toThrow(
      'partition.clients: does not match the clients dataset synthetic was generated for (got 5, expected 12)',
    );
  });

  it('lists the same kinds as the scenario schema', () => {
    expect([...PARTITION_KINDS]).toEqual([...SCHEMA_PARTITION_KINDS]);
  });
});

describe('summarizePartition / formatPartitionSummary', () => {
  it('reports sizes, label histograms and a readable summary', () => {
    const parts = partitionDataset(mnist, { kind: 'shards', clients: 10, shardsPerClient: 1 }, 2);
    const summary = summarizePartition(mnist, parts, 'shards');
    expect(summary).toMatchObject({ kind: 'shards', clients: 10, totalSamples: 6000, unassigned: 0 });
    expect(summary.sizes).toEqual({ min: 600, max: 600, mean: 600, median: 600, std: 0 });
    expect(summary.perClient).toHaveLength(10);
    expect(summary.perClient[3]!.labelHistogram!.reduce((s, n) => s + n, 0)).toBe(600);
    const text = formatPartitionSummary(summary);
    expect(text.split('\n')).toHaveLength(3);
    expect(text).toContain('partition shards: 10 clients, 6000 training samples');
    expect(text).toContain('samples per client: min 600');
    expect(text).toMatch(/label skew 0\.\d{3}/);
    // The summary must survive JSON (it is written to partition.json).
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
  });

  it('computes the median and std of uneven sizes, and counts classes', () => {
    const tiny: Dataset = {
      ...mnist,
      train: { features: new Float32Array(6 * 784), labels: Float32Array.from([0, 0, 1, 1, 2, 3]), count: 6 },
    };
    const summary = summarizePartition(
      tiny,
      [
        [0, 1],
        [2, 3, 4, 5],
      ],
      'hand-made',
    );
    expect(summary.sizes).toEqual({ min: 2, max: 4, mean: 3, median: 3, std: 1 });
    expect(summary.labels!.classesPerClient).toEqual({ min: 1, max: 3, mean: 2 });
    // Global mix: 2/6 class 0, 2/6 class 1, 1/6 class 2, 1/6 class 3. Client 0 (all class 0): TV = 2/3;
    // client 1 (1/2, 1/4, 1/4 of classes 1, 2, 3): TV = ½(1/3 + 1/6 + 1/12 + 1/12) = 1/3.
    expect(summary.labels!.meanTotalVariation).toBeCloseTo(0.5, 10);
  });
});
