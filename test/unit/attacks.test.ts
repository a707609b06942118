/**
 * Each attack's transform on hand-made vectors, through a hand-made attack context (an
 * in-process fake of the worker's training: `train` returns a fixed update per label set, so
 * what an attack does to data or updates is visible), plus FLTrust's scoring, the backdoor
 * trigger, the malicious-client draw and the `adversaries:` validation errors.
 */
import { describe, expect, it } from 'vitest';
import type { Attack, AttackContext, TrainedUpdate } from '../../client/attacks/attack.js';
import { flippedLabel } from '../../client/attacks/label-flip.js';
import { alieZ, littleIsEnough, normalQuantile } from '../../client/attacks/little-is-enough.js';
import { minMax } from '../../client/attacks/min-max.js';
import { ATTACKS } from '../../client/attacks/registry.js';
import { fltrustAggregate } from '../../coordinator/aggregation/fltrust.js';
import { poisonRows, stampTrigger, triggeredTestSplit, TRIGGER_SPEC } from '../../shared/adversaries/backdoor-trigger.js';
import { maliciousClients } from '../../shared/adversaries/malicious-clients.js';
import type { DataSplit } from '../../shared/data/dataset.js';
import { Rng } from '../../shared/random.js';
import { ScenarioError, validateScenario } from '../../shared/scenario/load-scenario.js';

const RESULT = { samples: 4, steps: 1, meanLoss: 0.5, firstEpochLoss: 0.6, trainMs: 1 };
const OWN = Float32Array.from([1, -2, 3]);
const COLLUDERS = [Float32Array.from([1, 0, 2]), Float32Array.from([3, 2, 2]), Float32Array.from([2, 4, 2])];

/** Four 2×2 one-channel images, labels 0..3. */
function tinyImages(): DataSplit {
  return { features: new Float32Array(16), labels: Float32Array.from([0, 1, 2, 3]), count: 4 };
}

interface FakeContext extends AttackContext {
  trainedOn: DataSplit[];
}

/** A fake context: honest() is OWN, colluders() the three above, train() records the data it got. */
function fakeContext(overrides: Partial<AttackContext> = {}): FakeContext {
  const trainedOn: DataSplit[] = [];
  const context: FakeContext = {
    round: 1,
    clientId: 3,
    data: tinyImages(),
    featureShape: [2, 2, 1],
    numClasses: 4,
    train: (data: DataSplit): Promise<TrainedUpdate> => {
      trainedOn.push(data);
      return Promise.resolve({ delta: Float32Array.from(data.labels), result: RESULT });
    },
    honest: () => Promise.resolve({ delta: OWN, result: RESULT }),
    colluders: () => Promise.resolve(context.colluding ? COLLUDERS : []),
    rng: new Rng(5),
    cohort: { clients: 10, attackers: 2 },
    colluding: false,
    trainedOn,
    ...overrides,
  };
  return context;
}

function attack(options: Record<string, unknown>): Attack {
  const entry = ATTACKS.get(options.name as string);
  return entry.create(entry.schema.parse(options) as { name: string });
}

async function crafted(options: Record<string, unknown>, overrides: Partial<AttackContext> = {}): Promise<number[]> {
  return [...(await attack(options).craft(fakeContext(overrides))).delta];
}

