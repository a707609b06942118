/**
 * A learned position embedding: one vector per position of the sequence, added to the token
 * embedding at that position, so that self-attention (which is blind to order) can tell where a
 * token stands. Input and output are [batch, length, dimension]; the weights are
 * [length, dimension], as GPT-2's.
 */
import type * as tfjs from '../tf.js';
import { customLayer, type LayerClass } from './custom-layer.js';
import type { Tf } from './model-entry.js';

export interface PositionalEmbeddingOptions {
  sequenceLength: number;
  dimension: number;
  name: string;
}

export const positionalEmbedding = customLayer(defineLayer);

function defineLayer(tf: Tf): LayerClass<PositionalEmbeddingOptions> {
  class PositionalEmbedding extends tf.layers.Layer {
    static className = 'FedsimPositionalEmbedding';
    private readonly options: PositionalEmbeddingOptions;
    private positions: tfjs.LayerVariable | null = null;

    constructor(options: PositionalEmbeddingOptions) {
      super({ name: options.name });
      this.options = options;
    }

    override build(): void {
      const { sequenceLength, dimension } = this.options;
      this.positions = this.addWeight('embeddings', [sequenceLength, dimension], 'float32', tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05 }));
      this.built = true;
    }

    override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape {
      return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfjs.Shape;
    }

    override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
      return tf.tidy(() => tf.add(Array.isArray(inputs) ? inputs[0]! : inputs, this.positions!.read()));
    }

    override getConfig(): tfjs.serialization.ConfigDict {
      const { sequenceLength, dimension } = this.options;
      return { ...super.getConfig(), sequenceLength, dimension };
    }
  }
  tf.serialization.registerClass(PositionalEmbedding);
  return PositionalEmbedding;
}
