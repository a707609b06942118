/**
 * Local training speed: samples/s of one client's training (fedsim's own loop, as workers run
 * it) per model and backend, one process (one core), each model on the data it is meant for:
 * MNIST images, Shakespeare's 80-character windows, synthetic ratings.
 *
 *   npm run bench:training [-- --seconds 8]
 */
import { selectBackend, type BackendPreference } from '../client/backend/select-backend.js';
import { trainLocal } from '../client/training/local-training.js';
import { subset } from '../shared/data/dataset.js';
import type { Dataset } from '../shared/data/dataset.js';
import { loadDataset } from '../shared/data/load-dataset.js';
import { DATASETS, type DatasetSpec } from '../shared/data/registry.js';
import { shapeOfDataset } from '../shared/data/dataset.js';
import { buildModel } from '../shared/models/build-model.js';
import { initialWeights, setFlatWeights } from '../shared/models/parameters.js';
import type { ModelSpec } from '../shared/scenario/schema.js';
import { report } from './report.js';

const secondsPerCase = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 6;
// Each dataset's own defaults, through its schema.
const datasetSpec = (options: { name: string } & Record<string, unknown>) => DATASETS.get(options.name).schema.parse(options) as DatasetSpec;
const MNIST = datasetSpec({ name: 'mnist', trainLimit: 6000, testLimit: 10 });
const SHAKESPEARE = datasetSpec({ name: 'shakespeare' });
const RATINGS = datasetSpec({ name: 'synthetic-ratings' });
const models: [string, ModelSpec, DatasetSpec][] = [
  ['2nn', { name: 'mlp', preset: '2nn' }, MNIST],
  ['cnn-small', { name: 'cnn-small' }, MNIST],
  ['cnn', { name: 'cnn' }, MNIST],
  ['lstm small', { name: 'lstm', preset: 'small' }, SHAKESPEARE],
  ['gru small', { name: 'gru', preset: 'small' }, SHAKESPEARE],
  ['transformer small', { name: 'transformer', preset: 'small', head: 'next-token' }, SHAKESPEARE],
  ['matrix-factorization', { name: 'matrix-factorization', dimension: 16 }, RATINGS],
];
const backends: BackendPreference[] = ['cpu', 'wasm', 'tensorflow'];
const batchSizes = [10, 50];

const loaded = new Map<string, Dataset>();
async function dataFor(spec: DatasetSpec): Promise<Dataset> {
  if (!loaded.has(spec.name)) loaded.set(spec.name, await loadDataset(spec, { clients: 100 }, 1));
  return loaded.get(spec.name)!;
}
const rows: Record<string, string | number | null>[] = [];

for (const backendName of backends) {
  let detail: string;
  try {
    detail = (await selectBackend(backendName)).detail;
  } catch (error) {
    rows.push({ backend: backendName, model: 'all', batch: null, 'samples/s': null, note: `unavailable: ${(error as Error).message.split('\n')[0]}` });
    continue;
  }
  for (const [label, spec, dataSpec] of models) {
    const data = await dataFor(dataSpec);
    const shape = shapeOfDataset(data);
    const model = buildModel(spec, shape);
    for (const batchSize of batchSizes) {
      setFlatWeights(model, initialWeights(model, 1));
      // A short pass warms the kernels up and sizes the timed pass to about secondsPerCase.
      // Where one batch alone would take far longer (the CNN on the pure-JS backend), the
      // short pass is the measurement and the row says so.
      const probeSize = Math.min(batchSize, 10);
      const probe = await trainLocal(model, subset(data.train, data.featureSize, range(probeSize)), shape, config(batchSize));
      const perSample = probe.trainMs / probe.samples;
      const n = Math.min(data.train.count, Math.round((secondsPerCase * 1000) / perSample / batchSize) * batchSize);
      const timed = n >= batchSize ? await trainLocal(model, subset(data.train, data.featureSize, range(n)), shape, config(batchSize)) : probe;
      const note = timed === probe ? `one batch of ${probeSize} only: a full pass would take ${((batchSize * perSample) / 1000).toFixed(0)} s per batch` : '';
      rows.push({
        backend: backendName,
        detail,
        model: label,
        data: dataSpec.name,
        params: model.countParams(),
        batch: batchSize,
        samples: timed.samples,
        'samples/s': (timed.samples / timed.trainMs) * 1000,
        note,
      });
      process.stderr.write(`${backendName} ${label} B=${batchSize}: ${((timed.samples / timed.trainMs) * 1000).toFixed(1)} samples/s\n`);
    }
    model.dispose();
  }
}
report('training-throughput', rows, {
  secondsPerCase,
  data: 'the first training samples of each model’s dataset',
  loop: 'client/training/local-training.ts, SGD lr 0.01, 1 epoch',
});

function config(batchSize: number) {
  return { epochs: 1, batchSize, optimizer: 'sgd' as const, learningRate: 0.01, seed: 1 };
}
function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
