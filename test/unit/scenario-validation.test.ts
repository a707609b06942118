import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSweepFile } from '../../app/compare/sweep-file.js';
import { AGGREGATORS } from '../../coordinator/aggregation/registry.js';
import { describe, expect, it } from 'vitest';
import { clientsPerRound, loadScenarioFile, parseScenarioText, ScenarioError, validateScenario } from '../../shared/scenario/load-scenario.js';
import { yamlAliasBomb } from '../support/hostile-yaml.js';

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

function problemsOf(raw: unknown): string[] {
  try {
    validateScenario(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as ScenarioError).problems;
  }
  throw new Error('expected the scenario to be refused');
}

describe('privacy.dp validation', () => {
  it('fills in DP defaults', () => {
    const s = validateScenario({ ...base, privacy: { dp: { clipNorm: 1, noiseMultiplier: 1.1 } } });
    expect(s.privacy.dp).toMatchObject({ mode: 'central', clipping: 'fixed', delta: 1e-5, conversion: 'tight', calibrate: false });
    expect(s.privacy.membershipInference).toBe(true);
  });

  it('names the field, the value and what was expected', () => {
    expect(problemsOf({ ...base, privacy: { dp: { clipNorm: 0, noiseMultiplier: 1 } } })).toEqual(['privacy.dp.clipNorm: too small (got 0, expected > 0)']);
    expect(problemsOf({ ...base, privacy: { dp: { clipNorm: 1 } } })).toEqual([
      'privacy.dp.noiseMultiplier: missing (expected a number ≥ 0, or calibrate: true with targetEpsilon)',
    ]);
    expect(problemsOf({ ...base, privacy: { dp: { clipNorm: 1, calibrate: true } } })).toEqual([
      'privacy.dp.calibrate: calibrating the noise needs a budget (got calibrate: true without targetEpsilon, expected privacy.dp.targetEpsilon)',
    ]);
    expect(problemsOf({ ...base, privacy: { dp: { clipNorm: 1, calibrate: true, targetEpsilon: 2, noiseMultiplier: 1 } } })).toEqual([
      'privacy.dp.noiseMultiplier: calibrate: true chooses it (got 1, expected no noiseMultiplier, or calibrate: false)',
    ]);
    expect(problemsOf({ ...base, privacy: { dp: { clipNorm: 1, noiseMultiplier: 1, mode: 'local', clipping: 'adaptive' } } })).toEqual([
      "privacy.dp.clipping: adaptive clipping needs a trusted aggregator for its noised count (got 'adaptive' with mode 'local', expected 'fixed')",
    ]);
    expect(problemsOf({ ...base, privacy: { dp: { clipNorm: 1, noiseMultiplier: 1, delta: 2 } } })).toEqual([
      'privacy.dp.delta: too large (got 2, expected < 1)',
    ]);
  });
});

