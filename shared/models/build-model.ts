/** The models of fedsim's source documents, as tfjs layers models, from the model registry. */
import type { DataShape } from '../data/data-shape.js';
import { DATASETS, dataShapeOf, type DatasetSpec } from '../data/registry.js';
import * as tf from '../tf.js';
import { checkModelFitsData, MODELS, type ModelSpec } from './registry.js';

export { MODEL_NAMES, checkModelFitsData, describeModel } from './registry.js';

export function buildModel(spec: ModelSpec, shape: DataShape): tf.LayersModel {
  const problems = checkModelFitsData(spec, shape);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return MODELS.get(spec.name).build(tf, spec, shape);
}

/** A model with its default options on the dataset it suits: what `fedsim models` counts. */
export function buildOnSuitedData(name: string, preset?: string): { dataset: string; model: tf.LayersModel } {
  const entry = MODELS.get(name);
  // Each entry's own fragment parses its default spec, so the spec fits that entry.
  const spec = entry.schema.parse(preset ? { name, preset } : { name }) as ModelSpec;
  const datasetOptions = (preset && entry.presetData?.[preset]) || { name: entry.suits };
  const dataset = DATASETS.get(datasetOptions.name);
  // 100 clients for data generated per client (synthetic ratings: one user each).
  const shape = dataShapeOf(dataset.schema.parse(datasetOptions) as DatasetSpec, { clients: 100 });
  return { dataset: dataset.name, model: buildModel(spec, shape) };
}
