/**
 * Multilayer perceptron: dense hidden layers, softmax output. Presets: 2nn is the FedAvg paper's
 * (784-200-200-10), mnist-128 the documents' 784-128-10.
 */
import { z } from 'zod';
import { positiveInt } from '../../scenario/spec-fields.js';
import { classifierProblems, denseChainParameters, featureCount, sizeWords } from '../fit-checks.js';
import { flattenInput } from '../flatten-input.js';
import type { ModelEntry } from '../model-entry.js';

const SPEC = z.strictObject({
  name: z.literal('mlp'),
  preset: z.enum(['2nn', 'mnist-128']).optional(),
  hidden: z.array(positiveInt).min(1).optional(),
  activation: z.enum(['relu', 'tanh', 'sigmoid']).optional(),
});
export type MlpSpec = z.output<typeof SPEC>;

/** McMahan et al. 2017's 2NN: two hidden layers of 200 ReLU units; also the default. */
const TWO_NN = [200, 200];

const PRESET_LAYERS: Record<NonNullable<MlpSpec['preset']>, number[]> = { '2nn': TWO_NN, 'mnist-128': [128] };

function hiddenLayers(spec: MlpSpec): number[] {
  return spec.preset ? PRESET_LAYERS[spec.preset] : (spec.hidden ?? TWO_NN);
}

export const MLP = {
  name: 'mlp',
  description:
    "multilayer perceptron: dense hidden layers (default 200-200 ReLU; preset 2nn is McMahan et al. 2017's 2NN, mnist-128 the documents' 784-128-10), softmax output",
  schema: SPEC,
  presets: SPEC.shape.preset.unwrap().options,
  suits: 'mnist',
  build: (tf, spec, shape) =>
    tf.sequential({
      name: spec.name,
      layers: [
        flattenInput(tf, shape),
        ...hiddenLayers(spec).map((units, i) => tf.layers.dense({ units, activation: spec.activation ?? 'relu', name: `hidden${i + 1}` })),
        tf.layers.dense({ units: shape.numClasses, activation: 'softmax', name: 'softmax' }),
      ],
    }),
  problems: (spec, shape, datasetName) => {
    const problems = classifierProblems(spec.name, shape, datasetName);
    if (spec.preset && spec.hidden !== undefined) {
      problems.push(
        `model.hidden: the ${spec.preset} preset fixes the hidden layers at [${PRESET_LAYERS[spec.preset].join(', ')}] (got [${spec.hidden.join(', ')}], expected no hidden with preset: ${spec.preset})`,
      );
    }
    return problems;
  },
  parameterCount: (spec, shape) => denseChainParameters([featureCount(shape), ...hiddenLayers(spec), shape.numClasses]),
  layers: (spec) => [...hiddenLayers(spec).map((_, i) => `hidden${i + 1}`), 'softmax'],
  describe: (spec, shape) => {
    const { inputs, classes } = sizeWords(shape);
    const name = spec.preset === '2nn' ? 'MLP 2NN (McMahan et al. 2017)' : 'MLP';
    return `${name} ${[inputs, ...hiddenLayers(spec), classes].join('-')}, ${spec.activation ?? 'relu'} hidden, softmax output`;
  },
} satisfies ModelEntry<MlpSpec>;