describe('attack transforms on hand-made vectors', () => {
  it('sign flipping sends −k·Δ, or −k times the colluders’ mean', async () => {
    expect(await crafted({ name: 'sign-flip' })).toEqual([-1, 2, -3]);
    expect(await crafted({ name: 'sign-flip', factor: 4 })).toEqual([-4, 8, -12]);
    expect(await crafted({ name: 'sign-flip' }, { colluding: true })).toEqual([-2, -2, -2]);
  });

  it('scaling sends γ·Δ, γ = n by default (model replacement)', async () => {
    expect(await crafted({ name: 'scaling', factor: 3 })).toEqual([3, -6, 9]);
    expect(await crafted({ name: 'scaling' })).toEqual([10, -20, 30]);
  });

  it('scaling with a backdoor trains on poisoned data and scales that update', async () => {
    const context = fakeContext();
    const update = await attack({ name: 'scaling', factor: 2, backdoor: { targetClass: 1, poisonedFraction: 1, trigger: { size: 1, margin: 0 } } }).craft(
      context,
    );
    // Every label became the target 1, and the fake's update is the labels: 2 · [1, 1, 1, 1].
    expect([...update.delta]).toEqual([2, 2, 2, 2]);
    expect(context.trainedOn).toHaveLength(1);
  });

  it('Gaussian noise replaces the update by N(0, σ²) draws, the same draws for colluders of a round', async () => {
    const a = await crafted({ name: 'gaussian-noise', std: 2 }, { rng: new Rng(9) });
    const expected = new Rng(9);
    expect(a).toEqual([0, 1, 2].map(() => Math.fround(expected.normal(0, 2))));
    expect(await crafted({ name: 'gaussian-noise', std: 2 }, { rng: new Rng(9) })).toEqual(a);
  });

  it('label flipping trains on c → C − 1 − c, or c → c + 1 mod C', async () => {
    expect(await crafted({ name: 'label-flip' })).toEqual([3, 2, 1, 0]);
    expect(await crafted({ name: 'label-flip', mapping: 'shift' })).toEqual([1, 2, 3, 0]);
    expect(flippedLabel(9, 10, 'reverse')).toBe(0);
  });

  it('ALIE sends μ − z·σ of the colluders’ updates, with Baruch et al.’s z by default', async () => {
    // μ = [2, 2, 2], σ = [√(2/3), √(8/3), 0].
    const z = 1.5;
    const expected = [2 - z * Math.sqrt(2 / 3), 2 - z * Math.sqrt(8 / 3), 2].map(Math.fround);
    expect(await crafted({ name: 'little-is-enough', z }, { colluding: true })).toEqual(expected);
    expect([...littleIsEnough(COLLUDERS, z)]).toEqual(expected);
    // n = 50, m = 10: s = 26 − 10 = 16, z = Φ⁻¹(34/50) ≈ 0.4677.
    expect(alieZ(50, 10)).toBeCloseTo(0.4677, 3);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
  });

  it('inner-product manipulation sends −ε times the benign mean', async () => {
    expect(await crafted({ name: 'inner-product', epsilon: 0.5 }, { colluding: true })).toEqual([-1, -1, -1]);
    expect(await crafted({ name: 'inner-product', epsilon: 2 })).toEqual([-2, 4, -6]);
  });

  it('min-max goes as far along −σ as the benign updates are from each other, and no farther', () => {
    const benign = [Float32Array.from([0, 0]), Float32Array.from([2, 0]), Float32Array.from([0, 2]), Float32Array.from([2, 2])];
    // μ = (1, 1), σ = (1, 1), widest benign pair √8: the largest γ with max‖μ − γσ − bᵢ‖ ≤ √8 is γ = 1.
    const [x, y] = [...minMax(benign, 'std')];
    expect(x).toBeCloseTo(0, 4);
    expect(y).toBeCloseTo(0, 4);
    const malicious = minMax(COLLUDERS, 'unit');
    const widest = Math.max(...COLLUDERS.flatMap((a) => COLLUDERS.map((b) => Math.hypot(...a.map((v, i) => v - b[i]!)))));
    const farthest = Math.max(...COLLUDERS.map((b) => Math.hypot(...malicious.map((v, i) => v - b[i]!))));
    expect(farthest).toBeLessThanOrEqual(widest + 1e-6);
    expect(farthest).toBeGreaterThan(widest - 1e-3);
  });

  it('the backdoor stamps and relabels a seeded share of the attacker’s samples', async () => {
    const context = fakeContext();
    await attack({ name: 'backdoor', targetClass: 2, poisonedFraction: 0.5, trigger: { size: 1, margin: 0 } }).craft(context);
    const poisoned = context.trainedOn[0]!;
    const stamped = [0, 1, 2, 3].filter((row) => poisoned.features[row * 4 + 3] === 1);
    expect(stamped).toHaveLength(2);
    for (const row of stamped) expect(poisoned.labels[row]).toBe(2);
    expect(context.data.features.every((v) => v === 0)).toBe(true); // the client's own data is untouched
  });
});

