/**
 * What a strategy's config record adds to a client's local loss: the client-side half of
 * strategies whose local training differs from plain SGD on the data loss. New terms are keyed
 * by config entries, so a strategy needs no protocol change and no change to the training loop.
 *
 *   proximalMu (FedProx, Li et al. 2020): μ/2 · ‖w − w_t‖², w_t the round's global model.
 */
import type { ConfigRecord } from '../../shared/protocol/config-record.js';
import { layoutOf } from '../../shared/models/parameters.js';
import * as tf from '../../shared/tf.js';

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

/** The objective terms the config asks for, or null for plain training. */
export function localObjective(model: tf.LayersModel, context: RoundContext | undefined): LocalObjective | null {
  const mu = context?.config.proximalMu;
  if (mu === undefined) return null;
  if (typeof mu !== 'number' || !(mu >= 0)) throw new RangeError(`config.proximalMu must be a number ≥ 0 (got ${JSON.stringify(mu)})`);
  return mu === 0 ? null : proximalTerm(model, context!.global, mu);
}

function proximalTerm(model: tf.LayersModel, global: Float32Array, mu: number): LocalObjective {
  const layout = layoutOf(model);
  if (global.length !== layout.totalSize) throw new RangeError(`proximal term: global model has ${global.length} values, the model ${layout.totalSize}`);
  // model.weights and the layout share one order: pair each trainable variable with its slice of w_t.
  const trainable = new Set(model.trainableWeights.map((w) => w.name));
  const pairs = model.weights
    .map((w, i) => ({ w, entry: layout.entries[i]! }))
    .filter(({ w }) => trainable.has(w.name))
    .map(({ w, entry }) => ({
      variable: w.read() as tf.Variable,
      anchor: tf.tensor(global.subarray(entry.offset, entry.offset + entry.size), entry.shape, 'float32'),
    }));
  return {
    penalty: () =>
      tf.tidy(() => {
        const squares = pairs.map(({ variable, anchor }) => tf.sum(tf.square(tf.sub(variable, anchor))));
        return tf.mul<tf.Scalar>(mu / 2, tf.addN(squares));
      }),
    dispose: () => tf.dispose(pairs.map((p) => p.anchor)),
  };
}
