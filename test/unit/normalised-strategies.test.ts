/**
 * FedNova's normalisation and q-FedAvg's weights on hand-made updates, against the papers'
 * formulas written out here; the clients' side (local work, normalised update); and the
 * combinations validation refuses.
 */
import { describe, expect, it } from 'vitest';
import { weightedMean } from '../../coordinator/aggregation/weighted-mean.js';
import { uniformMean } from '../../coordinator/aggregation/uniform-mean.js';
import { FedNova } from '../../coordinator/strategies/fednova.js';
import { QFedAvg } from '../../coordinator/strategies/qfedavg.js';
import type { ClientPool, Strategy, TrainResult } from '../../coordinator/strategies/strategy.js';
import { normalizedUpdate } from '../../client/training/update-normalization.js';
import { validateScenario } from '../../shared/scenario/load-scenario.js';
import { SMALL_SCENARIO_INPUT } from '../support/scenarios.js';
import { localWorkNorm } from '../../shared/training/local-work.js';

const CONTEXT = { seed: 1, population: 2, localLearningRate: 0.1 };
const POOL: ClientPool = { population: 2, largestSample: 2, sample: () => [0, 1] };
const GLOBAL = Float32Array.from([1, -2, 0.5]);

interface Client {
  clientId: number;
  samples: number;
  steps: number;
  plannedSteps: number;
  loss: number;
  startLoss?: number;
  /** What the client sends. */
  sent: Float32Array;
}

/** One round as the engine runs it: each update weighed by the strategy, the aggregator, then aggregateTrain. */
function round(strategy: Strategy, clients: Client[], uniform = false): Float32Array {
  const instructions = strategy.configureTrain(1, POOL);
  const aggregator = (uniform ? uniformMean() : weightedMean()).create(1, GLOBAL.length);
  const results: TrainResult[] = clients.map((c) => {
    const weight = instructions.weighUpdate!({ ...c });
    aggregator.accept({ clientId: c.clientId, delta: c.sent.slice(), weight });
    const normSquared = c.sent.reduce((s, v) => s + v * v, 0);
    return {
      clientId: c.clientId,
      samples: c.samples,
      weight,
      steps: c.steps,
      plannedSteps: c.plannedSteps,
      loss: c.loss,
      normSquared,
      ...(c.startLoss !== undefined ? { startLoss: c.startLoss } : {}),
    };
  });
  return strategy.aggregateTrain(1, GLOBAL, aggregator.finish(), results, []).weights;
}

const near = (actual: Float32Array, expected: number[]) => expected.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, 5));

describe('local work (FedNova ‖a‖₁)', () => {
  it('is τ for SGD and matches heavy-ball momentum stepped out by hand', () => {
    expect(localWorkNorm(7, 0)).toBe(7);
    expect(localWorkNorm(3, 0.5)).toBeCloseTo(1.75 + 1.5 + 1, 12);
    for (const [steps, rho] of [
      [1, 0.9],
      [10, 0.9],
      [25, 0.3],
    ] as const) {
      // A constant unit gradient: v ← ρv + 1, w ← w − v; the distance travelled is ‖a‖₁.
      let v = 0;
      let travelled = 0;
      for (let k = 0; k < steps; k++) travelled += v = rho * v + 1;
      expect(localWorkNorm(steps, rho)).toBeCloseTo(travelled, 9);
    }
  });

  it('divides the update by it only when the config asks', () => {
    const delta = Float32Array.from([3, -6]);
    expect(normalizedUpdate(delta, 3, {})).toBe(delta);
    expect([...normalizedUpdate(delta, 3, { normalizeBySteps: true })]).toEqual([1, -2]);
    expect([...normalizedUpdate(delta, 3, { normalizeBySteps: true, stepMomentum: 0.5 })].map((v) => v * 4.25)).toEqual(
      [3, -6].map((v) => expect.closeTo(v, 5) as number),
    );
    expect(() => normalizedUpdate(delta, 0, { normalizeBySteps: true })).toThrow('the client took 0 local steps');
  });
});

describe('FedNova', () => {
  // Raw updates of two clients with 5× different local work.
  const raw = [Float32Array.from([1, 2, -1]), Float32Array.from([-0.5, 0.1, 0.3])];
  const clients = (steps: number[], planned = steps): Client[] =>
    raw.map((delta, i) => ({
      clientId: i,
      samples: [100, 300][i]!,
      steps: steps[i]!,
      plannedSteps: planned[i]!,
      loss: 1,
      sent: normalizedUpdate(delta, steps[i]!, { normalizeBySteps: true }),
    }));

  it('takes τ_eff · Σ pᵢ Δᵢ/τᵢ with pᵢ ∝ nᵢ (Wang et al. 2020, eq. 6)', () => {
    const next = round(new FedNova({ ...CONTEXT, aggregateWeighting: 'weighted', localMomentum: 0 }), clients([10, 2], [10, 10]));
    const p = [0.25, 0.75];
    const tauEff = p[0]! * 10 + p[1]! * 2;
    near(
      next,
      [...GLOBAL].map((w, j) => w + tauEff * (p[0]! * (raw[0]![j]! / 10) + p[1]! * (raw[1]![j]! / 2))),
    );
  });

  it('is FedAvg when every client does the same work', () => {
    const next = round(new FedNova({ ...CONTEXT, aggregateWeighting: 'weighted', localMomentum: 0 }), clients([4, 4]));
    near(
      next,
      [...GLOBAL].map((w, j) => w + 0.25 * raw[0]![j]! + 0.75 * raw[1]![j]!),
    );
  });

  it('averages τ uniformly when the aggregate is uniform, and believes no more steps than planned', () => {
    const next = round(new FedNova({ ...CONTEXT, aggregateWeighting: 'uniform', localMomentum: 0 }), clients([10, 2], [4, 10]), true);
    // The first client claims 10 steps of a planned 4: τ_eff counts 4 (its update was still divided by its claim).
    const tauEff = (4 + 2) / 2;
    near(
      next,
      [...GLOBAL].map((w, j) => w + tauEff * 0.5 * (raw[0]![j]! / 10 + raw[1]![j]! / 2)),
    );
  });
});

