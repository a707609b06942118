/**
 * The round engine's seams: a strategy's config record reaches local training (FedProx's
 * proximal term), round vectors travel beside the model, aggregators compose (and refuse what
 * cannot work), aggregator state exports and restores, and the strategy registry names what it
 * holds. The full runs' results are pinned by test/integration/golden-metrics.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { selectBackend } from '../../client/backend/select-backend.js';
import { trainLocal } from '../../client/training/local-training.js';
import { buildAggregation, checkBufferedMemory } from '../../coordinator/aggregation/build-aggregation.js';
import { ClipNormSchedule } from '../../coordinator/aggregation/clip-norm-schedule.js';
import { secureSum } from '../../coordinator/aggregation/secure-sum.js';
import { weightedMean } from '../../coordinator/aggregation/weighted-mean.js';
import type { AggregatorFactory } from '../../coordinator/aggregation/aggregator.js';
import type { DpPlan } from '../../coordinator/privacy/dp-plan.js';
import { UniformSample } from '../../coordinator/selection/uniform-sample.js';
import { STRATEGIES } from '../../coordinator/strategies/registry.js';
import { ModelServer } from '../../coordinator/transport/model-server.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import { InProcessBus } from '../../shared/bus/in-process-bus.js';
import { buildModel } from '../../shared/models/build-model.js';
import { getFlatWeights, initialWeights, setFlatWeights } from '../../shared/models/parameters.js';
import { decodeFrameOf, encodeFrame } from '../../shared/protocol/frame.js';
import { fetchModel } from '../../shared/protocol/transfers.js';
import { Rng } from '../../shared/random.js';
import { l2Norm, subtract } from '../../shared/vector/vector-math.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

const shape: DataShape = { task: 'classification', featureShape: [4], numClasses: 2 };

function blobs(n: number, seed: number) {
  const rng = new Rng(seed);
  const features = Float32Array.from({ length: n * 4 }, (_, i) => rng.normal(Math.floor(i / 4) % 2 === 0 ? -1.5 : 1.5, 0.7));
  const labels = Float32Array.from({ length: n }, (_, i) => i % 2);
  return { features, labels, count: n };
}

/** Trains one client from the same start; returns its update and reported loss. */
async function trainWith(config: Record<string, number>) {
  const model = buildModel({ name: 'mlp', hidden: [8] }, shape);
  const global = initialWeights(model, 4);
  setFlatWeights(model, global);
  const result = await trainLocal(model, blobs(64, 2), shape, {
    epochs: 5,
    batchSize: 8,
    optimizer: 'sgd',
    learningRate: 0.3,
    seed: 1,
    round: { global, config, vectors: {} },
  });
  return { delta: subtract(getFlatWeights(model), global), loss: result.meanLoss };
}

