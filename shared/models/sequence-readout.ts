/**
 * The end of a transformer's stack of blocks: the final LayerNorm (pre-LayerNorm blocks leave
 * their residual stream unnormalised), then one vector per sequence for the softmax that follows:
 *
 *   last  the last position's vector: under the causal mask it is the only one that has seen the
 *         whole window, so it predicts the next token
 *   mean  the mean over positions: a summary of the whole text, for classifying it
 *
 * [batch, length, dimension] → [batch, dimension].
 */
import type * as tfjs from '../tf.js';
import { layerNorm, type NormWeights } from './layer-norm.js';
import { customLayer, type LayerClass } from './custom-layer.js';
import type { Tf } from './model-entry.js';

export type Readout = 'last' | 'mean';

export interface SequenceReadoutOptions {
  dimension: number;
  readout: Readout;
  name: string;
}

export const sequenceReadout = customLayer(defineLayer);

function defineLayer(tf: Tf): LayerClass<SequenceReadoutOptions> {
  class SequenceReadout extends tf.layers.Layer {
    static className = 'FedsimSequenceReadout';
    private readonly options: SequenceReadoutOptions;
    private norm: NormWeights | null = null;

    constructor(options: SequenceReadoutOptions) {
      super({ name: options.name });
      this.options = options;
    }

    override build(): void {
      const { dimension } = this.options;
      this.norm = {
        gain: this.addWeight('norm/gain', [dimension], 'float32', tf.initializers.zeros()),
        bias: this.addWeight('norm/bias', [dimension], 'float32', tf.initializers.zeros()),
      };
      this.built = true;
    }

    override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfjs.Shape;
      return [shape[0]!, this.options.dimension];
    }

    override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const [batch, length, dimension] = x.shape as [number, number, number];
        // Normalising is per position, so reducing first and normalising the one vector is cheaper for `last`; `mean` must normalise every position first.
        if (this.options.readout === 'last') return layerNorm(tf, x.slice([0, length - 1, 0], [batch, 1, dimension]).reshape([batch, dimension]), this.norm!);
        return tf.mean(layerNorm(tf, x, this.norm!), 1);
      });
    }

    override getConfig(): tfjs.serialization.ConfigDict {
      const { dimension, readout } = this.options;
      return { ...super.getConfig(), dimension, readout };
    }
  }
  tf.serialization.registerClass(SequenceReadout);
  return SequenceReadout;
}