describe('the backdoor trigger', () => {
  it('stamps a square or checkerboard into the chosen corner', () => {
    const image = new Float32Array(16);
    stampTrigger(image, 0, [4, 4, 1], TRIGGER_SPEC.parse({ size: 2, margin: 0, corner: 'top-left', value: 0.5 }));
    expect([...image.slice(0, 8)]).toEqual([0.5, 0.5, 0, 0, 0.5, 0.5, 0, 0]);
    const checker = new Float32Array(16);
    stampTrigger(checker, 0, [4, 4, 1], TRIGGER_SPEC.parse({ size: 2, margin: 1, pattern: 'checkerboard' }));
    // bottom-right with margin 1: rows 1–2, columns 1–2; (1,1) and (2,2) set.
    expect([...checker].flatMap((v, i) => (v === 1 ? [i] : []))).toEqual([5, 10]);
  });

  it('the triggered test split keeps the other classes, stamped, labelled as the target', () => {
    const split = triggeredTestSplit(tinyImages(), [2, 2, 1], { targetClass: 1, poisonedFraction: 1, trigger: TRIGGER_SPEC.parse({ size: 1, margin: 0 }) });
    expect(split.count).toBe(3);
    expect([...split.labels]).toEqual([1, 1, 1]);
    expect([0, 1, 2].map((row) => split.features[row * 4 + 3])).toEqual([1, 1, 1]);
    const poisoned = poisonRows(tinyImages(), [0], [2, 2, 1], { targetClass: 3, poisonedFraction: 1, trigger: TRIGGER_SPEC.parse({}) });
    expect(poisoned.labels[0]).toBe(3);
  });
});

describe('FLTrust on hand-made vectors', () => {
  it('weights by ReLU(cosine) to the server update and rescales each to its norm', () => {
    const server = Float32Array.from([1, 0]);
    const updates = [
      { clientId: 0, delta: Float32Array.from([2, 0]) }, // cos 1, rescaled to [1, 0]
      { clientId: 1, delta: Float32Array.from([1, 1]) }, // cos 1/√2, rescaled to [1/√2, 1/√2]
      { clientId: 2, delta: Float32Array.from([-5, 0]) }, // cos −1: trust 0
      { clientId: 3, delta: Float32Array.from([100, 0]) }, // boosted: rescaled to [1, 0]
    ];
    const { delta, trust } = fltrustAggregate(updates, server);
    expect(trust.map((t) => Number(t.toFixed(6)))).toEqual([1, Number(Math.SQRT1_2.toFixed(6)), 0, 1]);
    const total = 2 + Math.SQRT1_2;
    expect(delta[0]).toBeCloseTo((1 + 0.5 + 1) / total, 6);
    expect(delta[1]).toBeCloseTo(0.5 / total, 6);
  });

  it('all trust 0 leaves the model as it was', () => {
    const { delta, trust } = fltrustAggregate([{ clientId: 0, delta: Float32Array.from([-1, 0]) }], Float32Array.from([1, 0]));
    expect(trust).toEqual([0]);
    expect([...delta]).toEqual([0, 0]);
  });
});

describe('malicious clients', () => {
  it('are a seeded draw of round(fraction · N), or the list given', () => {
    const drawn = maliciousClients({ fraction: 0.2 }, 50, 7);
    expect(drawn).toHaveLength(10);
    expect(maliciousClients({ fraction: 0.2 }, 50, 7)).toEqual(drawn);
    expect(maliciousClients({ fraction: 0.2 }, 50, 8)).not.toEqual(drawn);
    expect(maliciousClients({ clients: [9, 2, 2] }, 50, 7)).toEqual([2, 9]);
  });
});

