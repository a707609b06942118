/**
 * Multilayer perceptron: dense hidden layers, softmax output (or, for two classes, one sigmoid
 * unit). Presets: 2nn is the FedAvg paper's (784-200-200-10), mnist-128 the documents' 784-128-10,
 * binary-10 the documents' binary classifier (3 features, Dense 10 ReLU, sigmoid output).
 */
import { z } from 'zod';
import type { DataShape } from '../../data/data-shape.js';
import type * as tfjs from '../../tf.js';
import { positiveInt } from '../../scenario/spec-fields.js';
import { classifierProblems, denseChainParameters, featureCount, sizeWords } from '../fit-checks.js';
import { flattenInput } from '../flatten-input.js';
import type { ModelEntry, Tf } from '../model-entry.js';
import { sigmoidAsTwoClasses } from '../sigmoid-two-class.js';

const SPEC = z.strictObject({
  name: z.literal('mlp'),
  preset: z.enum(['2nn', 'mnist-128', 'binary-10']).optional(),
  hidden: z.array(positiveInt).min(1).optional(),
  activation: z.enum(['relu', 'tanh', 'sigmoid']).optional(),
  /** sigmoid: one unit for two classes, read as [1 − p, p] (sigmoid-two-class.ts). */
  output: z.enum(['softmax', 'sigmoid']).optional(),
});
export type MlpSpec = z.output<typeof SPEC>;

/** McMahan et al. 2017's 2NN: two hidden layers of 200 ReLU units; also the default. */
const TWO_NN = [200, 200];

const PRESET_LAYERS: Record<NonNullable<MlpSpec['preset']>, number[]> = { '2nn': TWO_NN, 'mnist-128': [128], 'binary-10': [10] };

function hiddenLayers(spec: MlpSpec): number[] {
  return spec.preset ? PRESET_LAYERS[spec.preset] : (spec.hidden ?? TWO_NN);
}

function outputOf(spec: MlpSpec): 'softmax' | 'sigmoid' {
  return spec.preset === 'binary-10' ? 'sigmoid' : (spec.output ?? 'softmax');
}

function outputLayers(tf: Tf, spec: MlpSpec, shape: DataShape): tfjs.layers.Layer[] {
  if (outputOf(spec) === 'softmax') return [tf.layers.dense({ units: shape.numClasses, activation: 'softmax', name: 'softmax' })];
  return [tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'sigmoid' }), sigmoidAsTwoClasses(tf, 'two-class')];
}

function outputProblems(spec: MlpSpec, shape: DataShape, datasetName: string): string[] {
  const field = spec.preset === 'binary-10' ? 'model.preset' : 'model.output';
  const value = spec.preset === 'binary-10' ? 'binary-10' : 'sigmoid';
  if (outputOf(spec) === 'sigmoid' && shape.numClasses !== 2) {
    return [
      `${field}: ${value} has one sigmoid output for two classes (got ${datasetName} with ${shape.numClasses} classes, expected a two-class dataset such as synthetic with numClasses: 2, or output: softmax)`,
    ];
  }
  if (spec.preset === 'binary-10' && spec.output === 'softmax')
    return ['model.output: the binary-10 preset ends in a sigmoid (got softmax, expected no output with preset: binary-10)'];
  return [];
}

export const MLP = {
  name: 'mlp',
  description:
    "multilayer perceptron: dense hidden layers (default 200-200 ReLU; preset 2nn is McMahan et al. 2017's 2NN, mnist-128 the documents' 784-128-10, binary-10 their 3-10-1 sigmoid classifier), softmax or (two classes) sigmoid output",
  schema: SPEC,
  presets: SPEC.shape.preset.unwrap().options,
  suits: 'mnist',
  presetData: { 'binary-10': { name: 'synthetic', featureSize: 3, numClasses: 2 } },
  build: (tf, spec, shape) =>
    tf.sequential({
      name: spec.name,
      layers: [
        flattenInput(tf, shape),
        ...hiddenLayers(spec).map((units, i) => tf.layers.dense({ units, activation: spec.activation ?? 'relu', name: `hidden${i + 1}` })),
        ...outputLayers(tf, spec, shape),
      ],
    }),
  problems: (spec, shape, datasetName) => {
    const problems = classifierProblems(spec.name, shape, datasetName);
    if (problems.length === 0) problems.push(...outputProblems(spec, shape, datasetName));
    if (spec.preset && spec.hidden !== undefined) {
      problems.push(
        `model.hidden: the ${spec.preset} preset fixes the hidden layers at [${PRESET_LAYERS[spec.preset].join(', ')}] (got [${spec.hidden.join(', ')}], expected no hidden with preset: ${spec.preset})`,
      );
    }
    return problems;
  },
  parameterCount: (spec, shape) => denseChainParameters([featureCount(shape), ...hiddenLayers(spec), outputOf(spec) === 'sigmoid' ? 1 : shape.numClasses]),
  layers: (spec) => [...hiddenLayers(spec).map((_, i) => `hidden${i + 1}`), outputOf(spec)],
  describe: (spec, shape) => {
    const { inputs, classes } = sizeWords(shape);
    const name = spec.preset === '2nn' ? 'MLP 2NN (McMahan et al. 2017)' : 'MLP';
    const sigmoid = outputOf(spec) === 'sigmoid';
    return `${name} ${[inputs, ...hiddenLayers(spec), sigmoid ? 1 : classes].join('-')}, ${spec.activation ?? 'relu'} hidden, ${sigmoid ? 'sigmoid output (two classes)' : 'softmax output'}`;
  },
} satisfies ModelEntry<MlpSpec>;