describe('the config record reaches local training', () => {
  it('FedProx μ = 0 trains exactly as plain FedAvg; a large μ keeps the local model near the global one', async () => {
    const plain = await trainWith({});
    const muZero = await trainWith({ proximalMu: 0 });
    const strong = await trainWith({ proximalMu: 2 });
    expect(Buffer.from(muZero.delta.buffer).equals(Buffer.from(plain.delta.buffer))).toBe(true);
    expect(l2Norm(strong.delta)).toBeLessThan(0.6 * l2Norm(plain.delta));
    // The reported loss is the data loss: held nearer the start, the model fits the data less well.
    expect(strong.loss).toBeGreaterThan(plain.loss);
  });

  it('refuses a malformed proximal μ', async () => {
    await expect(trainWith({ proximalMu: -1 })).rejects.toThrow(/config\.proximalMu must be a number ≥ 0/);
  });

  it('travels in the task, schema-checked', () => {
    const task = {
      round: 1,
      clientId: 3,
      seed: 9,
      deadline: 0,
      claimToken: 'a'.repeat(32),
      config: { proximalMu: 0.01, personal: [0, 1], tag: 'x' },
      vectors: ['serverControl'],
    };
    expect(decodeFrameOf(encodeFrame('task', task), 'task').header).toEqual(task);
    expect(() => decodeFrameOf(encodeFrame('task', { ...task, config: { 'bad key!': 1 } }), 'task')).toThrow(/config/);
    expect(() => decodeFrameOf(encodeFrame('task', { ...task, config: { mu: Number.NaN } }), 'task')).toThrow(/config/);
  });

  it('FedProx sends μ to every client it selects; FedAvg sends nothing', () => {
    const pool = new UniformSample(1, 20, 5);
    const prox = STRATEGIES.get('fedprox')
      .create({ name: 'fedprox', mu: 0.1 }, { seed: 1, population: 20, aggregateWeighting: 'weighted', localMomentum: 0, localLearningRate: 0.1 })
      .configureTrain(1, pool);
    const avg = STRATEGIES.get('fedavg')
      .create({ name: 'fedavg' }, { seed: 1, population: 20, aggregateWeighting: 'weighted', localMomentum: 0, localLearningRate: 0.1 })
      .configureTrain(1, pool);
    expect(prox.clients).toEqual(avg.clients);
    expect(prox.config).toEqual({ proximalMu: 0.1 });
    expect(avg.config).toEqual({});
  });

  it('the registry lists its strategies and names the field for an unknown one', () => {
    expect(STRATEGIES.names()).toEqual(['fedavg', 'fedprox', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad', 'fednova', 'qfedavg', 'scaffold']);
    expect(() => STRATEGIES.get('fedsgd')).toThrow(
      'strategy.name: unknown (got "fedsgd", expected one of fedavg, fedprox, fedavgm, fedadam, fedyogi, fedadagrad, fednova, qfedavg, scaffold)',
    );
  });
});

describe('round vectors travel beside the model', () => {
  it('a worker fetches a named vector of the round; an unknown name is refused with the names that exist', async () => {
    const bus = new InProcessBus();
    const server = new ModelServer(bus, 'fedsim.t.model', pino({ level: 'silent' }));
    server.start();
    const control = Float32Array.from({ length: 70_000 }, (_, i) => i / 7);
    server.serve(2, new Float32Array(10), undefined, { serverControl: control });
    const fetched = await fetchModel(bus, 'fedsim.t.model', 2, 'serverControl');
    expect(Buffer.from(fetched.weights.buffer).equals(Buffer.from(control.buffer))).toBe(true);
    expect((await fetchModel(bus, 'fedsim.t.model', 2)).weights).toHaveLength(10);
    await expect(fetchModel(bus, 'fedsim.t.model', 2, 'missing')).rejects.toThrow(/has no vector "missing" \(it has serverControl\)/);
    server.stop();
  });
});

function dpPlan(overrides: Partial<DpPlan> = {}): DpPlan {
  return {
    mode: 'central',
    clipping: 'adaptive',
    q: 0.1,
    expectedClients: 4,
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

describe('aggregators compose', () => {
  it('central DP: clients clip to S, the server refuses anything longer, and the tighter of two bounds wins', () => {
    const central = buildAggregation({ seed: 1, dp: dpPlan(), secure: false, maxUpdateNorm: 5, aggregator: { name: 'weighted-mean' } });
    expect(central.rules(1)).toEqual({ maxNorm: 1 * (1 + 1e-5), clientPrivacy: { clipNorm: 1 } });
    const local = buildAggregation({
      seed: 1,
      dp: dpPlan({ mode: 'local', updateNoiseMultiplier: 3 }),
      secure: false,
      maxUpdateNorm: 5,
      aggregator: { name: 'weighted-mean' },
    });
    // Local DP updates carry their own noise: only the guard bound applies on the server.
    expect(local.rules(1)).toEqual({ maxNorm: 5, clientPrivacy: { clipNorm: 1, localNoiseStd: 3 } });
  });

  it('secure aggregation takes only the protocol’s sum, and refuses an aggregator that needs every update', () => {
    const chain = secureSum(weightedMean());
    const round = chain.create(1, 2);
    expect(() => round.accept({ clientId: 1, delta: new Float32Array(2), weight: 1 })).toThrow(/individual update reached the aggregator/);
    round.acceptSecureSum({ sum: Float32Array.of(2, 4), clients: 2 });
    expect([...round.finish().delta!]).toEqual([1, 2]);
    const buffering: AggregatorFactory = { ...weightedMean(), name: 'median', buffersUpdates: true };
    expect(() => secureSum(buffering)).toThrow(/median needs individual updates/);
  });

  it('adaptive clipping moves S after a round and exports / restores it for a checkpoint', () => {
    const chain = buildAggregation({ seed: 1, dp: dpPlan(), secure: false, aggregator: { name: 'weighted-mean' } });
    const round = chain.create(1, 3);
    for (let clientId = 0; clientId < 4; clientId++) round.accept({ clientId, delta: Float32Array.of(0.1, 0, 0), weight: 1, unclipped: true });
    const { measurements } = round.finish();
    // All 4 of 4 expected were inside S: the fraction is 1 > 0.5, so S shrinks by exp(−0.2 · 0.5).
    expect(measurements).toEqual({ clipNorm: 1, nextClipNorm: Math.exp(-0.1), unclippedFraction: 1 });
    const state = chain.exportState();
    const restored = buildAggregation({ seed: 1, dp: dpPlan(), secure: false, aggregator: { name: 'weighted-mean' } });
    restored.restoreState(JSON.parse(JSON.stringify(state)) as Record<string, unknown>);
    expect(restored.rules(2).clientPrivacy).toEqual({ clipNorm: Math.exp(-0.1) });
    const schedule = new ClipNormSchedule(dpPlan({ clipping: 'fixed' }), 1);
    schedule.restoreState({ clipNorm: 0.3 });
    expect(schedule.current).toBe(0.3);
  });

  it('checks up front that an aggregator keeping every update fits its memory limit', () => {
    const buffering: AggregatorFactory = { ...weightedMean(), name: 'median', buffersUpdates: true };
    // 100 clients × 1,663,370 parameters × 4 bytes ≈ 635 MiB.
    expect(() => checkBufferedMemory(buffering, 100, 1_663_370, 512)).toThrow(
      'strategy.aggregator: median keeps every update of a round: up to 100 × 1663370 float32 = 635 MiB (got system.aggregationMemoryMB 512, expected at least that; or fewer clients per round)',
    );
    expect(() => checkBufferedMemory(buffering, 100, 1_663_370, 1024)).not.toThrow();
    expect(() => checkBufferedMemory(weightedMean(), 10_000, 1_663_370, 1)).not.toThrow();
    expect(new UniformSample(1, 50, 10).largestSample).toBe(10);
  });
});