describe('scenario validation', () => {
  it('accepts a minimal scenario and fills in defaults', () => {
    const s = validateScenario(base);
    expect(s.training.optimizer).toBe('sgd');
    expect(s.system).toMatchObject({ workers: 'auto', backend: 'auto', transport: 'auto' });
    expect(s.evaluation.every).toBe(1);
    expect(s.output.dir).toBe('runs');
  });

  it('every ready scenario and sweep in scenarios/ is valid', async () => {
    const files = readdirSync('scenarios').filter((f) => f.endsWith('.yaml'));
    expect(files).toContain('quickstart.yaml');
    for (const file of files) {
      const path = `scenarios/${file}`;
      if (/^sweep:/m.test(readFileSync(path, 'utf8'))) {
        const sweep = await loadSweepFile(path);
        for (const variant of sweep.variants) expect(variant.problems, `${file} ${variant.name}`).toEqual([]);
      } else {
        await expect(loadScenarioFile(path)).resolves.toBeTruthy();
      }
    }
  });

  it('lists unknown dataset, partition and model names with the valid ones', () => {
    const problems = problemsOf({ ...base, dataset: { name: 'cifar10' }, partition: { kind: 'random', clients: 3 }, model: { name: 'resnet' } });
    expect(problems).toContain(
      'dataset.name: unknown dataset name (got "cifar10", expected one of mnist, boston-housing, synthetic, shakespeare, synthetic-ratings, imdb)',
    );
    expect(problems).toContain('partition.kind: unknown partition kind (got "random", expected one of iid, dirichlet, shards, quantity-skew, natural)');
    expect(problems).toContain(
      'model.name: unknown model name (got "resnet", expected one of linear-regression, logistic-regression, mlp, cnn, cnn-small, lstm, gru, transformer, matrix-factorization)',
    );
  });

  it('lists unknown strategy and aggregator names with the registered ones; a strategy block without a name is FedAvg', () => {
    expect(problemsOf({ ...base, strategy: { name: 'fedsgd' } })).toContain(
      'strategy.name: unknown strategy (got "fedsgd", expected one of fedavg, fedprox, fedavgm, fedadam, fedyogi, fedadagrad, fednova, qfedavg, scaffold)',
    );
    expect(problemsOf({ ...base, strategy: { aggregator: { name: 'geometric-median' } } })).toContain(
      'strategy.aggregator.name: unknown aggregator (got "geometric-median", expected one of weighted-mean, uniform-mean, median, trimmed-mean, krum, multi-krum, bulyan, centered-clipping, fltrust)',
    );
    expect(validateScenario({ ...base, strategy: { maxUpdateNorm: 5 } }).strategy).toEqual({
      name: 'fedavg',
      maxUpdateNorm: 5,
      aggregator: { name: 'weighted-mean' },
    });
    expect(validateScenario({ ...base, strategy: { name: 'fedprox', mu: 0.01 } }).strategy).toMatchObject({ name: 'fedprox', mu: 0.01 });
    expect(problemsOf({ ...base, strategy: { name: 'fedprox' } }).join('\n')).toMatch(/strategy\.mu/);
  });

  it('refuses an aggregator the privacy setting would ignore', () => {
    expect(problemsOf({ ...base, strategy: { aggregator: { name: 'uniform-mean' } }, privacy: { dp: { clipNorm: 1, noiseMultiplier: 1 } } })).toContain(
      "strategy.aggregator.name: under privacy.dp the mean is DP's own (the noised sum over the expected cohort, or local DP's uniform mean), so another aggregator would be ignored (got uniform-mean, expected weighted-mean, the default)",
    );
  });

  it('reports every problem at once, each with path, value and expectation', () => {
    const problems = problemsOf({ ...base, rounds: 0, seed: 'x', training: { epochs: 1.5, batchSize: 'many', learningRate: -1 }, rouds: 3 });
    expect(problems).toEqual(
      expect.arrayContaining([
        'rounds: too small (got 0, expected ≥ 1)',
        'seed: wrong type (got "x", expected number)',
        'training.epochs: wrong type (got 1.5, expected a whole number)',
        'training.batchSize: expected a positive integer or "all" (got "many")',
        'training.learningRate: too small (got -1, expected > 0)',
      ]),
    );
    expect(problems).toContain('rouds: unknown field, did you mean rounds? (got 3)');
    expect(problems.length).toBe(6);
  });

  it('reports missing required fields', () => {
    const { rounds: _r, training: _t, ...rest } = base;
    const problems = problemsOf(rest);
    expect(problems).toContain('rounds: missing (expected number)');
    expect(problems.some((p) => p.startsWith('training: missing'))).toBe(true);
  });

  it('checks fields against each other', () => {
    expect(problemsOf({ ...base, clientsPerRound: 50 })).toContain(
      'clientsPerRound: more than there are clients (got 50, expected at most partition.clients = 10)',
    );
    expect(problemsOf({ ...base, clientFraction: 0.1 })[0]).toMatch(/either clientsPerRound or clientFraction, not both/);
    expect(problemsOf({ ...base, evaluation: { federated: { clients: 11 } } })).toEqual([
      'evaluation.federated.clients: more than there are clients (got 11, expected at most partition.clients = 10)',
    ]);
    expect(problemsOf({ ...base, evaluation: { federated: { clients: 2, fraction: 0.5 } } })).toEqual([
      'evaluation.federated: expected clients or fraction, not both (got a mapping)',
    ]);
    expect(problemsOf({ ...base, evaluation: { federated: { heldOutFraction: 1 } } })[0]).toMatch(/^evaluation\.federated\.heldOutFraction: too large/);
    const { clientsPerRound: _k, ...noK } = base;
    expect(problemsOf(noK)[0]).toMatch(/clientsPerRound: missing/);
    const boston = problemsOf({
      ...base,
      dataset: { name: 'boston-housing' },
      partition: { kind: 'shards', clients: 10 },
      evaluation: { targetAccuracy: 0.9 },
    });
    expect(boston).toEqual(
      expect.arrayContaining([
        "partition.kind: 'shards' splits by label and needs a classification dataset (got regression dataset boston-housing)",
        'model.name: mlp is a classifier (got regression dataset boston-housing, expected linear-regression)',
        'evaluation.targetAccuracy: boston-housing is a regression dataset (got 0.9, expected evaluation.targetMse instead)',
      ]),
    );
    expect(problemsOf({ ...base, model: { name: 'linear-regression' } })[0]).toMatch(/linear-regression predicts a number \(got classification dataset mnist/);
    expect(problemsOf({ ...base, dataset: { name: 'synthetic' }, model: { name: 'cnn' } })[0]).toMatch(
      /cnn needs image data.*got synthetic with features \[60\]/,
    );
    expect(problemsOf({ ...base, partition: { kind: 'natural', clients: 10 } })[0]).toMatch(/'natural' needs a dataset that comes federated \(got mnist/);
  });

  it('lists cross-field problems in the same pass as schema errors', () => {
    const problems = problemsOf({ ...base, rounds: 0, clientsPerRound: 50, model: { name: 'linear-regression' } });
    expect(problems).toEqual([
      'rounds: too small (got 0, expected ≥ 1)',
      'clientsPerRound: more than there are clients (got 50, expected at most partition.clients = 10)',
      'model.name: linear-regression predicts a number (got classification dataset mnist, expected a regression dataset such as boston-housing)',
    ]);
  });

  it('refuses values out of range in nested sections', () => {
    const problems = problemsOf({ ...base, system: { workers: -2, backend: 'gpu', natsUrl: 'http://x' } });
    expect(problems).toEqual(
      expect.arrayContaining([
        'system.workers: too small (got -2, expected ≥ 0)',
        'system.backend: not an allowed value (got "gpu", expected one of "auto", "tensorflow", "wasm", "cpu")',
        'system.natsUrl: expected a URL such as nats://host:4222 (got "http://x")',
      ]),
    );
  });

  it('reports YAML syntax errors and non-mapping documents', () => {
    expect(() => parseScenarioText('name: [unclosed', 'broken.yaml')).toThrow(/broken.yaml is not a valid scenario:\n {2}- YAML syntax/);
    expect(() => parseScenarioText('- a\n- b')).toThrow(/expected a mapping of scenario fields \(got \["a", "b"\]\)/);
  });

  it('quotes the line of a YAML syntax error with a caret under the column, never a bare colon', () => {
    const syntaxProblems = (text: string) => {
      try {
        parseScenarioText(text, 'broken.yaml');
      } catch (error) {
        return (error as ScenarioError).problems;
      }
      throw new Error('expected a syntax error');
    };
    expect(syntaxProblems('name: x\nseed: 1\nseed: 2\n')).toEqual(['YAML syntax at line 3, column 1: Map keys must be unique\n      3 | seed: 2\n        | ^']);
    expect(syntaxProblems('name: x\ntraining:\n\tepochs: 1\n')[0]).toBe(
      'YAML syntax at line 3, column 1: Tabs are not allowed as indentation\n      3 | \tepochs: 1\n        | ^',
    );
    // What is never closed is noticed where the text ends: the last line with text is quoted.
    expect(syntaxProblems('name: x\nrounds: [3\n\n')).toEqual([
      'YAML syntax at the end of the file, after line 2: Flow sequence in block collection must be sufficiently indented and end with a ]\n      2 | rounds: [3',
    ]);
    for (const problem of syntaxProblems('name: x\n  rounds: 3\nmodel: [1\n')) expect(problem).not.toMatch(/:$/m);
  });

  it('suggests the field an unknown key was meant to be, at every depth', () => {
    const { model, ...noModel } = base;
    // The one slip is one line: the field it was meant to be is not also reported missing.
    expect(problemsOf({ ...noModel, modle: model })).toEqual(['modle: unknown field, did you mean model? (got a mapping)']);
    expect(problemsOf({ ...base, model: { name: 'mlp', presett: '2nn' } })).toEqual(['model.presett: unknown field, did you mean preset? (got "2nn")']);
    expect(problemsOf({ ...base, training: { ...base.training, learningrate: 0.1, learningRate: undefined } })).toEqual([
      'training.learningrate: unknown field, did you mean learningRate? (got 0.1)',
    ]);
    expect(problemsOf({ ...base, compression: { update: [{ codec: 'topk', ratoi: 0.1 }] } })).toEqual([
      'compression.update.0.ratoi: unknown field, did you mean ratio? (got 0.1)',
    ]);
    // A word that is no slip gets the fields allowed at its place instead.
    expect(problemsOf({ ...base, evaluation: { every: 1, colour: 'red' } })).toEqual([
      'evaluation.colour: unknown field (got "red", expected one of every, targetAccuracy, targetMse, federated)',
    ]);
  });

  it('names an unreadable file', async () => {
    await expect(loadScenarioFile('scenarios/does-not-exist.yaml')).rejects.toThrow(/does-not-exist.yaml is not a valid scenario:\n {2}- cannot read the file/);
  });

  it('derives K from C as max(round(C·N), 1)', () => {
    const { clientsPerRound: _k, ...noK } = base;
    expect(clientsPerRound(validateScenario({ ...noK, clientFraction: 0.1, partition: { kind: 'iid', clients: 100 } }))).toBe(10);
    expect(clientsPerRound(validateScenario({ ...noK, clientFraction: 0.01, partition: { kind: 'iid', clients: 10 } }))).toBe(1);
  });
});

describe('scenario validation of the robust aggregators', () => {
  const ROBUST = ['median', 'trimmed-mean', 'krum', 'multi-krum', 'bulyan', 'centered-clipping', 'fltrust'];

  it('accepts each with its defaults where the clients per round allow, and lists each', () => {
    expect(AGGREGATORS.names()).toEqual(expect.arrayContaining(ROBUST));
    const roomy = { ...base, partition: { kind: 'iid', clients: 20 }, clientsPerRound: 10 };
    for (const name of ROBUST) expect(validateScenario({ ...roomy, strategy: { aggregator: { name } } }).strategy.aggregator.name).toBe(name);
  });

  it('refuses each with secure aggregation, saying why', () => {
    for (const name of ROBUST) {
      expect(problemsOf({ ...base, clientsPerRound: 10, strategy: { aggregator: { name } }, privacy: { secureAggregation: { clipNorm: 1 } } })).toContain(
        `strategy.aggregator.name: ${name} needs individual updates, but under privacy.secureAggregation the coordinator only ever sees their sum (got ${name}, expected weighted-mean or uniform-mean)`,
      );
    }
  });

  it('refuses f, m and β the round size rules out, naming the field, value and bound', () => {
    expect(problemsOf({ ...base, strategy: { aggregator: { name: 'krum', f: 2 } } })).toContain(
      'strategy.aggregator.f: krum needs more than 2f + 2 = 6 clients per round (got f 2 with clientsPerRound 5, expected f at most 1)',
    );
    expect(problemsOf({ ...base, strategy: { aggregator: { name: 'bulyan', f: 1 } } })).toContain(
      'strategy.aggregator.f: bulyan needs at least 4f + 3 = 7 clients per round (got f 1 with clientsPerRound 5, expected f at most 0)',
    );
    expect(problemsOf({ ...base, strategy: { aggregator: { name: 'multi-krum', f: 1, m: 5 } } })).toContain(
      'strategy.aggregator.m: multi-krum selects at most n − f updates (got m 5 with clientsPerRound 5 and f 1, expected m at most 4)',
    );
    expect(problemsOf({ ...base, strategy: { aggregator: { name: 'trimmed-mean', beta: 0.5 } } }).join('\n')).toMatch(/strategy\.aggregator\.beta/);
  });
});

describe('limits the runtime has are validation limits', () => {
  it('refuses a timeout longer than a Node timer holds (it would fire after 1 ms and drop every client)', () => {
    expect(problemsOf({ ...base, system: { roundTimeoutSeconds: 2_147_484 } })).toEqual([
      'system.roundTimeoutSeconds: too large (got 2147484, expected ≤ 2147483)',
    ]);
    expect(validateScenario({ ...base, system: { roundTimeoutSeconds: 2_147_483 } }).system.roundTimeoutSeconds).toBe(2_147_483);
    expect(problemsOf({ ...base, privacy: { secureAggregation: { stepTimeoutSeconds: 1e7 } } })).toEqual([
      'privacy.secureAggregation.stepTimeoutSeconds: too large (got 10000000, expected ≤ 2147483)',
    ]);
  });

  it('refuses absurd worker counts', () => {
    expect(problemsOf({ ...base, system: { workers: 100_000_000 } })).toEqual(['system.workers: too large (got 100000000, expected ≤ 1024)']);
  });

  it('refuses more clients than training samples before any data is read', () => {
    expect(problemsOf({ ...base, dataset: { name: 'mnist', trainLimit: 5 } })).toEqual([
      'partition.clients: more clients than training samples (got 10, expected at most 5, the training samples of mnist (dataset.trainLimit))',
    ]);
    expect(problemsOf({ ...base, partition: { kind: 'iid', clients: 60_001 }, clientsPerRound: 5 })).toEqual([
      'partition.clients: more clients than training samples (got 60001, expected at most 60000, the training samples of mnist)',
    ]);
    expect(problemsOf({ ...base, partition: { kind: 'iid', clients: 1e9 }, clientsPerRound: 5 })).toEqual([
      'partition.clients: too large (got 1000000000, expected ≤ 10000000: the coordinator keeps a record per client)',
    ]);
    // 506 rows, 20% (101) held out: 405 train.
    const boston = { ...base, dataset: { name: 'boston-housing' }, model: { name: 'linear-regression' } };
    expect(validateScenario({ ...boston, partition: { kind: 'iid', clients: 405 } }).partition.clients).toBe(405);
    expect(problemsOf({ ...boston, partition: { kind: 'iid', clients: 406 } })).toEqual([
      'partition.clients: more clients than training samples (got 406, expected at most 405, the training samples of boston-housing)',
    ]);
  });

  it('refuses a model whose copies exceed the memory budget, from its parameter count alone', () => {
    expect(problemsOf({ ...base, model: { name: 'mlp', hidden: [100_000_000] } })).toEqual([
      'model.hidden: too large for the memory budget (got [100000000], i.e. 7.950e+10 parameters, 4 float32 copies = 1213074 MiB, expected at most system.aggregationMemoryMB = 2048 MiB: fewer or smaller layers, or a larger budget)',
    ]);
    // 785·h + (h+1)·10 parameters: h = 10,000 is 7.95 M (121 MiB for 4 copies), inside a 128 MiB budget, not a 64 MiB one.
    const wide = { ...base, model: { name: 'mlp', hidden: [10_000] } };
    expect(validateScenario({ ...wide, system: { aggregationMemoryMB: 128 } }).model).toMatchObject({ hidden: [10_000] });
    expect(problemsOf({ ...wide, system: { aggregationMemoryMB: 64 } })[0]).toMatch(
      /^model\.hidden: too large for the memory budget \(got \[10000\], i\.e\. 7\.950e\+6 parameters/,
    );
  });

  it('holds logistic regression on synthetic data against the budget too, naming dataset.featureSize', () => {
    const synthetic = {
      ...base,
      dataset: { name: 'synthetic', featureSize: 100_000_000 },
      partition: { kind: 'natural', clients: 10 },
      model: { name: 'logistic-regression' },
    };
    // (10^8 + 1) · 10 parameters.
    expect(problemsOf(synthetic)).toEqual([
      'dataset.featureSize: too large for the memory budget (got 100000000 for model logistic-regression, i.e. 1.000e+9 parameters, 4 float32 copies = 15259 MiB, expected at most system.aggregationMemoryMB = 2048 MiB: fewer or smaller layers, or a larger budget)',
    ]);
    expect(validateScenario({ ...synthetic, dataset: { name: 'synthetic', featureSize: 60 } }).model.name).toBe('logistic-regression');
  });

  it('bounds description, which travels to every worker in the join reply', () => {
    expect(problemsOf({ ...base, description: 'x'.repeat(10_001) })).toEqual(['description: too long (got 10001 characters, expected ≤ 10000)']);
  });
});

describe('scenario files that are not YAML text', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'fedsim-validation-'));
  const fileWith = (name: string, bytes: Buffer | string) => {
    const path = join(scratch, name);
    writeFileSync(path, bytes);
    return path;
  };
  const problemsOfFile = async (path: string) => {
    const error = await loadScenarioFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as ScenarioError).problems;
  };

  it('refuses a binary file without echoing its bytes', async () => {
    const bytes = Buffer.alloc(4096, 0x41);
    bytes[100] = 0;
    const problems = await problemsOfFile(fileWith('binary.yaml', bytes));
    expect(problems).toEqual(['not a text file (a NUL byte at offset 100; expected UTF-8 YAML)']);
  });

  it('refuses non-UTF-8 text, naming the first bad byte and its offset', async () => {
    const problems = await problemsOfFile(fileWith('latin1.yaml', Buffer.from('name: x\ndescription: "caf\xe9"\n', 'latin1')));
    expect(problems).toEqual(['not UTF-8 text (byte 0xe9 at offset 25; expected UTF-8 YAML)']);
    // Valid multi-byte characters before the bad byte do not move the offset.
    const mixed = Buffer.concat([Buffer.from('name: x\ndescription: "é ü"\nother: caf'), Buffer.from([0xe9, 0x0a])]);
    expect(await problemsOfFile(fileWith('mixed.yaml', mixed))).toEqual(['not UTF-8 text (byte 0xe9 at offset 39; expected UTF-8 YAML)']);
  });

  it('refuses a YAML alias bomb as a scenario problem naming the file', async () => {
    const path = fileWith('bomb.yaml', yamlAliasBomb());
    const error = await loadScenarioFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as ScenarioError).message).toContain(`${path} is not a valid scenario`);
    expect((error as ScenarioError).problems).toEqual([
      'YAML aliases: Excessive alias count indicates a resource exhaustion attack (expected at most 100 alias expansions)',
    ]);
  });
});

describe('problems never echo a huge value', () => {
  it('cuts long strings and long lists', () => {
    const [problem] = problemsOf({ ...base, name: `bad name ${'y'.repeat(100_000)}` });
    expect(problem!.length).toBeLessThan(300);
    expect(problem).toContain('(100009 characters)');
    const [list] = problemsOf({ ...base, training: { ...base.training, batchSize: Array(1000).fill(1) } });
    expect(list!.length).toBeLessThan(300);
    expect(list).toContain('(1000 items)');
  });
});

describe('client counts without a sample count to check against', () => {
  it('caps partition.clients for data generated per client', () => {
    const synthetic = { ...base, dataset: { name: 'synthetic' }, partition: { kind: 'natural', clients: 1e9 }, model: { name: 'logistic-regression' } };
    expect(problemsOf(synthetic)).toEqual(['partition.clients: too large (got 1000000000, expected ≤ 10000000: the coordinator keeps a record per client)']);
    expect(validateScenario({ ...synthetic, partition: { kind: 'natural', clients: 1000 } }).partition.clients).toBe(1000);
  });
});
