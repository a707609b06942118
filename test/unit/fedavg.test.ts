import { describe, expect, it } from 'vitest';
import { WeightedSum } from '../../coordinator/aggregation/weighted-sum.js';
import { rejectReason } from '../../coordinator/aggregation/update-validator.js';
import { weightedMean } from '../../coordinator/aggregation/weighted-mean.js';
import { UniformSample } from '../../coordinator/selection/uniform-sample.js';
import { FedAvg } from '../../coordinator/strategies/fedavg.js';
import { Rng } from '../../shared/random.js';

interface TestUpdate {
  clientId: number;
  samples: number;
  steps: number;
  loss: number;
  delta: Float32Array;
}

/** One FedAvg round over the weighted-mean aggregator, as the round engine runs it. */
function fedAvgRound(global: Float32Array, updates: readonly TestUpdate[]) {
  const aggregator = weightedMean().create(1, global.length);
  for (const u of updates) aggregator.accept({ clientId: u.clientId, delta: u.delta, weight: u.samples });
  const results = updates.map((u) => ({ clientId: u.clientId, samples: u.samples, weight: u.samples, steps: u.steps, plannedSteps: u.steps, loss: u.loss }));
  const outcome = new FedAvg().aggregateTrain(1, global, aggregator.finish(), results, []);
  return { ...outcome, clients: results.length, samples: results.reduce((s, r) => s + r.samples, 0) };
}

describe('FedAvg aggregation', () => {
  it('is the exact sample-weighted mean of the deltas, added to the global model', () => {
    const outcome = fedAvgRound(new Float32Array([10, 20, 30]), [
      { clientId: 4, samples: 100, steps: 10, loss: 1.0, delta: new Float32Array([1, 2, 3]) },
      { clientId: 1, samples: 300, steps: 30, loss: 0.5, delta: new Float32Array([-1, 0, 1]) },
      { clientId: 7, samples: 600, steps: 60, loss: 0.25, delta: new Float32Array([0.5, 0.5, -2]) },
    ]);
    // Σ n·Δ / Σ n with n = 100, 300, 600 (total 1000), worked by hand:
    //   x: (100·1 + 300·(−1) + 600·0.5) / 1000 = 0.1
    //   y: (100·2 + 0 + 600·0.5) / 1000 = 0.5
    //   z: (100·3 + 300·1 + 600·(−2)) / 1000 = −0.6
    expect(Array.from(outcome.weights)).toEqual(Array.from(new Float32Array([10.1, 20.5, 29.4])));
    expect(outcome.clients).toBe(3);
    expect(outcome.samples).toBe(1000);
    expect(outcome.trainLoss).toBeCloseTo((100 * 1 + 300 * 0.5 + 600 * 0.25) / 1000, 12);
  });

  it('leaves the model unchanged when no update arrived', () => {
    const global = new Float32Array([1, 2]);
    const outcome = fedAvgRound(global, []);
    expect(outcome.weights).toBe(global);
    expect(outcome.trainLoss).toBeNull();
  });

  it('gives bit-identical results whatever order the updates arrive in', () => {
    const rng = new Rng(9);
    const length = 5000;
    const updates = Array.from({ length: 12 }, (_, i) => ({
      clientId: i,
      samples: 1 + rng.int(900),
      steps: 1,
      loss: rng.next(),
      delta: Float32Array.from({ length }, () => rng.normal(0, 10 ** rng.uniform(-8, 1))),
    }));
    const global = Float32Array.from({ length }, () => rng.normal());
    const run = (order: typeof updates) => fedAvgRound(global, order);
    const forward = run(updates);
    const shuffled = run(new Rng(3).shuffle([...updates]));
    const reversed = run([...updates].reverse());
    expect(Buffer.from(shuffled.weights.buffer).equals(Buffer.from(forward.weights.buffer))).toBe(true);
    expect(Buffer.from(reversed.weights.buffer).equals(Buffer.from(forward.weights.buffer))).toBe(true);
    expect(shuffled.trainLoss).toBe(forward.trainLoss);
  });

  it('samples clients without replacement, deterministically per seed and round', () => {
    const a = new UniformSample(42, 100, 10);
    const b = new UniformSample(42, 100, 10);
    const configure = (pool: UniformSample, round: number) => new FedAvg().configureTrain(round, pool);
    for (let round = 1; round <= 5; round++) {
      const picked = configure(a, round).clients;
      expect(picked).toEqual(configure(b, round).clients);
      expect(new Set(picked).size).toBe(10);
      expect(picked.every((id) => id >= 0 && id < 100)).toBe(true);
    }
    expect(configure(a, 1).clients).not.toEqual(configure(a, 2).clients);
    expect(configure(new UniformSample(43, 100, 10), 1).clients).not.toEqual(configure(a, 1).clients);
  });
});

describe('WeightedSum', () => {
  it('divides by a given denominator when asked', () => {
    const sum = new WeightedSum(2);
    sum.add(new Float32Array([1, 2]), 2);
    sum.add(new Float32Array([3, 4]), 2);
    expect(Array.from(sum.result(8))).toEqual([1, 1.5]);
    expect(sum.totalWeight).toBe(4);
  });

  it('refuses vectors of the wrong length', () => {
    expect(() => new WeightedSum(3).add(new Float32Array(2), 1)).toThrow(/expected 3/);
  });
});

describe('update validation', () => {
  it('accepts a finite update of the right length within the norm bound', () => {
    expect(rejectReason(new Float32Array([3, 4]), { expectedLength: 2, maxNorm: 5 })).toBeNull();
  });
  it('refuses the wrong length, NaN, infinity and an excessive norm', () => {
    expect(rejectReason(new Float32Array(3), { expectedLength: 2 })).toMatch(/wrong length: 3 values, expected 2/);
    expect(rejectReason(new Float32Array([1, NaN]), { expectedLength: 2 })).toMatch(/non-finite value NaN at index 1/);
    expect(rejectReason(new Float32Array([Infinity, 1]), { expectedLength: 2 })).toMatch(/non-finite value Infinity at index 0/);
    expect(rejectReason(new Float32Array([3, 4.01]), { expectedLength: 2, maxNorm: 5 })).toMatch(/exceeds strategy.maxUpdateNorm 5/);
  });
});
