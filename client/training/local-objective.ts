/**
 * What a strategy's config record adds to a client's local loss: the client-side half of
 * strategies whose local training differs from plain SGD on the data loss. New terms are keyed
 * by config entries, so a strategy needs no protocol change and no change to the training loop.
 *
 *   proximalMu (FedProx, Li et al. 2020): μ/2 · ‖w − w_t‖², w_t the model the client started from.
 *   controlVariates (SCAFFOLD, Karimireddy et al. 2020): ⟨w, c − cᵢ⟩, whose gradient c − cᵢ is
 *   the drift correction of every local step (y ← y − η(gᵢ(y) − cᵢ + c)); c is the round vector
 *   serverControl, cᵢ the client's own (client/training/control-variates.ts).
 */
import type { ConfigRecord } from '../../shared/protocol/config-record.js';
import { layoutOf, type ParameterEntry } from '../../shared/models/parameters.js';
import * as tf from '../../shared/tf.js';
import { CLIENT_CONTROL_VECTOR, SERVER_CONTROL_VECTOR, usesControlVariates } from './control-variates.js';

/** The round as local training sees it: the model it started from, the strategy's config, its named vectors. */
export interface RoundContext {
  global: Float32Array;
  config: ConfigRecord;
  vectors: Readonly<Record<string, Float32Array>>;
}

export interface LocalObjective {
  /** Extra loss on the current weights; tensors it returns are disposed by the caller. */
  penalty(): tf.Scalar;
  dispose(): void;
}

/** Each trainable variable with its slice of the model's flat layout. */
interface TrainableSlice {
  variable: tf.Variable;
  entry: ParameterEntry;
}

/** The objective terms the config asks for, or null for plain training. */
export function localObjective(model: tf.LayersModel, context: RoundContext | undefined): LocalObjective | null {
  if (!context) return null;
  const terms: LocalObjective[] = [];
  const mu = context.config.proximalMu;
  if (mu !== undefined) {
    if (typeof mu !== 'number' || !(mu >= 0)) throw new RangeError(`config.proximalMu must be a number ≥ 0 (got ${JSON.stringify(mu)})`);
    if (mu > 0) terms.push(proximalTerm(trainableSlices(model, context.global.length), context.global, mu));
  }
  if (usesControlVariates(context.config)) terms.push(controlCorrection(trainableSlices(model, context.global.length), context.vectors));
  if (terms.length === 0) return null;
  return {
    penalty: () => tf.tidy(() => tf.addN<tf.Scalar>(terms.map((t) => t.penalty()))),
    dispose: () => terms.forEach((t) => t.dispose()),
  };
}

function trainableSlices(model: tf.LayersModel, vectorLength: number): TrainableSlice[] {
  const layout = layoutOf(model);
  if (vectorLength !== layout.totalSize)
    throw new RangeError(`local objective: the round's vectors have ${vectorLength} values, the model ${layout.totalSize}`);
  // model.weights and the layout share one order: pair each trainable variable with its slice.
  const trainable = new Set(model.trainableWeights.map((w) => w.name));
  return model.weights
    .map((w, i) => ({ w, entry: layout.entries[i]! }))
    .filter(({ w }) => trainable.has(w.name))
    .map(({ w, entry }) => ({ variable: w.read() as tf.Variable, entry }));
}

function sliceTensor(vector: Float32Array | Float64Array, entry: ParameterEntry): tf.Tensor {
  return tf.tensor(Float32Array.from(vector.subarray(entry.offset, entry.offset + entry.size)), entry.shape, 'float32');
}

function proximalTerm(slices: TrainableSlice[], start: Float32Array, mu: number): LocalObjective {
  const pairs = slices.map(({ variable, entry }) => ({ variable, anchor: sliceTensor(start, entry) }));
  return {
    penalty: () =>
      tf.tidy(() => {
        const squares = pairs.map(({ variable, anchor }) => tf.sum(tf.square(tf.sub(variable, anchor))));
        return tf.mul<tf.Scalar>(mu / 2, tf.addN(squares));
      }),
    dispose: () => tf.dispose(pairs.map((p) => p.anchor)),
  };
}

function controlCorrection(slices: TrainableSlice[], vectors: Readonly<Record<string, Float32Array>>): LocalObjective {
  const server = vectors[SERVER_CONTROL_VECTOR];
  const client = vectors[CLIENT_CONTROL_VECTOR];
  if (!server || !client) throw new RangeError(`config.controlVariates: the round needs the vectors ${SERVER_CONTROL_VECTOR} and ${CLIENT_CONTROL_VECTOR}`);
  const correction = new Float32Array(server.length);
  for (let i = 0; i < correction.length; i++) correction[i] = server[i]! - client[i]!;
  const pairs = slices.map(({ variable, entry }) => ({ variable, direction: sliceTensor(correction, entry) }));
  return {
    penalty: () => tf.tidy(() => tf.addN<tf.Scalar>(pairs.map(({ variable, direction }) => tf.sum<tf.Scalar>(tf.mul(variable, direction))))),
    dispose: () => tf.dispose(pairs.map((p) => p.direction)),
  };
}
