/**
 * The DP building blocks: clipping, Gaussian noise, Poisson sampling, adaptive clipping, the
 * DP-FedAvg aggregate, the resolved plan and the privacy ledger. Statistical checks use fixed
 * seeds, so they are deterministic; tolerances are several standard errors wide.
 */
import { describe, expect, it } from 'vitest';
import { clipToNorm } from '../../shared/privacy/clip.js';
import { addGaussianNoise } from '../../shared/privacy/gaussian-noise.js';
import { computeEpsilon } from '../../shared/privacy/rdp-accountant.js';
import { Rng } from '../../shared/random.js';
import { l2Norm } from '../../shared/vector/vector-math.js';
import { resolveDpPlan, type DpPlan } from '../../coordinator/privacy/dp-plan.js';
import { buildAggregation } from '../../coordinator/aggregation/build-aggregation.js';
import { PoissonSample, poissonSample } from '../../coordinator/selection/poisson-sample.js';
import { FedAvg } from '../../coordinator/strategies/fedavg.js';
import { PrivacyLedger } from '../../coordinator/privacy/privacy-ledger.js';
import { QuantileClipNorm } from '../../coordinator/privacy/quantile-clip-norm.js';

/** DP-FedAvg as the engine composes it: FedAvg over the DP chain, Poisson sampling. */
function dpFedAvg(seed: number, population: number, dp: DpPlan, mayParticipate?: (clientId: number) => boolean) {
  const chain = buildAggregation({ seed, dp, secure: false, aggregator: { name: 'weighted-mean' } });
  const pool = new PoissonSample(seed, population, dp.q, mayParticipate);
  return {
    configureRound: (round: number) => ({ clients: new FedAvg().configureTrain(round, pool).clients, taskPrivacy: chain.rules(round).clientPrivacy }),
    round: (round: number, global: Float32Array, updates: { clientId: number; samples: number; delta: Float32Array }[]) => {
      const aggregator = chain.create(round, global.length);
      for (const u of updates) aggregator.accept({ clientId: u.clientId, delta: u.delta, weight: u.samples });
      const aggregate = aggregator.finish();
      return { weights: new FedAvg().aggregateTrain(round, global, aggregate, [], []).weights, privacy: aggregate.measurements };
    },
  };
}
import { tinyMnistScenario } from '../support/scenarios.js';

function randomVector(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal(0, scale));
}

function plan(overrides: Partial<DpPlan> = {}): DpPlan {
  return {
    mode: 'central',
    clipping: 'fixed',
    q: 0.1,
    expectedClients: 10,
    initialClipNorm: 1,
    noiseMultiplier: 1,
    updateNoiseMultiplier: 1,
    countNoiseStd: 0,
    delta: 1e-5,
    conversion: 'tight',
    calibrated: false,
    targetQuantile: 0.5,
    clipLearningRate: 0.2,
    ...overrides,
  };
}

describe('clipToNorm', () => {
  it('bounds the norm exactly and keeps the direction', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const v = randomVector(10_001, seed, 0.3);
      const before = Float32Array.from(v);
      const { norm, unclipped } = clipToNorm(v, 0.75);
      expect(unclipped).toBe(false);
      expect(norm).toBeCloseTo(l2Norm(before), 6);
      expect(l2Norm(v)).toBeLessThanOrEqual(0.75);
      expect(l2Norm(v)).toBeGreaterThan(0.75 * (1 - 1e-5));
      const cosine = v.reduce((s, x, i) => s + x * before[i]!, 0) / (l2Norm(v) * l2Norm(before));
      expect(cosine).toBeCloseTo(1, 6);
    }
  });

  it('leaves an update inside the ball untouched', () => {
    const v = Float32Array.of(0.3, 0.4);
    const clipped = clipToNorm(v, 1);
    expect(clipped.norm).toBeCloseTo(0.5, 7);
    expect(clipped.unclipped).toBe(true);
    expect([...v]).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });

  it('refuses a non-positive clip norm', () => {
    expect(() => clipToNorm(new Float32Array(3), 0)).toThrow(/clipNorm must be > 0 \(got 0\)/);
  });
});

describe('addGaussianNoise', () => {
  it('adds zero-mean noise with the requested standard deviation', () => {
    const n = 400_000;
    const v = new Float64Array(n);
    addGaussianNoise(v, 2.5, new Rng(7));
    const mean = v.reduce((s, x) => s + x, 0) / n;
    const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
    // Standard errors: mean 2.5/√n ≈ 0.004, std 2.5/√(2n) ≈ 0.003.
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 2.5)).toBeLessThan(0.015);
    const beyond2Sigma = v.filter((x) => Math.abs(x) > 5).length / n;
    expect(beyond2Sigma).toBeCloseTo(0.0455, 2);
  });

  it('is repeatable with the same seed', () => {
    const a = new Float32Array(100);
    const b = new Float32Array(100);
    addGaussianNoise(a, 1, new Rng(3));
    addGaussianNoise(b, 1, new Rng(3));
    expect(a).toEqual(b);
  });
});

