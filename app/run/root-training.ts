/**
 * FLTrust's server update: the coordinator's own local training, on its root dataset (a seeded
 * sample of the training set, drawn once), from the round's global model, with the scenario's
 * local-training settings, as Cao et al. 2021 do. It lives in the application because the
 * coordinator never imports the client's trainer; the coordinator only gets this function.
 */
import { trainLocal } from '../../client/training/local-training.js';
import { subset, type DataSplit } from '../../shared/data/dataset.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import type { FederatedData } from '../../shared/data/federated-data.js';
import { buildModel } from '../../shared/models/build-model.js';
import { getFlatWeights, setFlatWeights } from '../../shared/models/parameters.js';
import { Rng } from '../../shared/random.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import type { LayersModel } from '../../shared/tf.js';
import { subtract } from '../../shared/vector/vector-math.js';

export type RootTraining = (round: number, global: Float32Array, rootSamples: number) => Promise<Float32Array>;

/** The root dataset: `size` training examples drawn without replacement from the scenario's seed. */
export function rootSample(data: FederatedData, size: number, seed: number): DataSplit {
  const { train, featureSize } = data.dataset;
  if (size > train.count) {
    throw new Error(`strategy.aggregator.rootSamples: more than the training set holds (got ${size}, expected at most ${train.count})`);
  }
  const indices = new Rng(seed).fork('fltrust-root').sampleWithoutReplacement(train.count, size);
  return subset(train, featureSize, indices);
}

export function rootTraining(scenario: Scenario, data: FederatedData, shape: DataShape): RootTraining {
  let model: LayersModel | null = null;
  const roots = new Map<number, DataSplit>();
  return async (round, global, rootSamples) => {
    model ??= buildModel(scenario.model, shape);
    let root = roots.get(rootSamples);
    if (!root) roots.set(rootSamples, (root = rootSample(data, rootSamples, scenario.seed)));
    const { training } = scenario;
    setFlatWeights(model, global);
    await trainLocal(model, root, shape, {
      epochs: training.epochs,
      batchSize: training.batchSize,
      optimizer: training.optimizer,
      learningRate: training.learningRate,
      momentum: training.momentum,
      seed: new Rng(scenario.seed).fork(`fltrust-root:${round}`).nextUint32(),
    });
    return subtract(getFlatWeights(model), global);
  };
}
