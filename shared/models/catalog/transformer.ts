/**
 * A small decoder-only transformer over token ids (GPT-2's shape, at Shakespeare's scale): token
 * embedding (token-embedding.ts) + learned positions (positional-embedding.ts) → `blocks`
 * pre-LayerNorm blocks of causal multi-head self-attention and feed-forward (self-attention.ts)
 * → final LayerNorm and one vector per sequence (sequence-readout.ts) → softmax over the classes.
 *
 * `head: next-token` reads the last position (the next character, on Shakespeare);
 * `head: classifier` the mean over positions (a label for the whole text, such as sentiment).
 * Presets: base (width 128, 4 heads, 4 blocks, ffn 512: about the FedAvg paper's LSTM in
 * parameters) and small (64, 2, 2, 128: trains in minutes on 2 cores), or choose the four sizes.
 */
import { z } from 'zod';
import type { DataShape } from '../../data/data-shape.js';
import { positiveInt } from '../../scenario/spec-fields.js';
import type { ModelEntry, Tf } from '../model-entry.js';
import { positionalEmbedding } from '../positional-embedding.js';
import { transformerBlock, transformerBlockParameters } from '../self-attention.js';
import { sequenceReadout } from '../sequence-readout.js';
import { tokenEmbedding } from '../token-embedding.js';

const SPEC = z.strictObject({
  name: z.literal('transformer'),
  preset: z.enum(['base', 'small']).optional(),
  /** The model width: embedding, attention and residual vectors. */
  dimension: positiveInt.max(4096).optional(),
  heads: positiveInt.max(64).optional(),
  blocks: positiveInt.max(48).optional(),
  /** Width of each block's feed-forward layer. */
  ffn: positiveInt.max(16384).optional(),
  head: z.enum(['next-token', 'classifier']).default('next-token'),
});
export type TransformerSpec = z.output<typeof SPEC>;

export interface TransformerSize {
  dimension: number;
  heads: number;
  blocks: number;
  ffn: number;
}

const PRESETS: Record<NonNullable<TransformerSpec['preset']>, TransformerSize> = {
  base: { dimension: 128, heads: 4, blocks: 4, ffn: 512 },
  small: { dimension: 64, heads: 2, blocks: 2, ffn: 128 },
};
const SIZE_FIELDS = ['dimension', 'heads', 'blocks', 'ffn'] as const;

/** The preset's sizes (base when none is named), each replaced by the spec's own where it gives one. */
export function transformerSize(spec: TransformerSpec): TransformerSize {
  const base = PRESETS[spec.preset ?? 'base'];
  return { dimension: spec.dimension ?? base.dimension, heads: spec.heads ?? base.heads, blocks: spec.blocks ?? base.blocks, ffn: spec.ffn ?? base.ffn };
}

function build(tf: Tf, spec: TransformerSpec, shape: DataShape) {
  const { dimension, heads, blocks, ffn } = transformerSize(spec);
  const [sequenceLength] = shape.featureShape as [number];
  return tf.sequential({
    name: spec.name,
    layers: [
      tokenEmbedding(tf, { vocabulary: shape.vocabulary!, dimension, sequenceLength, name: 'embedding' }),
      positionalEmbedding(tf, { sequenceLength, dimension, name: 'position' }),
      ...Array.from({ length: blocks }, (_, i) => transformerBlock(tf, { dimension, heads, ffn, name: `block${i + 1}` })),
      sequenceReadout(tf, { dimension, readout: spec.head === 'classifier' ? 'mean' : 'last', name: 'readout' }),
      tf.layers.dense({ units: shape.numClasses, activation: 'softmax', name: 'softmax' }),
    ],
  });
}

function problems(spec: TransformerSpec, shape: DataShape, datasetName: string): string[] {
  if (shape.vocabulary === undefined || shape.featureShape.length !== 1 || shape.task !== 'classification') {
    return [`model.name: ${spec.name} reads sequences of tokens (got ${datasetName} with features [${shape.featureShape.join(', ')}], expected shakespeare)`];
  }
  const given = SIZE_FIELDS.filter((field) => spec[field] !== undefined);
  if (spec.preset && given.length > 0) {
    return [`model.preset: ${spec.preset} fixes ${SIZE_FIELDS.join(', ')} (got preset with ${given.join(', ')}, expected one or the other)`];
  }
  const { dimension, heads } = transformerSize(spec);
  if (dimension % heads !== 0) return [`model.heads: each head takes an equal share of the width (got ${heads}, expected a divisor of dimension ${dimension})`];
  return [];
}

/** Token and position embeddings, the blocks, the final norm's gain and bias, and the softmax layer. */
function parameterCount(spec: TransformerSpec, shape: DataShape): number {
  const { dimension, blocks, ffn } = transformerSize(spec);
  const [sequenceLength = 0] = shape.featureShape;
  const embeddings = ((shape.vocabulary ?? 0) + sequenceLength) * dimension;
  return embeddings + blocks * transformerBlockParameters(dimension, ffn) + 2 * dimension + dimension * shape.numClasses + shape.numClasses;
}

function describe(spec: TransformerSpec, shape?: DataShape): string {
  const { dimension, heads, blocks, ffn } = transformerSize(spec);
  const preset = spec.preset ?? (SIZE_FIELDS.some((field) => spec[field] !== undefined) ? undefined : 'base');
  const readout = spec.head === 'classifier' ? 'mean over positions' : 'last position';
  return (
    `Transformer${preset ? ` (${preset})` : ''}: embedding ${shape?.vocabulary ?? 'V'}×${dimension} + ${shape?.featureShape[0] ?? 'L'} positions, ` +
    `${blocks} block${blocks === 1 ? '' : 's'} of ${heads}-head causal self-attention and ffn ${ffn}, ${readout} → softmax over ${shape?.numClasses ?? 'the classes'}`
  );
}

export const TRANSFORMER = {
  name: 'transformer',
  description:
    'causal self-attention transformer over tokens: embedding + positions, pre-LayerNorm blocks, head next-token (last position) or classifier (mean) (presets base: 128, 4 heads, 4 blocks, ffn 512; small: 64, 2, 2, 128)',
  schema: SPEC,
  presets: SPEC.shape.preset.unwrap().options,
  suits: 'shakespeare',
  build,
  problems,
  parameterCount,
  layers: (spec) => ['embedding', 'position', ...Array.from({ length: transformerSize(spec).blocks }, (_, i) => `block${i + 1}`), 'readout', 'softmax'],
  describe,
} satisfies ModelEntry<TransformerSpec>;
