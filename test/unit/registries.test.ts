/**
 * The model, dataset and partitioner registries: what the scenario schema, the engine and the
 * `fedsim models|datasets|partitioners` listings read, so that adding an entry is one file plus
 * one registry line.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { listCatalog, type CatalogRow } from '../../cli/catalog-command.js';
import { selectBackend } from '../../client/backend/select-backend.js';
import { loadDataset } from '../../shared/data/load-dataset.js';
import { shapeOfDataset } from '../../shared/data/dataset.js';
import { DATASETS, dataShapeOf } from '../../shared/data/registry.js';
import { buildOnSuitedData } from '../../shared/models/build-model.js';
import type { ModelEntry } from '../../shared/models/model-entry.js';
import { MODELS } from '../../shared/models/registry.js';
import { PARTITIONERS } from '../../shared/partition/registry.js';
import { Registry } from '../../shared/registry/registry.js';
import { fragmentsOf } from '../../shared/registry/schema-fragments.js';
import { DATASET_SPEC, MODEL_SPEC, PARTITION_SPEC } from '../../shared/scenario/schema.js';
import * as tf from '../../shared/tf.js';

const fedsimBin = fileURLToPath(new URL('../../bin/fedsim.js', import.meta.url));

/** The FedAvg paper's counts (cnn, 2NN), and the small models' by hand (models.test.ts). */
const PARAMETERS = {
  'linear-regression': { dataset: 'boston-housing', count: 14 },
  'logistic-regression': { dataset: 'mnist', count: 7_850 },
  mlp: { dataset: 'mnist', count: 199_210 },
  cnn: { dataset: 'mnist', count: 1_663_370 },
  'cnn-small': { dataset: 'mnist', count: 693_962 },
  lstm: { dataset: 'shakespeare', count: 817_872 },
  gru: { dataset: 'shakespeare', count: 618_704 },
  // transformer.test.ts: embeddings (80 + 80) × 128 + 4 blocks × 198,272 + final norm 256 + softmax 128 × 80 + 80
  transformer: { dataset: 'shakespeare', count: 824_144 },
  // (100 users + 200 items) × (16 + 1) + the offset μ
  'matrix-factorization': { dataset: 'synthetic-ratings', count: 5_101 },
};

function fedsimJson(command: string): Promise<CatalogRow[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [fedsimBin, command, '--json'], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`fedsim ${command} --json failed: ${stderr}`));
      else resolve(JSON.parse(stdout) as CatalogRow[]);
    });
  });
}

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('registries', () => {
  it('hold exactly the names the scenario schema accepts, in its order', () => {
    expect(DATASETS.names()).toEqual(DATASET_SPEC.options.map((o) => o.shape.name.value));
    expect(PARTITIONERS.names()).toEqual(PARTITION_SPEC.options.map((o) => o.shape.kind.value));
    expect(MODELS.names()).toEqual(MODEL_SPEC.options.map((o) => o.shape.name.value));
  });

  it('build every model with its default options on the dataset it suits', () => {
    const counts = Object.fromEntries(
      MODELS.names().map((name) => {
        const { dataset, model } = buildOnSuitedData(name);
        return [name, { dataset, count: model.countParams() }];
      }),
    );
    expect(counts).toEqual(PARAMETERS);
  });

  it('name, without building, the layers with weights that each model and preset builds', () => {
    for (const name of MODELS.names()) {
      const entry = MODELS.get(name);
      for (const preset of [undefined, ...(entry.presets ?? [])]) {
        const { model } = buildOnSuitedData(name, preset);
        const built = model.layers.filter((layer) => layer.weights.length > 0).map((layer) => layer.name);
        const spec = entry.schema.parse(preset ? { name, preset } : { name }) as { name: string };
        expect({ name, preset, layers: entry.layers(spec) }).toEqual({ name, preset, layers: built });
        model.dispose();
      }
    }
  });

  it('know each dataset’s shape without loading it, and loading agrees', async () => {
    const limited: Record<string, object> = {
      mnist: { trainLimit: 100, testLimit: 10 },
      synthetic: { meanSamples: 20 },
      imdb: { trainLimit: 100, testLimit: 10 },
    };
    for (const name of DATASETS.names()) {
      const spec = DATASET_SPEC.parse({ name, ...limited[name] });
      const data = await loadDataset(spec, { clients: 3 }, 1);
      expect(shapeOfDataset(data), name).toEqual(dataShapeOf(spec, { clients: 3 }));
    }
  });

  it('refuse a name registered twice and name what exists for an unknown one', () => {
    expect(() => new Registry('model.name', [...MODELS.entries(), MODELS.get('cnn')])).toThrow('model.name: "cnn" is registered twice');
    expect(() => MODELS.get('resnet')).toThrow(
      'model.name: unknown (got "resnet", expected one of linear-regression, logistic-regression, mlp, cnn, cnn-small, lstm, gru, transformer, matrix-factorization)',
    );
  });

  it('take a new entry without touching any other file: schema union and listing follow from the entry', async () => {
    const SPEC = z.strictObject({ name: z.literal('wide-logistic'), scale: z.number().gt(0).default(2) });
    const wideLogistic = {
      name: 'wide-logistic',
      description: 'a test-only model',
      schema: SPEC,
      suits: 'mnist',
      build: (tf, spec, shape) =>
        tf.sequential({
          name: spec.name,
          layers: [tf.layers.dense({ inputShape: [shape.featureShape[0]!], units: shape.numClasses * spec.scale, name: 'w' })],
        }),
      problems: () => [],
      layers: () => ['w'],
      describe: (spec) => `wide logistic ×${spec.scale}`,
    } satisfies ModelEntry<z.output<typeof SPEC>>;
    const [first, ...rest] = MODELS.entries();
    const entries: [ModelEntry, ...ModelEntry[]] = [first!, ...rest, wideLogistic];
    const registry = new Registry<ModelEntry>('model.name', entries);

    const union = z.discriminatedUnion('name', fragmentsOf(entries));
    expect(union.parse({ name: 'wide-logistic' })).toEqual({ name: 'wide-logistic', scale: 2 });
    expect(union.safeParse({ name: 'wide-logistic', scale: 0 }).success).toBe(false);
    const spec = wideLogistic.schema.parse({ name: 'wide-logistic', scale: 3 });
    expect(
      registry
        .get(spec.name)
        .build(tf, spec, { task: 'classification', featureShape: [4], numClasses: 2 })
        .countParams(),
    ).toBe(4 * 6 + 6);
    const rows = await listCatalog({ command: 'models', summary: '', registry });
    expect(rows.at(-1)).toEqual({
      name: 'wide-logistic',
      description: 'a test-only model',
      options: [{ name: 'scale', type: 'number', required: false, default: 2 }],
    });
  });
});