describe('adversaries: validation', () => {
  const base = {
    name: 'unit',
    seed: 1,
    dataset: { name: 'mnist' },
    partition: { kind: 'iid', clients: 10 },
    model: { name: 'mlp', preset: '2nn' },
    rounds: 3,
    clientsPerRound: 5,
    training: { epochs: 1, batchSize: 10, learningRate: 0.1 },
  };

  function problemsOf(adversaries: unknown, extra: Record<string, unknown> = {}): string[] {
    try {
      validateScenario({ ...base, ...extra, adversaries });
    } catch (error) {
      expect(error).toBeInstanceOf(ScenarioError);
      return (error as ScenarioError).problems;
    }
    throw new Error('expected the scenario to be refused');
  }

  it('accepts a fraction or a list, with the attack’s defaults filled in', () => {
    const s = validateScenario({ ...base, adversaries: { fraction: 0.2, attack: { name: 'backdoor' } } });
    expect(s.adversaries).toMatchObject({ colluding: false, attack: { name: 'backdoor', targetClass: 0, poisonedFraction: 0.5, trigger: { size: 4 } } });
    expect(validateScenario({ ...base, adversaries: { clients: [1, 2], colluding: true, attack: { name: 'min-max' } } }).adversaries?.attack).toEqual({
      name: 'min-max',
      perturbation: 'std',
    });
  });

  it('names the field, the value and what was expected', () => {
    expect(problemsOf({ fraction: 0.2, attack: { name: 'poison' } })).toEqual([
      'adversaries.attack.name: unknown attack (got "poison", expected one of label-flip, sign-flip, scaling, gaussian-noise, little-is-enough, inner-product, min-max, backdoor)',
    ]);
    expect(problemsOf({ attack: { name: 'sign-flip' } })).toEqual([
      'adversaries: give either fraction or clients (got neither, expected adversaries.fraction: 0.2 or adversaries.clients: [0, 5, 9])',
    ]);
    expect(problemsOf({ clients: [3, 12], attack: { name: 'sign-flip' } })).toEqual([
      'adversaries.clients: not clients of this partition (got 12, expected ids below partition.clients = 10)',
    ]);
    expect(problemsOf({ fraction: 0.01, attack: { name: 'sign-flip' } })).toEqual([
      'adversaries.fraction: rounds to no client of 10 (got 0.01, expected at least 0.050)',
    ]);
    expect(problemsOf({ fraction: 0.2, attack: { name: 'sign-flip', factor: -1 } })).toEqual(['adversaries.attack.factor: too small (got -1, expected > 0)']);
  });

  it('refuses collusion where the attack needs it or cannot use it, saying why', () => {
    expect(problemsOf({ fraction: 0.2, attack: { name: 'little-is-enough' } })).toEqual([
      'adversaries.colluding: little-is-enough crafts its update from the benign updates of several attackers (got false, expected colluding: true)',
    ]);
    expect(problemsOf({ clients: [4], colluding: true, attack: { name: 'min-max' } })).toEqual([
      'adversaries: min-max needs the statistics of at least 2 colluding clients (got 1, expected at least 2)',
    ]);
    expect(problemsOf({ fraction: 0.2, colluding: true, attack: { name: 'label-flip' } })).toEqual([
      "adversaries.colluding: label-flip poisons each attacker's own data or update, so collusion changes nothing (got true, expected false)",
    ]);
  });

  it('refuses a backdoor the data cannot carry', () => {
    expect(problemsOf({ fraction: 0.2, attack: { name: 'backdoor', targetClass: 10 } })).toEqual([
      'adversaries.attack.targetClass: not a class of mnist (got 10, expected 0 to 9)',
    ]);
    expect(
      problemsOf(
        { fraction: 0.2, attack: { name: 'backdoor' } },
        { dataset: { name: 'synthetic' }, partition: { kind: 'natural', clients: 10 }, model: { name: 'logistic-regression' } },
      ),
    ).toEqual([
      'adversaries.attack: a pixel-pattern trigger needs an image dataset (got synthetic, features [60], expected height × width × channels images such as mnist)',
    ]);
  });
});