describe('poissonSample', () => {
  it('includes each client independently with probability q', () => {
    const rng = new Rng(9);
    const sizes = Array.from({ length: 2000 }, () => poissonSample(500, 0.04, rng).length);
    const mean = sizes.reduce((s, x) => s + x, 0) / sizes.length;
    const variance = sizes.reduce((s, x) => s + (x - mean) ** 2, 0) / (sizes.length - 1);
    // Binomial(500, 0.04): mean 20, variance 19.2.
    expect(mean).toBeGreaterThan(19.6);
    expect(mean).toBeLessThan(20.4);
    expect(variance).toBeGreaterThan(17);
    expect(variance).toBeLessThan(21.5);
  });
});

describe('adaptive clipping (QuantileClipNorm)', () => {
  it('moves the clip norm to the target quantile of the update norms', () => {
    const rng = new Rng(21);
    const clip = new QuantileClipNorm(0.01, 0.8, 0.2, 0.5, 100);
    for (let round = 0; round < 400; round++) {
      const norms = Array.from({ length: 100 }, () => rng.logNormal(0, 0.5));
      clip.update(norms.filter((n) => n <= clip.current).length, rng);
    }
    // The 0.8-quantile of LogNormal(0, 0.5) is exp(0.5 · 0.8416) ≈ 1.523.
    expect(clip.current).toBeGreaterThan(1.35);
    expect(clip.current).toBeLessThan(1.7);
  });
});

describe('DP-FedAvg', () => {
  it('samples by Poisson and tells clients the clip norm (and local noise under local DP)', () => {
    const central = dpFedAvg(1, 1000, plan({ q: 0.05, expectedClients: 50 })).configureRound(1);
    expect(central.clients.length).toBeGreaterThan(25);
    expect(central.clients.length).toBeLessThan(75);
    expect(central.taskPrivacy).toEqual({ clipNorm: 1 });
    const local = dpFedAvg(1, 1000, plan({ mode: 'local', updateNoiseMultiplier: 3, initialClipNorm: 0.5 })).configureRound(1);
    expect(local.taskPrivacy).toEqual({ clipNorm: 0.5, localNoiseStd: 1.5 });
  });

  it('without noise divides the sum by the expected cohort, not the realised one', () => {
    const outcome = dpFedAvg(1, 100, plan({ noiseMultiplier: 0, updateNoiseMultiplier: 0, expectedClients: 4 })).round(1, Float32Array.of(1, 1, 1), [
      { clientId: 0, samples: 10, delta: Float32Array.of(0.2, 0, 0) },
      { clientId: 1, samples: 99, delta: Float32Array.of(0.2, 0.4, 0) },
    ]);
    expect([...outcome.weights]).toEqual([1.1, 1.1, 1].map(Math.fround));
    expect(outcome.privacy).toMatchObject({ clipNorm: 1 });
  });

  it('adds noise of standard deviation z·S/(qN) to the average', () => {
    const outcome = dpFedAvg(1, 100, plan({ noiseMultiplier: 2, updateNoiseMultiplier: 2, initialClipNorm: 0.5, expectedClients: 5 })).round(
      1,
      new Float32Array(200_000),
      [],
    );
    const values = outcome.weights;
    const std = Math.sqrt(values.reduce((s, x) => s + x * x, 0) / values.length);
    expect(std).toBeCloseTo((2 * 0.5) / 5, 3);
  });
});

