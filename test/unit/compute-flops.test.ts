import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../client/backend/select-backend.js';
import { evaluationFlops, forwardFlopsPerSample, layerFlops, trainingFlops, trainingFlopsPerSample } from '../../shared/compute/training-flops.js';
import { FederationClock, type ClockSettings } from '../../coordinator/simulation/federation-clock.js';
import { DEFAULT_STRAGGLER_SPEC } from '../../shared/compute/straggler-spec.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import { DEVICES_SPEC } from '../../shared/devices/device-profiles.js';
import { buildModel } from '../../shared/models/build-model.js';
import * as tf from '../../shared/tf.js';

const mnist: DataShape = { task: 'classification', featureShape: [28, 28, 1], numClasses: 10 };
const boston: DataShape = { task: 'regression', featureShape: [13], numClasses: 0 };

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('training FLOPs', () => {
  it('counts the 2NN (784-200-200-10) by hand', () => {
    // Dense: 2·in·out (multiply-adds) + out (bias) + activation·out.
    // flatten (reshape)                                              0
    // hidden1 2·784·200 + 200 + 1·200 (relu)   = 313,600 + 400   = 314,000
    // hidden2 2·200·200 + 200 + 1·200 (relu)   =  80,000 + 400   =  80,400
    // softmax 2·200·10  + 10  + 5·10 (softmax) =   4,000 + 60    =   4,060
    // forward                                                   = 398,460
    // backward = 2 × forward (all three are weighted layers)    = 796,920
    const model = buildModel({ name: 'mlp', preset: '2nn' }, mnist);
    expect(layerFlops(model).map((l) => l.forward)).toEqual([0, 314_000, 80_400, 4_060]);
    expect(forwardFlopsPerSample(model)).toBe(398_460);
    expect(trainingFlopsPerSample(model)).toBe(398_460 + 796_920);
    // Kaplan et al.'s 6N rule (N = 199,210 parameters) gives 1,195,260: the count differs only
    // by activations and biases.
    expect(trainingFlopsPerSample(model)! / (6 * model.countParams())).toBeCloseTo(1, 3);
  });

  it('counts the FedAvg CNN by hand, padding and pooling included', () => {
    // conv1: 'same' 5×5, 1 → 32 channels, output 28×28×32 = 25,088 elements.
    //   multiply-adds 28·28 positions × 5·5·1·32 kernel = 627,200 → 1,254,400 FLOPs
    //   + bias 25,088 + relu 25,088                                     = 1,304,576
    // pool1: 2×2 max → 14×14×32 = 6,272 outputs × 3 comparisons        =    18,816
    // conv2: 'same' 5×5, 32 → 64, output 14×14×64 = 12,544 elements.
    //   multiply-adds 14·14 × 5·5·32·64 = 10,035,200 → 20,070,400
    //   + bias 12,544 + relu 12,544                                     = 20,095,488
    // pool2: 7×7×64 = 3,136 outputs × 3                                 =     9,408
    // flatten                                                           =         0
    // dense1: 2·3136·512 + 512 + 512                                    =  3,212,288
    // softmax: 2·512·10 + 10 + 5·10                                     =     10,300
    const forward = [1_304_576, 18_816, 20_095_488, 9_408, 0, 3_212_288, 10_300];
    const model = buildModel({ name: 'cnn' }, mnist);
    const layers = layerFlops(model);
    expect(layers.map((l) => l.forward)).toEqual(forward);
    // Weighted layers: backward 2×; pools 1× (input gradient only); flatten 0.
    expect(layers.map((l) => l.backward)).toEqual([2 * 1_304_576, 18_816, 2 * 20_095_488, 9_408, 0, 2 * 3_212_288, 2 * 10_300]);
    const forwardTotal = 24_650_876;
    expect(forwardFlopsPerSample(model)).toBe(forwardTotal);
    const backwardTotal = 2 * (1_304_576 + 20_095_488 + 3_212_288 + 10_300) + 18_816 + 9_408;
    expect(trainingFlopsPerSample(model)).toBe(forwardTotal + backwardTotal);
    // One FedAvg client with 600 samples and E = 5: 3,000 sample passes.
    expect(trainingFlops(model, 600, 5)).toBe(3_000 * (forwardTotal + backwardTotal));
    expect(evaluationFlops(model, 10_000)).toBe(10_000 * forwardTotal);
  });

  it('counts strided, unpadded convolutions from their output size', () => {
    // 'valid' 3×3 stride 2 on 9×9×2: output ⌊(9 − 3)/2⌋ + 1 = 4 → 4×4×8 = 128 elements.
    // 2 · 16 positions · 3·3·2·8 = 4,608; + bias 128; tanh 5·128 = 640 → 5,376.
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [9, 9, 2], filters: 8, kernelSize: 3, strides: 2, padding: 'valid', activation: 'tanh', name: 'c' }),
        tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: 'p' }), // 2×2×8 = 32 outputs × 4
        tf.layers.flatten({ name: 'f' }),
        tf.layers.dense({ units: 3, useBias: false, name: 'd' }), // 2·32·3 = 192, no bias
      ],
    });
    expect(layerFlops(model).map((l) => l.forward)).toEqual([5_376, 128, 0, 192]);
  });

  it('counts linear regression as 2·13 + 1 forward', () => {
    const model = buildModel({ name: 'linear-regression' }, boston);
    expect(forwardFlopsPerSample(model)).toBe(27);
    expect(trainingFlops(model, 404, 1)).toBe(404 * 81);
  });

  it('reports layers it cannot count as null, with one warning, instead of counting 0 or throwing', () => {
    const model = tf.sequential({
      name: 'with-embedding',
      layers: [tf.layers.embedding({ inputDim: 10, outputDim: 4, inputLength: 3, name: 'emb' }), tf.layers.flatten({ name: 'f' })],
    });
    expect(layerFlops(model)).toEqual([
      { name: 'emb', className: 'Embedding', forward: null, backward: null, uncounted: 'layer emb (Embedding) has no FLOP count yet' },
      { name: 'f', className: 'Flatten', forward: 0, backward: 0 },
    ]);
    const warnings: string[] = [];
    const log = { warn: (message: string) => warnings.push(message) };
    expect(trainingFlopsPerSample(model, log)).toBeNull();
    expect(forwardFlopsPerSample(model, log)).toBeNull();
    expect(trainingFlops(model, 600, 5, log)).toBeNull();
    expect(evaluationFlops(model, 100, log)).toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^training FLOPs of model with-embedding are unknown \(reported as null\): layer emb \(Embedding\) has no FLOP count yet \(known layers: Dense, /,
    );
    expect(() => trainingFlops(buildModel({ name: 'linear-regression' }, boston), -1, 1)).toThrow(/samples must be a finite number ≥ 0/);
  });

  it('reports an activation it cannot count as null for its layer only', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 3, activation: 'relu', name: 'known' }),
        tf.layers.dense({ units: 2, activation: 'gelu', name: 'gelu' }),
      ],
    });
    const warnings: string[] = [];
    expect(layerFlops(model).map((l) => l.forward)).toEqual([2 * 4 * 3 + 3 + 3, null]);
    expect(trainingFlopsPerSample(model, { warn: (message) => warnings.push(message) })).toBeNull();
    expect(warnings).toEqual([expect.stringContaining('layer gelu uses activation gelu, which has no FLOP count yet')]);
  });
});

