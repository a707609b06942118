/**
 * A token embedding that trains on every backend: the lookup as one-hot × matrix. tfjs' own
 * Embedding layer differentiates through a gather, whose gradient (UnsortedSegmentSum) the wasm
 * backend does not have, so it cannot train there at all. The weights and their count are the
 * same as Embedding's ([vocabulary, dimension]); the one-hot costs vocabulary × dimension
 * multiply-adds per token, small beside the recurrent layers it feeds.
 */
import type * as tfjs from '../tf.js';
import { customLayer, type LayerClass } from './custom-layer.js';
import type { Tf } from './model-entry.js';

export interface TokenEmbeddingOptions {
  vocabulary: number;
  dimension: number;
  sequenceLength: number;
  name: string;
}

export const tokenEmbedding = customLayer(defineLayer);

function defineLayer(tf: Tf): LayerClass<TokenEmbeddingOptions> {
  class TokenEmbedding extends tf.layers.Layer {
    static className = 'FedsimTokenEmbedding';
    private readonly vocabulary: number;
    private readonly dimension: number;
    private embeddings: tfjs.LayerVariable | null = null;

    constructor(options: TokenEmbeddingOptions) {
      super({ name: options.name, inputShape: [options.sequenceLength] });
      this.vocabulary = options.vocabulary;
      this.dimension = options.dimension;
    }

    override build(): void {
      this.embeddings = this.addWeight(
        'embeddings',
        [this.vocabulary, this.dimension],
        'float32',
        tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05 }),
      );
      this.built = true;
    }

    override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfjs.Shape;
      return [...shape, this.dimension];
    }

    override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
      return tf.tidy(() => {
        const ids = tf.cast(Array.isArray(inputs) ? inputs[0]! : inputs, 'int32');
        const [batch, length] = ids.shape as [number, number];
        const oneHot = tf.oneHot(ids.reshape([batch * length]), this.vocabulary).toFloat();
        return tf.matMul(oneHot, this.embeddings!.read()).reshape([batch, length, this.dimension]);
      });
    }

    override getConfig(): tfjs.serialization.ConfigDict {
      return { ...super.getConfig(), vocabulary: this.vocabulary, dimension: this.dimension };
    }
  }
  tf.serialization.registerClass(TokenEmbedding);
  return TokenEmbedding;
}
