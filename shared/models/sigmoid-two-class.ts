/**
 * One sigmoid unit read as two class probabilities [1 − p, p]. The documents' binary MLP ends in a
 * single sigmoid; presenting it as a two-column distribution lets every two-class path (training's
 * cross-entropy, evaluation, AUC, membership inference) take it unchanged: categorical
 * cross-entropy on [1 − p, p] is exactly binary cross-entropy on p. No weights.
 */
import type * as tfjs from '../tf.js';
import { customLayer, type LayerClass } from './custom-layer.js';
import type { Tf } from './model-entry.js';

export const sigmoidAsTwoClasses = customLayer(defineLayer);

function defineLayer(tf: Tf): LayerClass<string> {
  class SigmoidTwoClass extends tf.layers.Layer {
    static className = 'FedsimSigmoidTwoClass';

    constructor(name: string) {
      super({ name });
    }

    override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfjs.Shape;
      return [shape[0]!, 2];
    }

    override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
      return tf.tidy(() => {
        const p = (Array.isArray(inputs) ? inputs[0]! : inputs) as tfjs.Tensor2D;
        return tf.concat([tf.sub(1, p), p], 1);
      });
    }
  }
  tf.serialization.registerClass(SigmoidTwoClass);
  return SigmoidTwoClass;
}
