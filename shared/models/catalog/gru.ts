/**
 * GRU next-token model (shared/models/recurrent-network.ts): preset shakespeare is the FedAvg
 * paper's (embedding 8, two layers of 256), small one layer of 64; or choose embedding and layers.
 */
import { buildRecurrent, describeRecurrent, recurrentParameters, recurrentProblems, recurrentSpec, type RecurrentSpec } from '../recurrent-network.js';
import type { ModelEntry } from '../model-entry.js';

const SPEC = recurrentSpec('gru');

export const GRU = {
  name: 'gru',
  description: "GRU next-token model: embedding, stacked GRU layers, softmax (presets shakespeare: 8, 256-256, the FedAvg paper's; small: 8, 64)",
  schema: SPEC,
  presets: SPEC.shape.preset.unwrap().options,
  suits: 'shakespeare',
  build: (tf, spec, shape) => buildRecurrent(tf, 'gru', spec, shape),
  problems: (spec, shape, datasetName) => recurrentProblems(spec, shape, datasetName),
  parameterCount: (spec, shape) => recurrentParameters('gru', spec, shape),
  describe: (spec, shape) => describeRecurrent('gru', spec, shape),
} satisfies ModelEntry<RecurrentSpec>;