describe('a model whose FLOPs are unknown', () => {
  const settings: ClockSettings = {
    stragglers: DEFAULT_STRAGGLER_SPEC,
    seed: 1,
    clientSizes: [30, 50],
    epochs: 2,
    batchSize: 10,
    flopsPerSample: null,
    updateBytes: 400,
  };

  it('gives rounds null FLOP figures instead of failing', () => {
    const clock = new FederationClock(settings);
    clock.planRound([0, 1], 2, 400);
    expect(
      clock.finishRound(1, [
        { clientId: 0, steps: 6 },
        { clientId: 1, steps: 10 },
      ]),
    ).toMatchObject({ flops: null, flopsTotal: null, flopsPerClient: null, wastedFlops: null });
    // The same clock with a count: the figures it would otherwise give.
    const counted = new FederationClock({ ...settings, flopsPerSample: 100 });
    counted.planRound([0, 1], 2, 400);
    expect(
      counted.finishRound(1, [
        { clientId: 0, steps: 6 },
        { clientId: 1, steps: 10 },
      ]),
    ).toMatchObject({ flops: 100 * 80 * 2, flopsPerClient: 100 * 40 * 2, wastedFlops: 0 });
  });

  it('cannot simulate device time, and says so before round 1', () => {
    const devices = DEVICES_SPEC.parse({ population: [{ profile: 'laptop', share: 1 }] });
    expect(() => new FederationClock({ ...settings, devices })).toThrow(
      "system.devices: simulated device time needs the model's training FLOPs, which are unknown",
    );
  });
});
