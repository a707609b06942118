/** The models a scenario can name (`model.name`): one file each in catalog/, one line here. */
import type { z } from 'zod';
import type { DataShape } from '../data/data-shape.js';
import { Registry } from '../registry/registry.js';
import { fragmentsOf } from '../registry/schema-fragments.js';
import { CNN_SMALL } from './catalog/cnn-small.js';
import { CNN } from './catalog/cnn.js';
import { GRU } from './catalog/gru.js';
import { LINEAR_REGRESSION } from './catalog/linear-regression.js';
import { LOGISTIC_REGRESSION } from './catalog/logistic-regression.js';
import { LSTM } from './catalog/lstm.js';
import { MATRIX_FACTORIZATION } from './catalog/matrix-factorization.js';
import { MLP } from './catalog/mlp.js';
import { TRANSFORMER } from './catalog/transformer.js';
import type { ModelEntry } from './model-entry.js';

const ENTRIES = [LINEAR_REGRESSION, LOGISTIC_REGRESSION, MLP, CNN, CNN_SMALL, LSTM, GRU, TRANSFORMER, MATRIX_FACTORIZATION] as const;

export const MODELS = new Registry<ModelEntry>('model.name', ENTRIES);
/** Each model's `model:` options, for the scenario schema's union. */
export const MODEL_FRAGMENTS = fragmentsOf(ENTRIES);
export type ModelSpec = z.output<(typeof MODEL_FRAGMENTS)[number]>;
export const MODEL_NAMES: readonly string[] = MODELS.names();

/** Why the model cannot take this data, as `model.<field>: problem (got X, expected Y)` lines. */
export function checkModelFitsData(spec: ModelSpec, shape: DataShape, datasetName = 'this dataset'): string[] {
  return MODELS.get(spec.name).problems(spec, shape, datasetName);
}

/** Undefined for models of a fixed architecture, whose size no scenario field changes. */
export function parameterCountOf(spec: ModelSpec, shape: DataShape): number | undefined {
  return MODELS.get(spec.name).parameterCount?.(spec, shape);
}

/** The model's layers that hold weights (what strategy.localLayers names). */
export function layerNamesOf(spec: ModelSpec): string[] {
  return MODELS.get(spec.name).layers(spec);
}

export function describeModel(spec: ModelSpec, shape?: DataShape): string {
  return MODELS.get(spec.name).describe(spec, shape);
}