describe('q-FedAvg', () => {
  const eta = 0.1;
  const L = 1 / eta;
  const qContext = { ...CONTEXT, aggregateWeighting: 'weighted' as const, localMomentum: 0, localLearningRate: eta };
  const deltas = [Float32Array.from([0.2, -0.1, 0.05]), Float32Array.from([-0.3, 0.4, 0.1])];
  const F = [0.5, 2];
  const clients: Client[] = deltas.map((sent, i) => ({ clientId: i, samples: 50, steps: 5, plannedSteps: 5, loss: 0.1, startLoss: F[i]!, sent }));

  /** Algorithm 2 of Li et al. 2020, as written. */
  function paper(q: number): number[] {
    const dw = deltas.map((d) => [...d].map((v) => -L * v)); // Δw_k = L(w_t − w̄_k)
    const norm2 = dw.map((v) => v.reduce((s, x) => s + x * x, 0));
    const h = F.map((f, k) => q * f ** (q - 1) * norm2[k]! + L * f ** q);
    const sumH = h.reduce((s, x) => s + x, 0);
    return [...GLOBAL].map((w, j) => w - dw.reduce((s, v, k) => s + F[k]! ** q * v[j]!, 0) / sumH);
  }

  it('steps by −Σ F^q Δw / Σ h with L = 1/η', () => {
    for (const q of [0.5, 1, 5]) near(round(new QFedAvg(q, qContext), clients), paper(q));
  });

  it('is the uniform mean at q = 0, and asks clients for their loss before training', () => {
    const s = new QFedAvg(0, qContext);
    expect(s.configureTrain(1, POOL).config).toEqual({ reportStartLoss: true });
    near(
      round(s, clients),
      [...GLOBAL].map((w, j) => w + (deltas[0]![j]! + deltas[1]![j]!) / 2),
    );
  });

  it('weighs a client that sent no start loss by its training loss, and says so', () => {
    const s = new QFedAvg(2, qContext);
    expect(s.weightOf({ loss: 3 })).toBe(9);
    expect(s.weightOf({ loss: 3, startLoss: 0 })).toBeCloseTo(1e-20, 30);
    const outcome = s.aggregateTrain(1, GLOBAL, { delta: Float64Array.from([0, 0, 0]), measurements: {} }, [
      { clientId: 0, samples: 1, weight: 9, steps: 1, plannedSteps: 1, loss: 3, normSquared: 0 },
    ]);
    expect(outcome.metrics).toMatchObject({ missingStartLoss: 1, worstStartLoss: 3 });
  });
});

describe('validation of the combinations', () => {
  const base = { ...SMALL_SCENARIO_INPUT, name: 'normalised' };
  const problems = (extra: Record<string, unknown>) => {
    try {
      validateScenario({ ...base, ...extra });
      return [];
    } catch (error) {
      return (error as { problems?: string[] }).problems ?? [(error as Error).message];
    }
  };
  const dp = { dp: { mode: 'central', clipNorm: 1, noiseMultiplier: 1 } };
  const secure = { secureAggregation: { variant: 'secagg+', clipNorm: 1, bits: 20 } };

  it('lets FedNova run under DP and secure aggregation, but not with Adam', () => {
    expect(problems({ strategy: { name: 'fednova' }, privacy: dp })).toEqual([]);
    expect(problems({ strategy: { name: 'fednova' }, privacy: secure })).toEqual([]);
    expect(problems({ strategy: { name: 'fednova' }, training: { ...base.training, optimizer: 'adam' } })).toEqual([
      "training.optimizer: FedNova normalises by how far SGD or momentum steps carry a client; Adam's steps have no such fixed weights (got adam, expected sgd or momentum)",
    ]);
  });

  it('refuses q-FedAvg with secure aggregation, DP or an aggregator that ignores weights, and q out of range', () => {
    expect(problems({ strategy: { name: 'qfedavg', q: 1 } })).toEqual([]);
    expect(problems({ strategy: { name: 'qfedavg', q: 1 }, privacy: secure })).toEqual([
      expect.stringMatching(/^strategy\.name: q-FedAvg .*secure aggregation hides/),
    ]);
    expect(problems({ strategy: { name: 'qfedavg', q: 1 }, privacy: dp })).toEqual([
      expect.stringMatching(/^strategy\.name: q-FedAvg .*got qfedavg with privacy\.dp/),
    ]);
    expect(problems({ strategy: { name: 'qfedavg', q: 1, aggregator: { name: 'median' } } })).toEqual([
      expect.stringMatching(/^strategy\.aggregator\.name: q-FedAvg .*median ignores the weights \(got median, expected weighted-mean\)$/),
    ]);
    expect(problems({ strategy: { name: 'qfedavg' } })).toEqual([expect.stringMatching(/^strategy\.q: missing/)]);
    expect(problems({ strategy: { name: 'qfedavg', q: -1 } })).toEqual([expect.stringMatching(/^strategy\.q: too small/)]);
  });
});
