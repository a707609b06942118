/**
 * Server optimizers on hand-made vectors against the papers' formulas: FedAvgM (Hsu et al. 2019)
 * and FedAdam, FedYogi, FedAdagrad (Reddi et al. 2021, Algorithm 2); their state survives an
 * export / restore (a checkpoint); their options are validated with the field, value and bound.
 */
import { describe, expect, it } from 'vitest';
import type { AggregateOutput } from '../../coordinator/aggregation/aggregator.js';
import { STRATEGIES } from '../../coordinator/strategies/registry.js';
import type { Strategy, StrategyState } from '../../coordinator/strategies/strategy.js';
import { validateScenario } from '../../shared/scenario/load-scenario.js';
import { SMALL_SCENARIO_INPUT } from '../support/scenarios.js';

const CONTEXT = { seed: 1, population: 10, aggregateWeighting: 'weighted' as const, localMomentum: 0, localLearningRate: 0.1 };

function strategy(spec: Record<string, unknown>): Strategy {
  const entry = STRATEGIES.get(String(spec.name));
  return entry.create(entry.schema.parse(spec) as { name: string }, CONTEXT);
}

function aggregate(delta: number[]): AggregateOutput {
  return { delta: Float64Array.from(delta), measurements: {} };
}

/** Runs the rounds' aggregates through a strategy; returns each round's model. */
function steps(s: Strategy, start: number[], deltas: number[][]): number[][] {
  let global: Float32Array = Float32Array.from(start);
  return deltas.map((delta, i) => {
    global = s.aggregateTrain(i + 1, global, aggregate(delta), [], []).weights;
    return [...global];
  });
}

function expectClose(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, r) => row.forEach((value, i) => expect(value).toBeCloseTo(expected[r]![i]!, 5)));
}

const START = [1, -2, 0.5];
const DELTAS = [
  [0.1, -0.2, 0.4],
  [0.3, 0.1, -0.4],
];

describe('FedAvgM: v ← βv + Δ; w ← w + ηv', () => {
  it('accumulates momentum across rounds', () => {
    const [β, η] = [0.5, 2];
    // Round 1: v = Δ₁ = (0.1, −0.2, 0.4); w = (1, −2, 0.5) + 2v = (1.2, −2.4, 1.3).
    // Round 2: v = 0.5·Δ₁ + Δ₂ = (0.35, 0, −0.2); w = (1.2, −2.4, 1.3) + 2v = (1.9, −2.4, 0.9).
    expectClose(steps(strategy({ name: 'fedavgm', serverMomentum: β, serverLearningRate: η }), START, DELTAS), [
      [1.2, -2.4, 1.3],
      [1.9, -2.4, 0.9],
    ]);
  });

  it('with β = 0 and η = 1 is FedAvg, bit for bit', () => {
    const delta = [0.1, -0.2, 0.4];
    const momentum = strategy({ name: 'fedavgm', serverMomentum: 0, serverLearningRate: 1 });
    const fedavg = strategy({ name: 'fedavg' });
    const global = Float32Array.from(START);
    expect([...momentum.aggregateTrain(1, global, aggregate(delta), [], []).weights]).toEqual([
      ...fedavg.aggregateTrain(1, global, aggregate(delta), [], []).weights,
    ]);
  });
});

/** Reddi et al. 2021, Algorithm 2, worked per coordinate in double (m₋₁ = 0, v₋₁ = τ²). */
function algorithm2(rule: (v: number, d2: number) => number, o: { η: number; β1: number; τ: number }, start: number[], deltas: number[][]) {
  const w = [...start];
  const m = start.map(() => 0);
  const v = start.map(() => o.τ * o.τ);
  return deltas.map((delta) =>
    w.map((_, i) => {
      m[i] = o.β1 * m[i]! + (1 - o.β1) * delta[i]!;
      v[i] = rule(v[i]!, delta[i]! ** 2);
      w[i] = w[i]! + (o.η * m[i]) / (Math.sqrt(v[i]) + o.τ);
      return w[i];
    }),
  );
}

