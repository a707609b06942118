/** The models of fedsim's source documents, as tfjs layers models, from the model registry. */
import type { DataShape } from '../data/data-shape.js';
import * as tf from '../tf.js';
import { checkModelFitsData, MODELS, type ModelSpec } from './registry.js';

export { MODEL_NAMES, checkModelFitsData, describeModel } from './registry.js';

export function buildModel(spec: ModelSpec, shape: DataShape): tf.LayersModel {
  const problems = checkModelFitsData(spec, shape);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return MODELS.get(spec.name).build(tf, spec, shape);
}
