/**
 * Custom tfjs layers are classes that extend the `tf.layers.Layer` of the tfjs a model is built
 * with, and model files never import tfjs themselves (model-entry.ts): so each layer class is
 * defined against the tfjs it is handed, once per tfjs module, and reused for every build.
 */
import type * as tfjs from '../tf.js';
import type { Tf } from './model-entry.js';

export type LayerClass<Options> = new (options: Options) => tfjs.layers.Layer;

/** A factory `(tf, options) → layer` that defines its class with `define(tf)` the first time each tfjs asks. */
export function customLayer<Options>(define: (tf: Tf) => LayerClass<Options>): (tf: Tf, options: Options) => tfjs.layers.Layer {
  const classes = new WeakMap<Tf, LayerClass<Options>>();
  return (tf, options) => {
    let Layer = classes.get(tf);
    if (!Layer) classes.set(tf, (Layer = define(tf)));
    return new Layer(options);
  };
}
