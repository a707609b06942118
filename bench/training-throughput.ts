/**
 * Local training speed: samples/s of one client's training (fedsim's own loop, as workers run
 * it) per model and backend, on real MNIST images, one process (one core).
 *
 *   npm run bench:training [-- --seconds 8]
 */
import { selectBackend, type BackendPreference } from '../client/backend/select-backend.js';
import { trainLocal } from '../client/training/local-training.js';
import { subset } from '../shared/data/dataset.js';
import { loadDataset } from '../shared/data/load-dataset.js';
import type { DataShape } from '../shared/data/data-shape.js';
import { buildModel } from '../shared/models/build-model.js';
import { initialWeights, setFlatWeights } from '../shared/models/parameters.js';
import type { ModelSpec } from '../shared/scenario/schema.js';
import { report } from './report.js';

const secondsPerCase = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 6;
const models: [string, ModelSpec][] = [
  ['2nn', { name: 'mlp', preset: '2nn' }],
  ['cnn-small', { name: 'cnn-small' }],
  ['cnn', { name: 'cnn' }],
];
const backends: BackendPreference[] = ['cpu', 'wasm', 'tensorflow'];
const batchSizes = [10, 50];

const mnist = await loadDataset({ name: 'mnist', trainLimit: 6000, testLimit: 10 }, { clients: 1 }, 1);
const shape: DataShape = { task: mnist.task, featureShape: mnist.featureShape, numClasses: mnist.numClasses };
const rows: Record<string, string | number | null>[] = [];

for (const backendName of backends) {
  let detail: string;
  try {
    detail = (await selectBackend(backendName)).detail;
  } catch (error) {
    rows.push({ backend: backendName, model: 'all', batch: null, 'samples/s': null, note: `unavailable: ${(error as Error).message.split('\n')[0]}` });
    continue;
  }
  for (const [label, spec] of models) {
    const model = buildModel(spec, shape);
    for (const batchSize of batchSizes) {
      setFlatWeights(model, initialWeights(model, 1));
      // A short pass warms the kernels up and sizes the timed pass to about secondsPerCase.
      // Where one batch alone would take far longer (the CNN on the pure-JS backend), the
      // short pass is the measurement and the row says so.
      const probeSize = Math.min(batchSize, 10);
      const probe = await trainLocal(model, subset(mnist.train, mnist.featureSize, range(probeSize)), shape, config(batchSize));
      const perSample = probe.trainMs / probe.samples;
      const n = Math.min(mnist.train.count, Math.round((secondsPerCase * 1000) / perSample / batchSize) * batchSize);
      const timed = n >= batchSize ? await trainLocal(model, subset(mnist.train, mnist.featureSize, range(n)), shape, config(batchSize)) : probe;
      const note = timed === probe ? `one batch of ${probeSize} only: a full pass would take ${((batchSize * perSample) / 1000).toFixed(0)} s per batch` : '';
      rows.push({
        backend: backendName,
        detail,
        model: label,
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
report('training-throughput', rows, { secondsPerCase, data: 'MNIST train images', loop: 'client/training/local-training.ts, SGD lr 0.01, 1 epoch' });

function config(batchSize: number) {
  return { epochs: 1, batchSize, optimizer: 'sgd' as const, learningRate: 0.01, seed: 1 };
}
function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
