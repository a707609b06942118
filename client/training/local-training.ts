/**
 * One client's local training, as FedAvg's ClientUpdate: E epochs of minibatch steps of size B
 * over the client's own samples, in a seeded order, with a fresh optimizer each round. A
 * hand-written loop rather than model.fit: fit shuffles with an unseeded source. It yields to the
 * event loop between steps (measured in bench/training-event-loop.ts) rather than training in a
 * worker thread, which would copy the dataset and model into every thread.
 */
import type { DataSplit } from '../../shared/data/dataset.js';
import { checkedFeatureSize, makeBatch } from '../../shared/models/batches.js';
import { evaluateModel } from '../../shared/models/evaluate-model.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import { Rng } from '../../shared/random.js';
import * as tf from '../../shared/tf.js';
import { eventLoopTurns } from '../../shared/scheduling/event-loop-turns.js';
import { localObjective, type RoundContext } from './local-objective.js';

export interface LocalTrainingConfig {
  epochs: number;
  batchSize: number | 'all';
  optimizer: 'sgd' | 'momentum' | 'adam';
  learningRate: number;
  momentum?: number;
  seed: number;
  /** Partial work (FedProx-style stragglers): stop after this many local steps. */
  maxSteps?: number;
  /** The global model, the strategy's config record and its round vectors (e.g. FedProx's μ). */
  round?: RoundContext;
  /** Longest run of steps between yields to the event loop (default 20 ms; Infinity never yields). */
  turnMs?: number;
}

export interface LocalTrainingResult {
  samples: number;
  steps: number;
  /** Sample-weighted mean loss over the last epoch's batches. */
  meanLoss: number;
  firstEpochLoss: number;
  /** The data loss of the round's global model on all the client's samples, before any step (when config.reportStartLoss). */
  startLoss?: number;
  trainMs: number;
}

export async function trainLocal(model: tf.LayersModel, data: DataSplit, shape: DataShape, config: LocalTrainingConfig): Promise<LocalTrainingResult> {
  checkConfig(config);
  if (data.count === 0) throw new RangeError('trainLocal: the client has no samples');
  const featureSize = checkedFeatureSize(data, shape, 'trainLocal');
  const started = performance.now();
  const batchSize = config.batchSize === 'all' ? data.count : Math.min(config.batchSize, data.count);
  // Only this model's weights: left unnamed, tfjs differentiates against every variable in the
  // process, which includes other models (the in-process coordinator's evaluator, for one).
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = makeOptimizer(config);
  const objective = localObjective(model, config.round);
  const order = Array.from({ length: data.count }, (_, i) => i);
  // A client can train for minutes: the worker's ack-wait extensions and NATS pings must still run.
  const yieldTurn = eventLoopTurns(config.turnMs);
  // q-FedAvg weighs a client by its loss under the global model, F_k(w_t): one pass before training.
  const startLoss = config.round?.config.reportStartLoss === true ? (await evaluateModel(model, data, shape)).loss : undefined;
  let steps = 0;
  let firstEpochLoss = NaN;
  let lastEpochLoss = NaN;
  // Batch losses stay on the backend and are read once per epoch: no sync per step.
  let weightedLosses: tf.Scalar[] = [];
  try {
    const maxSteps = config.maxSteps ?? Infinity;
    for (let epoch = 0; epoch < config.epochs && steps < maxSteps; epoch++) {
      new Rng(config.seed).fork(`epoch:${epoch}`).shuffle(order);
      let seen = 0;
      for (let start = 0; start < data.count && steps < maxSteps; start += batchSize) {
        const rows = order.slice(start, start + batchSize);
        const { x, y } = makeBatch(data, rows, featureSize, shape);
        // The reported loss is the data loss alone; the objective's terms only steer the steps.
        let dataLoss: tf.Scalar | null = null;
        const loss = optimizer.minimize(
          () => {
            dataLoss = tf.keep(lossOf(model, x, y, shape));
            return objective ? tf.add(dataLoss, objective.penalty()) : dataLoss;
          },
          true,
          variables,
        )!;
        weightedLosses.push(tf.tidy(() => dataLoss!.mul(rows.length)));
        tf.dispose(dataLoss === loss ? [x, y, loss] : [x, y, loss, dataLoss!]);
        steps += 1;
        seen += rows.length;
        await yieldTurn();
      }
      const total = tf.tidy(() => tf.addN(weightedLosses));
      const epochLoss = (await total.data())[0]! / seen;
      tf.dispose([total, ...weightedLosses]);
      weightedLosses = [];
      if (epoch === 0) firstEpochLoss = epochLoss;
      lastEpochLoss = epochLoss;
    }
  } finally {
    tf.dispose(weightedLosses);
    objective?.dispose();
    disposeOptimizer(optimizer);
  }
  return {
    samples: data.count,
    steps,
    meanLoss: lastEpochLoss,
    firstEpochLoss,
    ...(startLoss !== undefined ? { startLoss } : {}),
    trainMs: performance.now() - started,
  };
}

/** A batch size of 0 would loop forever and a negative rate would climb the loss: refuse them. */
function checkConfig(config: LocalTrainingConfig): void {
  const problems: string[] = [];
  if (!(Number.isInteger(config.epochs) && config.epochs >= 1)) problems.push(`epochs must be an integer ≥ 1 (got ${config.epochs})`);
  if (config.batchSize !== 'all' && !(Number.isInteger(config.batchSize) && config.batchSize >= 1)) {
    problems.push(`batchSize must be an integer ≥ 1 or "all" (got ${config.batchSize})`);
  }
  if (!(Number.isFinite(config.learningRate) && config.learningRate > 0)) problems.push(`learningRate must be > 0 (got ${config.learningRate})`);
  if (config.momentum !== undefined && !(config.momentum >= 0 && config.momentum < 1)) problems.push(`momentum must be in [0, 1) (got ${config.momentum})`);
  if (config.maxSteps !== undefined && !(Number.isInteger(config.maxSteps) && config.maxSteps >= 1))
    problems.push(`maxSteps must be an integer ≥ 1 (got ${config.maxSteps})`);
  if (problems.length > 0) throw new RangeError(`trainLocal: ${problems.join('; ')}`);
}

function makeOptimizer(config: LocalTrainingConfig): tf.Optimizer {
  switch (config.optimizer) {
    case 'sgd':
      return tf.train.sgd(config.learningRate);
    case 'momentum':
      return tf.train.momentum(config.learningRate, config.momentum ?? 0.9);
    case 'adam':
      return tf.train.adam(config.learningRate);
  }
}

/**
 * tfjs 4.22's MomentumOptimizer.dispose() skips SGD's: the learning-rate scalar `c` it inherits
 * stays allocated, one tensor leaked per client trained unless disposed here.
 */
function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  if (optimizer instanceof tf.MomentumOptimizer) {
    const { c, m } = optimizer as unknown as { c?: tf.Tensor; m?: tf.Tensor };
    for (const scalar of [c, m]) if (scalar && !scalar.isDisposed) scalar.dispose();
  }
}

function lossOf(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, shape: DataShape): tf.Scalar {
  const predictions = model.apply(x, { training: true }) as tf.Tensor;
  if (shape.task === 'regression') return tf.losses.meanSquaredError<tf.Tensor, tf.Scalar>(y, predictions.reshape(y.shape));
  // Categorical cross-entropy on the softmax output, clipped like Keras to avoid log(0).
  return tf.mean<tf.Scalar>(tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(predictions, 1e-7, 1 - 1e-7))), -1)));
}