describe('fedsim models | datasets | partitioners --json', () => {
  it('lists every model with its options and parameter count', async () => {
    const rows = await fedsimJson('models');
    expect(Object.fromEntries(rows.map((r) => [r.name, r.parameters]))).toEqual(PARAMETERS);
    expect(rows.find((r) => r.name === 'mlp')!.options).toEqual([
      { name: 'preset', type: '2nn | mnist-128 | binary-10', required: false },
      { name: 'hidden', type: 'list of integer', required: false },
      { name: 'activation', type: 'relu | tanh | sigmoid', required: false },
      { name: 'output', type: 'softmax | sigmoid', required: false },
    ]);
    expect(rows.map((r) => r.description)).toEqual(MODELS.entries().map((e) => e.description));
    // The documents' presets, counted by hand in models.test.ts.
    expect(Object.fromEntries(rows.filter((r) => r.presetParameters).map((r) => [r.name, r.presetParameters]))).toEqual({
      mlp: [
        { preset: '2nn', count: 199_210 },
        { preset: 'mnist-128', count: 101_770 },
        { preset: 'binary-10', count: 51, dataset: 'synthetic (featureSize 3, numClasses 2)' },
      ],
      cnn: [{ preset: 'keras', count: 93_322 }],
      lstm: [
        { preset: 'shakespeare', count: 817_872 },
        { preset: 'small', count: 24_528 },
      ],
      gru: [
        { preset: 'shakespeare', count: 618_704 },
        { preset: 'small', count: 19_856 },
      ],
      transformer: [
        { preset: 'base', count: 824_144 },
        { preset: 'small', count: 82_512 },
      ],
    });
  });

  it('lists the strategies and aggregators with their options', async () => {
    const [strategies, aggregators] = await Promise.all([fedsimJson('strategies'), fedsimJson('aggregators')]);
    expect(strategies.map((r) => r.name)).toEqual(['fedavg', 'fedprox', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad', 'fednova', 'qfedavg', 'scaffold']);
    expect(strategies.find((r) => r.name === 'fedprox')!.options.find((o) => o.name === 'mu')).toEqual({ name: 'mu', type: 'number', required: true });
    expect(strategies.find((r) => r.name === 'fedavg')!.options.find((o) => o.name === 'aggregator')).toMatchObject({ default: { name: 'weighted-mean' } });
    expect(aggregators.map((r) => r.name)).toEqual([
      'weighted-mean',
      'uniform-mean',
      'median',
      'trimmed-mean',
      'krum',
      'multi-krum',
      'bulyan',
      'centered-clipping',
      'fltrust',
    ]);
    expect(aggregators.find((r) => r.name === 'multi-krum')!.options.map((o) => o.name)).toEqual(['f', 'm']);
  });

  it('lists the datasets and partitioners with their defaults', async () => {
    const [datasets, partitioners] = await Promise.all([fedsimJson('datasets'), fedsimJson('partitioners')]);
    expect(datasets.map((r) => r.name)).toEqual(['mnist', 'boston-housing', 'synthetic', 'shakespeare', 'synthetic-ratings', 'imdb']);
    expect(
      datasets
        .find((r) => r.name === 'synthetic')!
        .options.filter((o) => 'default' in o)
        .map((o) => [o.name, o.default]),
    ).toEqual([
      ['alpha', 1],
      ['beta', 1],
      ['featureSize', 60],
      ['numClasses', 10],
      ['testFraction', 0.2],
    ]);
    expect(partitioners.map((r) => r.name)).toEqual(['iid', 'dirichlet', 'shards', 'quantity-skew', 'natural']);
    expect(partitioners.find((r) => r.name === 'shards')!.options).toEqual([
      { name: 'clients', type: 'integer', required: true },
      { name: 'shardsPerClient', type: 'integer', required: false, default: 2 },
    ]);
  });
});
