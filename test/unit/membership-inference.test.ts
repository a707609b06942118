import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../client/backend/select-backend.js';
import { trainLocal } from '../../client/training/local-training.js';
import { logNormalCdf, perSampleLosses, rocAuc, runMembershipInference, summarizeAttack, tprAtFpr } from '../../coordinator/privacy/membership-inference.js';
import type { DataSplit, Dataset } from '../../shared/data/dataset.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import type { FederatedData } from '../../shared/data/federated-data.js';
import { buildModel } from '../../shared/models/build-model.js';
import { initialWeights, setFlatWeights } from '../../shared/models/parameters.js';
import { Rng } from '../../shared/random.js';
import * as tf from '../../shared/tf.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

const FEATURES = 20;
const CLASSES = 4;
const shape: DataShape = { task: 'classification', featureShape: [FEATURES], numClasses: CLASSES };

/** Gaussian noise features with uniformly random labels: nothing to learn, so any fit is memorisation. */
function randomLabelled(n: number, seed: number): DataSplit {
  const rng = new Rng(seed);
  const features = Float32Array.from({ length: n * FEATURES }, () => rng.normal());
  const labels = Float32Array.from({ length: n }, () => rng.int(CLASSES));
  return { features, labels, count: n };
}

function federated(train: DataSplit, test: DataSplit, clients: number[][]): FederatedData {
  const dataset: Dataset = {
    name: 'random-labels',
    task: 'classification',
    featureShape: [FEATURES],
    featureSize: FEATURES,
    numClasses: CLASSES,
    train,
    test,
    description: 'test fixture',
  };
  return { dataset, clients, heldOut: clients.map(() => []) };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('rocAuc', () => {
  it('is 1 for perfect separation, 0 reversed, 0.5 for identical scores', () => {
    expect(rocAuc([3, 4], [1, 2])).toBe(1);
    expect(rocAuc([1, 2], [3, 4])).toBe(0);
    expect(rocAuc([1, 1, 1], [1, 1])).toBe(0.5);
  });

  it('counts a member–non-member tie as half a pair', () => {
    // Pairs (member, non-member): (1,2) 0, (1,3) 0, (2,2) ½, (2,3) 0 → ½ / 4.
    expect(rocAuc([1, 2], [2, 3])).toBe(0.125);
    // 0.9 beats both; each 0.5 ties 0.5 (½) and beats 0.1 (1) → (2 + 1.5 + 1.5) / 6.
    expect(rocAuc([0.9, 0.5, 0.5], [0.5, 0.1])).toBeCloseTo(5 / 6, 12);
    // (∞, ∞) ½, (∞, 0) 1, (−∞, ·) 0 → 1.5 / 4.
    expect(rocAuc([Infinity, -Infinity], [Infinity, 0])).toBe(0.375);
  });

  it('refuses empty sides and NaN scores', () => {
    expect(() => rocAuc([], [1])).toThrow('rocAuc: needs scores on both sides (got 0 members and 1 non-members)');
    expect(() => rocAuc([NaN], [1])).toThrow('rocAuc: scores must not be NaN');
  });
});

describe('tprAtFpr', () => {
  const members = [10, 9, 8, 7, 6];
  const nonMembers = [9.5, 5, 4, 3, 2, 1, 0, -1, -2, -3];

  it('takes the best threshold whose false positives stay within the budget', () => {
    expect(tprAtFpr(members, nonMembers, 0)).toBe(0.2); // only 10 is above 9.5
    expect(tprAtFpr(members, nonMembers, 0.05)).toBe(0.2); // 0.5 false positives allowed: still none
    expect(tprAtFpr(members, nonMembers, 0.1)).toBe(1); // one false positive (9.5) buys every member
    expect(tprAtFpr(members, nonMembers, 1)).toBe(1);
  });

  it('never splits ties to reach a better operating point', () => {
    // A threshold at 1 takes both members and the tied non-member: FPR ½.
    expect(tprAtFpr([1, 1], [1, 0], 0.4)).toBe(0);
    expect(tprAtFpr([1, 1], [1, 0], 0.5)).toBe(1);
    expect(() => tprAtFpr([1], [0], 1.5)).toThrow('tprAtFpr: fpr must be in [0, 1] (got 1.5)');
  });

  it('gives the advantage as the largest TPR − FPR', () => {
    // Thresholds: 10 → (0.2, 0), 9.5 → (0.2, 0.1), 6 → (1, 0.1): advantage 0.9. AUC: 10 beats all
    // ten non-members, 9 to 6 beat all but 9.5 → 46 / 50.
    expect(summarizeAttack('loss-threshold', members, nonMembers)).toEqual({
      attack: 'loss-threshold',
      auc: 0.92,
      tprAt1PctFpr: 0.2,
      tprAt10PctFpr: 1,
      advantage: 0.9,
    });
  });
});

describe('logNormalCdf', () => {
  it('matches known values and stays finite and increasing in both tails', () => {
    expect(logNormalCdf(0)).toBeCloseTo(Math.log(0.5), 6);
    expect(Math.exp(logNormalCdf(1.959963984540054))).toBeCloseTo(0.975, 6);
    expect(Math.exp(logNormalCdf(-1))).toBeCloseTo(0.15865525393145707, 6);
    expect(logNormalCdf(-10)).toBeCloseTo(-53.23128515051247, 5); // Φ(−10) ≈ 7.6e-24
    expect(logNormalCdf(-40)).toBeCloseTo(-804.6084420137538, 3); // far below float64's Φ range
    const grid = range(-400, 101).map((i) => logNormalCdf(i / 10));
    for (let i = 1; i < grid.length; i++) expect(grid[i]!).toBeGreaterThan(grid[i - 1]!);
  });
});

describe('perSampleLosses', () => {
  it('gives cross-entropy of the true class on a hand-made classifier, batched, without leaks', async () => {
    // Logistic regression with W = 0 and bias (ln 3, 0): every prediction is (0.75, 0.25).
    const blobShape: DataShape = { task: 'classification', featureShape: [4], numClasses: 2 };
    const model = buildModel({ name: 'logistic-regression' }, blobShape);
    const weights = new Float32Array(4 * 2 + 2);
    weights[8] = Math.log(3);
    setFlatWeights(model, weights);
    const data: DataSplit = { features: new Float32Array(5 * 4), labels: Float32Array.from([0, 1, 0, 1, 1]), count: 5 };
    const before = tf.memory().numTensors;
    const losses = await perSampleLosses(model, data, blobShape, 2);
    expect(tf.memory().numTensors).toBe(before);
    const expected = [0.75, 0.25, 0.75, 0.25, 0.25].map((p) => -Math.log(p));
    losses.forEach((loss, i) => expect(loss).toBeCloseTo(expected[i]!, 6));
  });

  it('gives squared errors for regression', async () => {
    const regression: DataShape = { task: 'regression', featureShape: [2], numClasses: 0 };
    const model = buildModel({ name: 'linear-regression' }, regression);
    setFlatWeights(model, Float32Array.from([1, 2, 0.5])); // y = x₀ + 2x₁ + 0.5
    const data: DataSplit = { features: Float32Array.from([1, 1, 0, 0, 2, -1]), labels: Float32Array.from([3.5, 0, 1]), count: 3 };
    expect(Array.from(await perSampleLosses(model, data, regression))).toEqual([0, 0.25, 0.25]);
  });

  it('refuses a model whose output does not fit the classes', async () => {
    const model = buildModel({ name: 'logistic-regression' }, { ...shape, numClasses: 3 });
    await expect(perSampleLosses(model, randomLabelled(4, 1), shape)).rejects.toThrow(
      'perSampleLosses: model output does not fit the data (got 1 output(s) of shape [null, 3], expected one of shape [null, 4])',
    );
  });
});

describe('runMembershipInference', () => {
  // 150 random-labelled training samples in three clients; only clients 0 and 1 train, so client
  // 2's samples are unseen, like the test set.
  const train = randomLabelled(150, 11);
  const test = randomLabelled(400, 12);
  const clients = [range(0, 50), range(50, 100), range(100, 150)];
  let model: tf.LayersModel;

  beforeAll(async () => {
    model = buildModel({ name: 'mlp', hidden: [64] }, shape);
    setFlatWeights(model, initialWeights(model, 1));
    const seen: DataSplit = { features: train.features.slice(0, 100 * FEATURES), labels: train.labels.slice(0, 100), count: 100 };
    await trainLocal(model, seen, shape, { epochs: 60, batchSize: 20, optimizer: 'adam', learningRate: 0.01, seed: 2 });
  });

  it('detects the members of a model that memorised its training data', async () => {
    const before = tf.memory().numTensors;
    const report = await runMembershipInference({ model, shape, data: federated(train, test, clients), participants: [0, 1], seed: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(report).toMatchObject({ members: 100, nonMembers: 200, referenceSamples: 200 });
    expect(report.attacks.map((a) => a.attack)).toEqual(['loss-threshold', 'likelihood-ratio']);
    for (const attack of report.attacks) {
      expect(attack.auc).toBeGreaterThan(0.7);
      expect(attack.advantage).toBeGreaterThan(0.3);
      expect(attack.tprAt10PctFpr).toBeGreaterThan(0.3);
    }
  });

  it('finds nothing when the "members" were never trained on', async () => {
    // Two disjoint held-out sets: exchangeable, so the true AUC is 0.5. With m = 400 and n = 200
    // the AUC's null standard deviation is √((m + n + 1) / (12·m·n)) ≈ 0.025; allow 4 of them.
    const unseen = randomLabelled(400, 13);
    const report = await runMembershipInference({ model, shape, data: federated(unseen, test, [range(0, 400)]), participants: [0], seed: 5 });
    expect(report).toMatchObject({ members: 400, nonMembers: 200, referenceSamples: 200 });
    for (const attack of report.attacks) {
      expect(Math.abs(attack.auc - 0.5)).toBeLessThan(0.1);
      expect(attack.advantage).toBeLessThan(0.2);
    }
    // The same on raw losses, with no sampling in between.
    const losses = await perSampleLosses(model, unseen, shape);
    const testLosses = await perSampleLosses(model, test, shape);
    expect(
      Math.abs(
        rocAuc(
          losses.map((l) => -l),
          testLosses.map((l) => -l),
        ) - 0.5,
      ),
    ).toBeLessThan(0.1);
  });

  it('is deterministic for a seed, samples at most maxPerSide per side, and ignores the order of participants', async () => {
    const data = federated(train, test, clients);
    const a = await runMembershipInference({ model, shape, data, participants: [0, 1], seed: 9, maxPerSide: 60 });
    const b = await runMembershipInference({ model, shape, data, participants: [1, 0, 1], seed: 9, maxPerSide: 60 });
    expect(b).toEqual(a);
    expect(a).toMatchObject({ members: 60, nonMembers: 60, referenceSamples: 60 });
    const c = await runMembershipInference({ model, shape, data, participants: [0, 1], seed: 10, maxPerSide: 60 });
    expect(c.attacks).not.toEqual(a.attacks);
  });

  it('refuses inputs it cannot attack with, naming the problem', async () => {
    const data = federated(train, test, clients);
    await expect(runMembershipInference({ model, shape, data, participants: [], seed: 1 })).rejects.toThrow(
      'runMembershipInference: participants is empty (expected the ids of the clients that took part in at least one round)',
    );
    await expect(runMembershipInference({ model, shape, data, participants: [0, 3, 1.5], seed: 1 })).rejects.toThrow(
      'runMembershipInference: participants holds ids that are not clients (got 3, 1.5, expected integers in [0, 3))',
    );
    await expect(runMembershipInference({ model, shape, data: federated(train, randomLabelled(39, 3), clients), participants: [0], seed: 1 })).rejects.toThrow(
      'runMembershipInference: the test set has 39 samples, too few to split into evaluated non-members and a population reference (need at least 40: 20 of each)',
    );
    await expect(runMembershipInference({ model, shape, data: federated(train, test, [[], []]), participants: [1], seed: 1 })).rejects.toThrow(
      "runMembershipInference: the participants' clients hold no training samples",
    );
    await expect(runMembershipInference({ model, shape, data, participants: [0], seed: 1, maxPerSide: 10 })).rejects.toThrow(
      'runMembershipInference: maxPerSide must be an integer ≥ 20 (got 10)',
    );
    await expect(runMembershipInference({ model, shape: { ...shape, numClasses: 3 }, data, participants: [0], seed: 1 })).rejects.toThrow(
      /shape does not match dataset random-labels \(got classification \[20\] with 3 classes, expected classification \[20\] with 4 classes\)/,
    );
  });
});
