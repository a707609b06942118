/**
 * One side of a factorised rating model: the embedding (and bias) of the id in one column of
 * the input, padded so that the dot product of a user side and an item side is the rating:
 *
 *   user side  [p_u, b_u, 1]        item side  [q_i, 1, b_i + μ]
 *   ⟨user, item⟩ = p_u·q_i + b_u + b_i + μ
 *
 * Each side is its own layer, so partial aggregation can keep one of them (the users') on the
 * clients. The lookup is one-hot × matrix, as in token-embedding.ts, because tfjs' gather has no
 * gradient on the wasm backend.
 */
import type * as tfjs from '../tf.js';
import { customLayer, type LayerClass } from './custom-layer.js';
import type { Tf } from './model-entry.js';

export interface IdEmbeddingOptions {
  /** Which input column holds the id. */
  column: number;
  /** Ids are below this. */
  count: number;
  dimension: number;
  side: 'user' | 'item';
  name: string;
}

export const idEmbedding = customLayer(defineLayer);

function defineLayer(tf: Tf): LayerClass<IdEmbeddingOptions> {
  class IdEmbedding extends tf.layers.Layer {
    static className = 'FedsimIdEmbedding';
    private readonly options: IdEmbeddingOptions;
    private embeddings: tfjs.LayerVariable | null = null;
    private bias: tfjs.LayerVariable | null = null;
    /** The item side carries the global offset μ (one value, aggregated with the items). */
    private offset: tfjs.LayerVariable | null = null;

    constructor(options: IdEmbeddingOptions) {
      super({ name: options.name });
      this.options = options;
    }

    override build(): void {
      const { count, dimension } = this.options;
      this.embeddings = this.addWeight('embeddings', [count, dimension], 'float32', tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05 }));
      this.bias = this.addWeight('bias', [count], 'float32', tf.initializers.zeros());
      if (this.options.side === 'item') this.offset = this.addWeight('offset', [1], 'float32', tf.initializers.zeros());
      this.built = true;
    }

    override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfjs.Shape;
      return [shape[0]!, this.options.dimension + 2];
    }

    override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const [batch] = x.shape as [number, number];
        const ids = tf.cast(tf.slice(x, [0, this.options.column], [batch, 1]).reshape([batch]), 'int32');
        const oneHot = tf.oneHot(ids, this.options.count).toFloat();
        const vectors = tf.matMul(oneHot, this.embeddings!.read());
        const bias = tf.matMul(oneHot, this.bias!.read().reshape([this.options.count, 1]));
        const ones = tf.ones([batch, 1]);
        return this.options.side === 'user' ? tf.concat([vectors, bias, ones], 1) : tf.concat([vectors, ones, tf.add(bias, this.offset!.read())], 1);
      });
    }

    override getConfig(): tfjs.serialization.ConfigDict {
      const { column, count, dimension, side } = this.options;
      return { ...super.getConfig(), column, count, dimension, side };
    }
  }
  tf.serialization.registerClass(IdEmbedding);
  return IdEmbedding;
}
