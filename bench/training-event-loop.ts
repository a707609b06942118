/**
 * What local training costs the event loop that keeps a worker reachable (ack-wait extensions,
 * NATS pings, control messages), three ways: blocking (the loop never yields), yielding between
 * steps every 20 ms (what trainLocal does), and training in a warm worker thread that gets the
 * client's samples and weights by message. Per case: samples/s, the longest event-loop stall, and
 * how many of a 100 ms timer's ticks fired.
 *
 *   npm run bench:event-loop [-- --seconds 4]
 */
import { Worker } from 'node:worker_threads';
import { selectBackend, type BackendPreference } from '../client/backend/select-backend.js';
import { trainLocal, type LocalTrainingConfig } from '../client/training/local-training.js';
import { subset, type DataSplit } from '../shared/data/dataset.js';
import { loadDataset } from '../shared/data/load-dataset.js';
import type { DataShape } from '../shared/data/data-shape.js';
import { buildModel } from '../shared/models/build-model.js';
import { initialWeights, setFlatWeights } from '../shared/models/parameters.js';
import type { ModelSpec } from '../shared/scenario/schema.js';
import { report } from './report.js';
import type { ThreadSetup, ThreadTask } from './training-thread.js';

const secondsPerCase = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 4;
const cases: [BackendPreference, string, ModelSpec][] = [
  ['cpu', '2nn', { name: 'mlp', preset: '2nn' }],
  ['wasm', '2nn', { name: 'mlp', preset: '2nn' }],
  ['wasm', 'cnn-small', { name: 'cnn-small' }],
  ['wasm', 'cnn', { name: 'cnn' }],
];
const TICK_MS = 100;

const mnist = await loadDataset({ name: 'mnist', trainLimit: 6000, testLimit: 10 }, { clients: 1 }, 1);
const shape: DataShape = { task: mnist.task, featureShape: mnist.featureShape, numClasses: mnist.numClasses };
const config: LocalTrainingConfig = { epochs: 1, batchSize: 10, optimizer: 'sgd', learningRate: 0.01, seed: 1 };
const rows: Record<string, string | number | null>[] = [];

for (const [backend, label, spec] of cases) {
  await selectBackend(backend);
  const model = buildModel(spec, shape);
  const weights = initialWeights(model, 1);
  setFlatWeights(model, weights);
  const probe = await trainLocal(model, part(20), shape, config);
  const samples = Math.min(mnist.train.count, Math.max(20, Math.round((secondsPerCase * 1000 * probe.samples) / probe.trainMs / 10) * 10));
  const data = part(samples);
  // Interleaved and best of two: the first full pass still warms the JIT and the kernels.
  const best = new Map<number, Measured>();
  for (const turnMs of [Infinity, 20, Infinity, 20]) {
    setFlatWeights(model, weights);
    const measured = await watchingTheLoop(() => trainLocal(model, data, shape, { ...config, turnMs }));
    const previous = best.get(turnMs);
    if (!previous || measured.ms < previous.ms) best.set(turnMs, measured);
  }
  for (const [turnMs, measured] of best) rows.push(row(backend, label, turnMs === Infinity ? 'blocking' : `yield every ${turnMs} ms`, samples, measured));
  model.dispose();
  const thread = await startThread({ backend, spec, shape });
  await thread.train({ data: part(20), weights, config }); // warm-up, as for the main thread
  await thread.train({ data, weights, config });
  const measured = await watchingTheLoop(() => thread.train({ data, weights, config }));
  rows.push({ ...row(backend, label, 'worker thread (warm)', samples, measured), 'thread start ms': thread.startMs });
  await thread.worker.terminate();
}
report('training-event-loop', rows, { secondsPerCase, tickMs: TICK_MS, data: 'MNIST train images', training: config });

interface Measured {
  ms: number;
  maxStallMs: number;
  ticks: number;
}

/**
 * Runs `work` while a 100 ms timer ticks and a 5 ms one records the longest gap between its turns
 * (perf_hooks' loop-delay histogram records nothing while the loop never turns).
 */
async function watchingTheLoop(work: () => Promise<unknown>): Promise<Measured> {
  let ticks = 0;
  let last = performance.now();
  let maxStallMs = 0;
  const tick = setInterval(() => (ticks += 1), TICK_MS);
  const probe = setInterval(() => {
    const now = performance.now();
    maxStallMs = Math.max(maxStallMs, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  maxStallMs = Math.max(maxStallMs, performance.now() - last);
  clearInterval(tick);
  clearInterval(probe);
  return { ms, maxStallMs, ticks };
}

function row(backend: string, model: string, mode: string, samples: number, m: Measured): Record<string, string | number | null> {
  const expected = Math.floor(m.ms / TICK_MS);
  return {
    backend,
    model,
    mode,
    samples,
    'samples/s': (samples / m.ms) * 1000,
    'max stall ms': m.maxStallMs,
    'timer ticks': `${m.ticks}/${expected}`,
  };
}

async function startThread(setup: ThreadSetup): Promise<{ worker: Worker; startMs: number; train: (task: ThreadTask) => Promise<unknown> }> {
  const started = performance.now();
  // Node 20 does not pass --import's loader hooks to threads: the thread registers tsx itself.
  const entry = JSON.stringify(new URL('./training-thread.ts', import.meta.url).href);
  const source = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); });`;
  const worker = new Worker(source, { eval: true, workerData: setup });
  await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  const startMs = performance.now() - started;
  const train = (task: ThreadTask) =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve).once('error', reject);
      worker.postMessage(task);
    });
  return { worker, startMs, train };
}

function part(n: number): DataSplit {
  return subset(
    mnist.train,
    mnist.featureSize,
    Array.from({ length: n }, (_, i) => i),
  );
}
