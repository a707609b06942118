/**
 * The strategies whose clients keep state, on hand-made values against the papers' formulas:
 * SCAFFOLD's corrected local steps (full-batch gradient descent on a linear model, stepped by
 * hand), its control-variate update (option II) and server step; FedPer's partial aggregation
 * around a server optimizer; layer slices; the client-state budget; residuals that start from
 * the store; and the combinations validation refuses.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../client/backend/select-backend.js';
import { CLIENT_CONTROL_VECTOR, controlVariateStep, SERVER_CONTROL_VECTOR } from '../../client/training/control-variates.js';
import { trainLocal } from '../../client/training/local-training.js';
import { clientStateBudget } from '../../coordinator/client-state/client-state-budget.js';
import { uniformMean } from '../../coordinator/aggregation/uniform-mean.js';
import { PartialAggregation } from '../../coordinator/strategies/partial-aggregation.js';
import { STRATEGIES } from '../../coordinator/strategies/registry.js';
import { Scaffold } from '../../coordinator/strategies/scaffold.js';
import { strategyContextOf } from '../../coordinator/strategies/strategy-entry.js';
import type { ClientPool, TrainResult } from '../../coordinator/strategies/strategy.js';
import { createCodec } from '../../shared/compression/pipeline.js';
import { ErrorFeedback } from '../../shared/compression/error-feedback.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import { buildModel } from '../../shared/models/build-model.js';
import { gatherSlices, layerSlices, scatterSlices } from '../../shared/models/layer-slices.js';
import { getFlatWeights, layoutOf, setFlatWeights } from '../../shared/models/parameters.js';
import { Rng } from '../../shared/random.js';
import { validateScenario } from '../../shared/scenario/load-scenario.js';
import { SMALL_SCENARIO_INPUT } from '../support/scenarios.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

const POOL: ClientPool = { population: 4, largestSample: 2, sample: () => [0, 1] };
const CONTEXT = { seed: 1, population: 4, aggregateWeighting: 'weighted' as const, localMomentum: 0, localLearningRate: 0.1, parameterCount: 2 };
const result = (clientId: number): TrainResult => ({ clientId, samples: 10, weight: 1, steps: 5, plannedSteps: 5, loss: 1 });

describe('SCAFFOLD, client side', () => {
  it('option II: cᵢ⁺ = cᵢ − c + (x − y)/(Kη), sent as [Δy, cᵢ⁺ − cᵢ]', () => {
    const delta = Float32Array.from([-0.2, 0.4]);
    const step = controlVariateStep(delta, Float32Array.from([0.1, 0]), Float32Array.from([0.05, -0.1]), { steps: 4, learningRate: 0.1, momentum: 0 });
    // (x − y)/(Kη) = −Δ/0.4 = [0.5, −1]
    expect([...step.next].map((v) => +v.toFixed(6))).toEqual([0.45, -1.1]);
    expect([...step.sent].map((v) => +v.toFixed(6))).toEqual([-0.2, 0.4, 0.4, -1]);
    // A client's first round: cᵢ = 0.
    const first = controlVariateStep(delta, Float32Array.from([0, 0]), null, { steps: 4, learningRate: 0.1, momentum: 0 });
    expect([...first.next].map((v) => +v.toFixed(6))).toEqual([0.5, -1]);
  });

  it('corrects every local step by c − cᵢ, and cᵢ⁺ is the mean gradient along the path', async () => {
    const shape: DataShape = { task: 'regression', featureShape: [2], numClasses: 0 };
    const model = buildModel({ name: 'linear-regression' }, shape);
    const x = [
      [1, 2],
      [0.5, -1],
      [-1, 0.25],
      [2, 1],
    ];
    const y = [1, -0.5, 0.25, 2];
    const start = Float32Array.from([0.1, -0.2, 0.05]); // kernel [2, 1], bias
    const c = [0.3, -0.1, 0.2];
    const ci = [0.1, 0.4, -0.3];
    const lr = 0.05;
    const steps = 6;
    setFlatWeights(model, start);
    const data = { features: Float32Array.from(x.flat()), labels: Float32Array.from(y), count: 4 };
    const trained = await trainLocal(model, data, shape, {
      epochs: steps,
      batchSize: 'all',
      optimizer: 'sgd',
      learningRate: lr,
      seed: 1,
      round: {
        global: start,
        config: { controlVariates: true },
        vectors: { [SERVER_CONTROL_VECTOR]: Float32Array.from(c), [CLIENT_CONTROL_VECTOR]: Float32Array.from(ci) },
      },
    });
    expect(trained.steps).toBe(steps);
    // By hand: gradient of mean((x·w + b − y)²), then w ← w − η(g − cᵢ + c).
    let w = [...start];
    const gradients: number[][] = [];
    for (let k = 0; k < steps; k++) {
      const residuals = x.map((row, i) => row[0]! * w[0]! + row[1]! * w[1]! + w[2]! - y[i]!);
      const g = [0, 1].map((j) => (2 / 4) * residuals.reduce((s, r, i) => s + r * x[i]![j]!, 0)).concat((2 / 4) * residuals.reduce((s, r) => s + r, 0));
      gradients.push(g);
      w = w.map((v, j) => v - lr * (g[j]! - ci[j]! + c[j]!));
    }
    const after = getFlatWeights(model);
    w.forEach((v, j) => expect(after[j]).toBeCloseTo(v, 5));
    const delta = Float32Array.from(after.map((v, j) => v - start[j]!));
    const { next } = controlVariateStep(delta, Float32Array.from(c), Float32Array.from(ci), { steps, learningRate: lr, momentum: 0 });
    const meanGradient = [0, 1, 2].map((j) => gradients.reduce((s, g) => s + g[j]!, 0) / steps);
    meanGradient.forEach((v, j) => expect(next[j]).toBeCloseTo(v, 4));
  });
});

describe('SCAFFOLD, server side', () => {
  it('x ← x + η_g·mean Δy, c ← c + |S|/N·mean Δc, with uniform weights', () => {
    const scaffold = new Scaffold(1, CONTEXT);
    const first = scaffold.configureTrain(1, POOL);
    expect(first.config).toEqual({ controlVariates: true });
    expect([...first.vectors![SERVER_CONTROL_VECTOR]!]).toEqual([0, 0]);
    expect(first.weighUpdate!({ clientId: 0, samples: 600, steps: 5, plannedSteps: 10, loss: 1 })).toBe(1);
    expect(scaffold.updateLength(2)).toBe(4);
    const aggregator = uniformMean().create(1, 4);
    aggregator.accept({ clientId: 0, delta: Float32Array.from([0.2, -0.4, 0.6, 1]), weight: 1 });
    aggregator.accept({ clientId: 1, delta: Float32Array.from([0, 0, 0.2, 0.6]), weight: 1 });
    const outcome = scaffold.aggregateTrain(1, Float32Array.from([1, 2]), aggregator.finish(), [result(0), result(1)]);
    expect([...outcome.weights].map((v) => +v.toFixed(6))).toEqual([1.1, 1.8]);
    // mean Δc = [0.4, 0.8]; 2 of 4 clients: c = [0.2, 0.4]
    const c = scaffold.configureTrain(2, POOL).vectors![SERVER_CONTROL_VECTOR]!;
    expect([...c].map((v) => +v.toFixed(6))).toEqual([0.2, 0.4]);
    expect(outcome.metrics!.controlNorm).toBeCloseTo(Math.hypot(0.2, 0.4), 6);
    const restored = new Scaffold(1, CONTEXT);
    restored.restoreState(scaffold.exportState());
    expect([...restored.configureTrain(2, POOL).vectors![SERVER_CONTROL_VECTOR]!]).toEqual([...c]);
  });

  it('η_g scales the model step only', () => {
    const scaffold = new Scaffold(0.5, CONTEXT);
    const aggregator = uniformMean().create(1, 4);
    aggregator.accept({ clientId: 0, delta: Float32Array.from([0.2, -0.4, 0.4, 0.8]), weight: 1 });
    const outcome = scaffold.aggregateTrain(1, Float32Array.from([1, 2]), aggregator.finish(), [result(0)]);
    expect([...outcome.weights].map((v) => +v.toFixed(6))).toEqual([1.1, 1.8]);
    expect([...scaffold.configureTrain(2, POOL).vectors![SERVER_CONTROL_VECTOR]!].map((v) => +v.toFixed(6))).toEqual([0.1, 0.2]);
  });
});

describe('partial aggregation (strategy.localLayers)', () => {
  const shape: DataShape = { task: 'classification', featureShape: [3], numClasses: 2 };
  const layout = layoutOf(buildModel({ name: 'mlp', hidden: [2] }, shape));

  it('names layers by their weights, and refuses unknown layers or all of them', () => {
    const personal = layerSlices(layout, ['softmax']);
    expect(personal.entries.map((e) => e.name)).toEqual(['softmax/kernel', 'softmax/bias']);
    expect(personal.size).toBe(2 * 2 + 2);
    expect(() => layerSlices(layout, ['output'])).toThrow('strategy.localLayers: no layer "output" in this model (expected some of hidden1, softmax)');
    expect(() => layerSlices(layout, ['hidden1', 'softmax'])).toThrow(/every layer of the model/);
    const vector = Float32Array.from({ length: layout.totalSize }, (_, i) => i);
    const packed = gatherSlices(vector, personal);
    expect([...packed]).toEqual([8, 9, 10, 11, 12, 13]);
    const zero = new Float32Array(layout.totalSize);
    scatterSlices(zero, personal, packed);
    expect([...zero.subarray(8)]).toEqual([8, 9, 10, 11, 12, 13]);
  });

  it('are checked against the model at validation, before anything starts', () => {
    const problems = (localLayers: string[]) => {
      try {
        validateScenario({ ...SMALL_SCENARIO_INPUT, name: 'fedper', strategy: { name: 'fedavg', localLayers } });
        return [];
      } catch (error) {
        return (error as { problems?: string[] }).problems ?? [(error as Error).message];
      }
    };
    expect(problems(['softmax'])).toEqual([]);
    expect(problems(['output'])).toEqual(['strategy.localLayers: no layer "output" in this model (expected some of hidden1, softmax)']);
  });

  it('keeps the server’s copy of personal layers fixed whatever the inner strategy does with the aggregate', () => {
    const personal = layerSlices(layout, ['softmax']);
    const adam = STRATEGIES.get('fedadam').create(STRATEGIES.get('fedadam').schema.parse({ name: 'fedadam' }) as never, {
      ...CONTEXT,
      parameterCount: layout.totalSize,
    });
    const wrapped = new PartialAggregation(adam, personal);
    expect(wrapped.clientStateValues(layout.totalSize)).toBe(6);
    expect(wrapped.updateLength(layout.totalSize)).toBe(layout.totalSize);
    const global = Float32Array.from({ length: layout.totalSize }, (_, i) => i / 10);
    const aggregator = uniformMean().create(1, layout.totalSize);
    // Noise (central DP) lands on every coordinate, the personal ones too.
    aggregator.accept({ clientId: 0, delta: Float32Array.from({ length: layout.totalSize }, () => 0.3), weight: 1 });
    const { weights } = wrapped.aggregateTrain(1, global, aggregator.finish(), [result(0)], []);
    expect([...gatherSlices(weights, personal)]).toEqual([...gatherSlices(global, personal)]);
    expect(weights[0]).not.toBe(global[0]);
  });
});

describe('client state budget and residuals', () => {
  const scenario = (extra: Record<string, unknown>) => validateScenario({ ...SMALL_SCENARIO_INPUT, name: 'budget', ...extra });
  const strategyOf = (s: ReturnType<typeof scenario>, parameterCount: number) =>
    STRATEGIES.get(s.strategy.name).create(s.strategy, strategyContextOf(s, parameterCount));

  it('is none for stateless runs, P for SCAFFOLD, plus the update’s length for top-k residuals, and refuses what does not fit', () => {
    const plain = scenario({});
    expect(clientStateBudget(plain, strategyOf(plain, 100), 100, 2)).toBeNull();
    const scaffold = scenario({ strategy: { name: 'scaffold' } });
    expect(clientStateBudget(scaffold, strategyOf(scaffold, 100), 100, 2)).toMatchObject({ valuesPerClient: 100, clients: 2 });
    const both = scenario({ strategy: { name: 'scaffold' }, rounds: 5, compression: { update: [{ codec: 'topk', ratio: 0.1 }] } });
    expect(clientStateBudget(both, strategyOf(both, 100), 100, 2)).toMatchObject({ valuesPerClient: 300, clients: 4 });
    const tight = scenario({ strategy: { name: 'scaffold' }, system: { clientStateMB: 1 } });
    expect(() => clientStateBudget(tight, strategyOf(tight, 1_000_000), 1_000_000, 2)).toThrow(
      'system.clientStateMB: up to 2 clients keep 1000000 float32 each (scaffold) = 8 MiB (got 1, expected at least that; or fewer clients or rounds)',
    );
  });

  it('error feedback resumes from a stored residual', () => {
    const codec = createCodec([{ codec: 'topk', ratio: 0.5 }], 'update');
    const update = Float32Array.from([1, -0.1, 0.2, -3]);
    const first = new ErrorFeedback(4);
    first.encode(update, codec, new Rng(1));
    const resumed = new ErrorFeedback(4, first.residual());
    const continued = new ErrorFeedback(4);
    continued.encode(update, codec, new Rng(1));
    expect(resumed.encode(update, codec, new Rng(2))).toEqual(continued.encode(update, codec, new Rng(2)));
    expect(() => new ErrorFeedback(3, first.residual())).toThrow(/residual has 4 values, expected 3/);
  });
});

describe('SCAFFOLD combinations validation refuses', () => {
  const problems = (extra: Record<string, unknown>) => {
    try {
      validateScenario({ ...SMALL_SCENARIO_INPUT, name: 'scaffold', strategy: { name: 'scaffold' }, ...extra });
      return [];
    } catch (error) {
      return (error as { problems?: string[] }).problems ?? [(error as Error).message];
    }
  };

  it('DP, Adam, FLTrust, update attacks and personal layers, each naming its field', () => {
    expect(problems({})).toEqual([]);
    expect(problems({ privacy: { dp: { mode: 'central', noiseMultiplier: 1, clipNorm: 1 } } }).join('\n')).toMatch(
      /privacy\.dp: SCAFFOLD sends \[Δy, Δc\] as one vector/,
    );
    expect(problems({ training: { ...SMALL_SCENARIO_INPUT.training, optimizer: 'adam' } }).join('\n')).toMatch(/training\.optimizer: SCAFFOLD .*got adam/);
    expect(problems({ strategy: { name: 'scaffold', localLayers: ['softmax'] } }).join('\n')).toMatch(/strategy\.localLayers: SCAFFOLD/);
    expect(problems({ strategy: { name: 'scaffold', serverLearningRate: 0 } }).join('\n')).toMatch(/strategy\.serverLearningRate/);
  });
});
