/**
 * The worker-thread side of bench/training-event-loop.ts: a thread that keeps its own tfjs, model
 * and backend, and trains one client per message on the samples and weights sent to it, as a
 * worker would if training ran off its main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend, type BackendPreference } from '../client/backend/select-backend.js';
import { trainLocal, type LocalTrainingConfig } from '../client/training/local-training.js';
import type { DataSplit } from '../shared/data/dataset.js';
import type { DataShape } from '../shared/data/data-shape.js';
import { buildModel } from '../shared/models/build-model.js';
import { getFlatWeights, setFlatWeights } from '../shared/models/parameters.js';
import type { ModelSpec } from '../shared/scenario/schema.js';

export interface ThreadSetup {
  backend: BackendPreference;
  spec: ModelSpec;
  shape: DataShape;
}
export interface ThreadTask {
  data: DataSplit;
  weights: Float32Array;
  config: LocalTrainingConfig;
}

const setup = workerData as ThreadSetup;
await selectBackend(setup.backend);
const model = buildModel(setup.spec, setup.shape);
parentPort!.on('message', (task: ThreadTask) => {
  setFlatWeights(model, task.weights);
  void trainLocal(model, task.data, setup.shape, { ...task.config, turnMs: Infinity }).then((result) => {
    const weights = getFlatWeights(model);
    parentPort!.postMessage({ result, weights }, [weights.buffer as ArrayBuffer]);
  });
});
parentPort!.postMessage('ready');