describe('FedAdam, FedYogi, FedAdagrad: w ← w + η·mₜ/(√vₜ + τ)', () => {
  const o = { η: 0.1, β1: 0.9, β2: 0.99, τ: 0.01 };
  const options = { serverLearningRate: o.η, beta1: o.β1, tau: o.τ };

  it('FedAdam: vₜ = β₂vₜ₋₁ + (1 − β₂)Δ²', () => {
    const expected = algorithm2((v, d2) => o.β2 * v + (1 - o.β2) * d2, o, START, DELTAS);
    expectClose(steps(strategy({ name: 'fedadam', ...options, beta2: o.β2 }), START, DELTAS), expected);
    // First round by hand, x: m = 0.1·0.1 = 0.01, v = 0.99·1e-4 + 0.01·0.01 = 1.99e-4, step = 0.1·0.01/(√1.99e-4 + 0.01).
    expect(expected[0]![0]).toBeCloseTo(1 + 0.001 / (Math.sqrt(1.99e-4) + 0.01), 12);
  });

  it('FedYogi: vₜ = vₜ₋₁ − (1 − β₂)Δ²·sign(vₜ₋₁ − Δ²)', () => {
    const expected = algorithm2((v, d2) => v - (1 - o.β2) * d2 * Math.sign(v - d2), o, START, DELTAS);
    expectClose(steps(strategy({ name: 'fedyogi', ...options, beta2: o.β2 }), START, DELTAS), expected);
    // v₋₁ = 1e-4 < Δ² = 0.01, so v grows: 1e-4 + 0.01·0.01 = 2e-4 (Adam would give 1.99e-4).
    expect(expected[0]![0]).toBeCloseTo(1 + 0.001 / (Math.sqrt(2e-4) + 0.01), 12);
  });

  it('FedAdagrad: vₜ = vₜ₋₁ + Δ², and by default no first-moment momentum (β₁ = 0)', () => {
    expectClose(
      steps(strategy({ name: 'fedadagrad', ...options }), START, DELTAS),
      algorithm2((v, d2) => v + d2, o, START, DELTAS),
    );
    const defaults = strategy({ name: 'fedadagrad', tau: o.τ });
    expectClose(
      steps(defaults, START, DELTAS),
      algorithm2((v, d2) => v + d2, { η: 0.1, β1: 0, τ: o.τ }, START, DELTAS),
    );
  });

  it('takes the defaults of Reddi et al. / Flower', () => {
    const parse = (name: string) => STRATEGIES.get(name).schema.parse({ name });
    expect(parse('fedadam')).toMatchObject({ serverLearningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-9 });
    expect(parse('fedyogi')).toMatchObject({ serverLearningRate: 0.01, beta1: 0.9, beta2: 0.99, tau: 1e-3 });
    expect(parse('fedadagrad')).toMatchObject({ serverLearningRate: 0.1, beta1: 0, tau: 1e-9 });
    expect(parse('fedavgm')).toMatchObject({ serverMomentum: 0.9, serverLearningRate: 1 });
  });

  it('leaves the model and the moments alone in a round without an aggregate', () => {
    const s = strategy({ name: 'fedadam', tau: o.τ });
    const global = Float32Array.from(START);
    expect(s.aggregateTrain(1, global, { delta: null, measurements: {} }, [], []).weights).toBe(global);
    expect(s.exportState().vectors).toEqual({});
  });
});

describe('server state travels through a checkpoint', () => {
  for (const name of ['fedavgm', 'fedadam', 'fedyogi', 'fedadagrad']) {
    it(`${name}: a restored strategy continues exactly as the original`, () => {
      const original = strategy({ name });
      const global = Float32Array.from(steps(original, START, DELTAS.slice(0, 1))[0]!);
      const state = original.exportState();
      const copy: StrategyState = { json: JSON.parse(JSON.stringify(state.json)) as Record<string, unknown>, vectors: state.vectors };
      const restored = strategy({ name });
      restored.restoreState(copy);
      const next = (s: Strategy) => [...s.aggregateTrain(2, global, aggregate(DELTAS[1]!), [], []).weights];
      expect(next(restored)).toEqual(next(original));
      expect(Object.keys(state.vectors).length).toBeGreaterThan(0);
    });
  }

  it('refuses a restored moment of the wrong length', () => {
    const s = strategy({ name: 'fedyogi' });
    s.restoreState({ json: {}, vectors: { firstMoment: new Float32Array(2), secondMoment: new Float32Array(2) } });
    expect(() => steps(s, START, DELTAS)).toThrow('server optimizer: firstMoment has 2 values, the model 3');
  });
});

describe('options are validated with the field, the value and what was expected', () => {
  const base = { ...SMALL_SCENARIO_INPUT, name: 'bad' };
  const problems = (strategySpec: Record<string, unknown>) => {
    try {
      validateScenario({ ...base, strategy: strategySpec });
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('names each bad option', () => {
    expect(problems({ name: 'fedavgm', serverMomentum: 1 })).toContain('strategy.serverMomentum: too large (got 1, expected < 1)');
    expect(problems({ name: 'fedadam', tau: 0 })).toContain('strategy.tau: too small (got 0, expected > 0)');
    expect(problems({ name: 'fedyogi', serverLearningRate: -1 })).toContain('strategy.serverLearningRate: too small (got -1, expected > 0)');
    // Adagrad's v is a plain sum: a β₂ would be ignored, so it is refused.
    expect(problems({ name: 'fedadagrad', beta2: 0.9 })).toMatch(/strategy\.beta2: unknown field/);
  });

  it('composes with central DP and with secure aggregation (the optimizer reads only the aggregate)', () => {
    const dp = { dp: { mode: 'central', clipNorm: 1, noiseMultiplier: 1 } };
    const secure = { secureAggregation: { variant: 'secagg+', clipNorm: 1, bits: 20 } };
    for (const name of ['fedavgm', 'fedadam', 'fedyogi', 'fedadagrad']) {
      expect(() => validateScenario({ ...base, strategy: { name }, privacy: dp })).not.toThrow();
      expect(() => validateScenario({ ...base, strategy: { name }, privacy: secure })).not.toThrow();
    }
  });
});