describe('the resolved DP plan', () => {
  it('calibrates local DP for a client’s expected releases, ⌈q·T⌉', () => {
    const scenario = tinyMnistScenario({ rounds: 15, clientsPerRound: 1, privacy: { dp: { mode: 'local', clipNorm: 1, calibrate: true, targetEpsilon: 8 } } });
    const dp = resolveDpPlan(scenario)!;
    // q = 0.1, T = 15: 2 releases; the accountant's multiplier is z/2 (sensitivity 2S).
    const reached = computeEpsilon({ q: 1, noiseMultiplier: dp.noiseMultiplier / 2, steps: 2, delta: 1e-5 }).epsilon;
    expect(reached).toBeLessThanOrEqual(8);
    expect(reached).toBeGreaterThan(7.99);
  });

  it('calibrates z to the budget over the planned rounds', () => {
    const scenario = tinyMnistScenario({ rounds: 50, clientsPerRound: 2, privacy: { dp: { clipNorm: 1, calibrate: true, targetEpsilon: 3 } } });
    const dp = resolveDpPlan(scenario)!;
    expect(dp.q).toBeCloseTo(0.2);
    expect(dp.calibrated).toBe(true);
    const reached = computeEpsilon({ q: 0.2, noiseMultiplier: dp.noiseMultiplier, steps: 50, delta: 1e-5 }).epsilon;
    expect(reached).toBeLessThanOrEqual(3);
    expect(reached).toBeGreaterThan(2.95);
  });

  it('splits the noise between update and count under adaptive clipping (Andrew et al. §3.1)', () => {
    const scenario = tinyMnistScenario({ clientsPerRound: 4, privacy: { dp: { clipNorm: 1, noiseMultiplier: 1, clipping: 'adaptive', countNoise: 2 } } });
    const dp = resolveDpPlan(scenario)!;
    expect(dp.countNoiseStd).toBe(2);
    expect(dp.updateNoiseMultiplier).toBeCloseTo(1 / Math.sqrt(1 - 1 / 16), 10);
    const tooLittle = tinyMnistScenario({ clientsPerRound: 4, privacy: { dp: { clipNorm: 1, noiseMultiplier: 1, clipping: 'adaptive' } } });
    expect(() => resolveDpPlan(tooLittle)).toThrow(/privacy\.dp\.countNoise: too small .*got σ_b = 0\.2/);
  });
});

describe('the privacy ledger', () => {
  it('reports the accountant’s ε after each central round', () => {
    const ledger = new PrivacyLedger(plan({ q: 0.1, noiseMultiplier: 1.1 }));
    let last = 0;
    for (let round = 1; round <= 5; round++) {
      const record = ledger.record([1, 2, 3], { clipNorm: 1 });
      expect(record.epsilon).toBeCloseTo(computeEpsilon({ q: 0.1, noiseMultiplier: 1.1, steps: round, delta: 1e-5 }).epsilon, 12);
      expect(record.epsilon).toBeGreaterThan(last);
      expect(record.cohortSize).toBe(3);
      last = record.epsilon;
    }
  });

  it('stops before the budget is exceeded', () => {
    const perRound = computeEpsilon({ q: 0.1, noiseMultiplier: 1, steps: 3, delta: 1e-5 }).epsilon;
    const ledger = new PrivacyLedger(plan({ targetEpsilon: perRound * 1.0001 }));
    for (let i = 0; i < 3; i++) {
      expect(ledger.wouldExceedBudget([0])).toBe(false);
      ledger.record([0], { clipNorm: 1 });
    }
    expect(ledger.wouldExceedBudget([0])).toBe(true);
  });

  it('composes local DP over each client’s own participations, without amplification', () => {
    const ledger = new PrivacyLedger(plan({ mode: 'local', noiseMultiplier: 4, updateNoiseMultiplier: 4 }));
    const single = computeEpsilon({ q: 1, noiseMultiplier: 2, steps: 1, delta: 1e-5 }).epsilon;
    expect(ledger.epsilonPerRelease).toBeCloseTo(single, 12);
    ledger.record([1, 2], { clipNorm: 1 });
    expect(ledger.record([2, 3], { clipNorm: 1 }).epsilon).toBeCloseTo(computeEpsilon({ q: 1, noiseMultiplier: 2, steps: 2, delta: 1e-5 }).epsilon, 12);
    expect(ledger.projectedEpsilon([4])).toBeCloseTo(computeEpsilon({ q: 1, noiseMultiplier: 2, steps: 2, delta: 1e-5 }).epsilon, 12);
  });
  it('under local DP with a budget, lets a client sit out once its next release would exceed it', () => {
    const twoReleases = computeEpsilon({ q: 1, noiseMultiplier: 2, steps: 2, delta: 1e-5 }).epsilon;
    const ledger = new PrivacyLedger(plan({ mode: 'local', noiseMultiplier: 4, updateNoiseMultiplier: 4, targetEpsilon: twoReleases * 1.0001 }));
    ledger.record([1, 2], { clipNorm: 1 });
    ledger.record([2], { clipNorm: 1 });
    expect([1, 2, 3].map((c) => ledger.mayParticipate(c))).toEqual([true, false, true]);
    expect(ledger.wouldExceedBudget([2])).toBe(false);
    const strategy = dpFedAvg(1, 4, plan({ mode: 'local', q: 1, expectedClients: 4 }), (c) => ledger.mayParticipate(c));
    expect(strategy.configureRound(1).clients).toEqual([0, 1, 3]);
  });
});
