/**
 * One pre-LayerNorm transformer block (GPT-2's arrangement), as a single layer over
 * [batch, length, dimension]:
 *
 *   x ← x + Attention(LayerNorm(x))      causal multi-head self-attention
 *   x ← x + FeedForward(LayerNorm(x))    dense (ffn, ReLU) then dense (dimension), per position
 *
 * Attention projects each position to a query, key and value (dimension → dimension, split into
 * `heads` heads of dimension / heads), weighs the values by softmax(q·kᵀ / √(dimension / heads)),
 * merges the heads and projects back. The causal mask adds −1e9 to every score of a later
 * position, so that position i attends to positions ≤ i only: the output at i does not depend on
 * the tokens after it, bit for bit (exp of the masked scores is exactly 0 in float32), and a
 * next-token model cannot read its answer.
 *
 * Built from plain ops (2-D and batched 3-D matMul, reshape, transpose, softmax), each of which
 * every tfjs backend differentiates, wasm included. Weights are named `<block>/<part>/<weight>`,
 * for example block1/query/kernel, in a fixed order.
 */
import type * as tfjs from '../tf.js';
import { layerNorm, type NormWeights } from './layer-norm.js';
import { customLayer, type LayerClass } from './custom-layer.js';
import type { Tf } from './model-entry.js';

export interface TransformerBlockOptions {
  /** The model width: every position's vector has this many values. */
  dimension: number;
  /** Divides dimension. */
  heads: number;
  /** Width of the position-wise feed-forward layer. */
  ffn: number;
  name: string;
}

/** Added to the scores of positions after the query's: softmax weighs them exactly 0. */
const MASKED = -1e9;

interface Dense {
  kernel: tfjs.LayerVariable;
  bias: tfjs.LayerVariable;
}

interface BlockWeights {
  attentionNorm: NormWeights;
  query: Dense;
  key: Dense;
  value: Dense;
  output: Dense;
  feedForwardNorm: NormWeights;
  expand: Dense;
  contract: Dense;
}

/** Trainable values of one block: two norms, four dimension² projections and the feed-forward pair, with biases. */
export function transformerBlockParameters(dimension: number, ffn: number): number {
  const norms = 2 * 2 * dimension;
  const attention = 4 * (dimension * dimension + dimension);
  const feedForward = dimension * ffn + ffn + ffn * dimension + dimension;
  return norms + attention + feedForward;
}

const newTransformerBlock = customLayer(defineLayer);

export function transformerBlock(tf: Tf, options: TransformerBlockOptions): tfjs.layers.Layer {
  if (options.dimension % options.heads !== 0) throw new Error(`transformerBlock: ${options.heads} heads do not divide dimension ${options.dimension}`);
  return newTransformerBlock(tf, options);
}

/** [length, length]: 0 where the key's position is at most the query's, MASKED after it. */
function causalMask(length: number): Float32Array {
  const mask = new Float32Array(length * length);
  for (let query = 0; query < length; query++) mask.fill(MASKED, query * length + query + 1, (query + 1) * length);
  return mask;
}

function defineLayer(tf: Tf): LayerClass<TransformerBlockOptions> {
  const dense = (x: tfjs.Tensor, weights: Dense) => tf.add(tf.matMul(x as tfjs.Tensor2D, weights.kernel.read() as tfjs.Tensor2D), weights.bias.read());

  class TransformerBlock extends tf.layers.Layer {
    static className = 'FedsimTransformerBlock';
    private readonly options: TransformerBlockOptions;
    private blockWeights: BlockWeights | null = null;
    /** Kept as values, not a tensor: a tensor belongs to the backend it was made on, and a process can switch backends (the tests do). */
    private mask: { length: number; values: Float32Array } | null = null;

    constructor(options: TransformerBlockOptions) {
      super({ name: options.name });
      this.options = options;
    }

    override build(): void {
      const { dimension, ffn } = this.options;
      const norm = (part: string): NormWeights => ({ gain: this.vector(`${part}/gain`, dimension), bias: this.vector(`${part}/bias`, dimension) });
      const projection = (part: string, inputs: number, units: number): Dense => ({
        kernel: this.addWeight(`${part}/kernel`, [inputs, units], 'float32', tf.initializers.glorotUniform({})),
        bias: this.vector(`${part}/bias`, units),
      });
      this.blockWeights = {
        attentionNorm: norm('attention_norm'),
        query: projection('query', dimension, dimension),
        key: projection('key', dimension, dimension),
        value: projection('value', dimension, dimension),
        output: projection('output', dimension, dimension),
        feedForwardNorm: norm('ffn_norm'),
        expand: projection('ffn_expand', dimension, ffn),
        contract: projection('ffn_contract', ffn, dimension),
      };
      this.built = true;
    }

    private vector(name: string, size: number): tfjs.LayerVariable {
      return this.addWeight(name, [size], 'float32', tf.initializers.zeros());
    }

    override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape {
      return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfjs.Shape;
    }

    override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const [batch, length, dimension] = x.shape as [number, number, number];
        const w = this.blockWeights!;
        // Positions as rows: every projection is one 2-D product over batch × length rows.
        const rows = x.reshape([batch * length, dimension]);
        const attended = tf.add(rows, this.attention(layerNorm(tf, rows, w.attentionNorm), batch, length));
        const expanded = tf.relu(dense(layerNorm(tf, attended, w.feedForwardNorm), w.expand));
        return tf.add(attended, dense(expanded, w.contract)).reshape([batch, length, dimension]);
      });
    }

    /** Causal multi-head self-attention over rows [batch · length, dimension], returned in that form. */
    private attention(rows: tfjs.Tensor, batch: number, length: number): tfjs.Tensor {
      const { dimension, heads } = this.options;
      const w = this.blockWeights!;
      const headSize = dimension / heads;
      // [batch · length, dimension] → [batch · heads, length, headSize]: one attention problem per head.
      const split = (projected: tfjs.Tensor) =>
        projected
          .reshape([batch, length, heads, headSize])
          .transpose([0, 2, 1, 3])
          .reshape([batch * heads, length, headSize]);
      const [query, key, value] = [w.query, w.key, w.value].map((weights) => split(dense(rows, weights)));
      const scores = tf.add(tf.mul(tf.matMul(query!, key!, false, true), 1 / Math.sqrt(headSize)), tf.tensor2d(this.maskFor(length), [length, length]));
      const mixed = tf.matMul(tf.softmax(scores), value!);
      const merged = mixed
        .reshape([batch, heads, length, headSize])
        .transpose([0, 2, 1, 3])
        .reshape([batch * length, dimension]);
      return dense(merged, w.output);
    }

    private maskFor(length: number): Float32Array {
      if (this.mask?.length !== length) this.mask = { length, values: causalMask(length) };
      return this.mask.values;
    }

    override getConfig(): tfjs.serialization.ConfigDict {
      const { dimension, heads, ffn } = this.options;
      return { ...super.getConfig(), dimension, heads, ffn };
    }
  }
  tf.serialization.registerClass(TransformerBlock);
  return TransformerBlock;
}
