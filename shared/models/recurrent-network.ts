/**
 * What the recurrent models (lstm, gru) share: token ids → embedding (token-embedding.ts) → stacked recurrent layers
 * (each but the last returning its whole sequence) → softmax over the vocabulary, predicting
 * the next token (the FedAvg paper's and LEAF's Shakespeare model). They read token data only:
 * a dataset whose shape has a vocabulary.
 */
import { z } from 'zod';
import type { DataShape } from '../data/data-shape.js';
import { positiveInt } from '../scenario/spec-fields.js';
import type { ModelEntry, Tf } from './model-entry.js';
import type * as tfjs from '../tf.js';
import { tokenEmbedding } from './token-embedding.js';

export type Cell = 'lstm' | 'gru';

/** Gates per cell: LSTM's input, forget, cell and output; GRU's update, reset and candidate. */
const GATES: Record<Cell, number> = { lstm: 4, gru: 3 };

export interface RecurrentLayers {
  embedding: number;
  layers: number[];
}

/** The FedAvg paper's Shakespeare model: 8-dimensional embedding, two layers of 256. */
export const SHAKESPEARE_LAYERS: RecurrentLayers = { embedding: 8, layers: [256, 256] };
/** Trains in minutes on 2 cores: one layer of 64. */
export const SMALL_LAYERS: RecurrentLayers = { embedding: 8, layers: [64] };

export function recurrentSpec<N extends Cell>(name: N) {
  return z.strictObject({
    name: z.literal(name),
    preset: z.enum(['shakespeare', 'small']).optional(),
    embedding: positiveInt.max(4096).optional(),
    layers: z.array(positiveInt.max(4096)).min(1).max(8).optional(),
  });
}
export type RecurrentSpec = z.output<ReturnType<typeof recurrentSpec>>;

export function recurrentLayers(spec: RecurrentSpec): RecurrentLayers {
  const base = spec.preset === 'small' ? SMALL_LAYERS : SHAKESPEARE_LAYERS;
  return { embedding: spec.embedding ?? base.embedding, layers: spec.layers ?? base.layers };
}

export function buildRecurrent(tf: Tf, cell: Cell, spec: RecurrentSpec, shape: DataShape): tfjs.LayersModel {
  const { embedding, layers } = recurrentLayers(spec);
  const [length] = shape.featureShape as [number];
  const recurrent = layers.map((units, i) => {
    // tfjs' default orthogonal initialiser takes minutes on a 1024×256 kernel; initialWeights() replaces every value anyway.
    const options = { units, returnSequences: i < layers.length - 1, recurrentInitializer: 'glorotUniform', name: `${cell}${i + 1}` } as const;
    return cell === 'lstm' ? tf.layers.lstm(options) : tf.layers.gru(options);
  });
  return tf.sequential({
    name: spec.name,
    layers: [
      tokenEmbedding(tf, { vocabulary: shape.vocabulary!, dimension: embedding, sequenceLength: length, name: 'embedding' }),
      ...recurrent,
      tf.layers.dense({ units: shape.numClasses, activation: 'softmax', name: 'softmax' }),
    ],
  });
}

export function recurrentProblems(spec: RecurrentSpec, shape: DataShape, datasetName: string): string[] {
  if (shape.vocabulary === undefined || shape.featureShape.length !== 1 || shape.task !== 'classification') {
    return [`model.name: ${spec.name} reads sequences of tokens (got ${datasetName} with features [${shape.featureShape.join(', ')}], expected shakespeare)`];
  }
  if (spec.preset && (spec.layers !== undefined || spec.embedding !== undefined)) {
    return [`model.preset: ${spec.preset} fixes the embedding and layers (got preset with ${spec.layers ? 'layers' : 'embedding'}, expected one or the other)`];
  }
  return [];
}

/** Embedding + per layer gates·(units·(input + units) + units) (tfjs' GRU has one bias per gate, as reset_after=False) + the softmax layer. */
export function recurrentParameters(cell: Cell, spec: RecurrentSpec, shape: DataShape): number {
  const { embedding, layers } = recurrentLayers(spec);
  let input = embedding;
  let total = (shape.vocabulary ?? 0) * embedding;
  for (const units of layers) {
    total += GATES[cell] * (units * (input + units) + units);
    input = units;
  }
  return total + input * shape.numClasses + shape.numClasses;
}

export function describeRecurrent(cell: Cell, spec: RecurrentSpec, shape?: DataShape): string {
  const { embedding, layers } = recurrentLayers(spec);
  const preset = spec.preset === 'shakespeare' || (!spec.preset && !spec.layers && !spec.embedding) ? ' (FedAvg paper Shakespeare)' : '';
  return `${cell.toUpperCase()}${preset}: embedding ${shape?.vocabulary ?? 'V'}×${embedding}, ${layers.join('-')} ${cell.toUpperCase()}, softmax over ${shape?.numClasses ?? 'the vocabulary'}`;
}

/** The registry entry of one cell type: catalog/lstm.ts and catalog/gru.ts differ only in the cell. */
export function recurrentModel<N extends Cell>(cell: N) {
  const schema = recurrentSpec(cell);
  const upper = cell.toUpperCase();
  return {
    name: cell,
    description: `${upper} next-token model: embedding, stacked ${upper} layers, softmax (presets shakespeare: 8, 256-256, the FedAvg paper's; small: 8, 64)`,
    schema,
    presets: schema.shape.preset.unwrap().options,
    suits: 'shakespeare',
    build: (tf: Tf, spec: RecurrentSpec, shape: DataShape) => buildRecurrent(tf, cell, spec, shape),
    problems: (spec: RecurrentSpec, shape: DataShape, datasetName: string) => recurrentProblems(spec, shape, datasetName),
    parameterCount: (spec: RecurrentSpec, shape: DataShape) => recurrentParameters(cell, spec, shape),
    layers: (spec: RecurrentSpec) => ['embedding', ...recurrentLayers(spec).layers.map((_, i) => `${cell}${i + 1}`), 'softmax'],
    describe: (spec: RecurrentSpec, shape?: DataShape) => describeRecurrent(cell, spec, shape),
  } satisfies ModelEntry<RecurrentSpec>;
}
