/** Server-side evaluation of the global model on the held-out test set. */
import type { DataSplit } from '../../shared/data/dataset.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import { buildModel } from '../../shared/models/build-model.js';
import { setFlatWeights } from '../../shared/models/parameters.js';
import type { ModelSpec } from '../../shared/scenario/schema.js';
import type { LayersModel } from '../../shared/tf.js';
import { evaluateModel, type EvaluationResult } from '../../shared/models/evaluate-model.js';

export type Evaluation = EvaluationResult;

export interface GlobalEvaluator {
  evaluate(weights: Float32Array): Promise<Evaluation>;
}

export class TestSetEvaluator implements GlobalEvaluator {
  readonly model: LayersModel;

  constructor(
    spec: ModelSpec,
    private readonly shape: DataShape,
    private readonly test: DataSplit,
  ) {
    this.model = buildModel(spec, shape);
  }

  async evaluate(weights: Float32Array): Promise<Evaluation> {
    setFlatWeights(this.model, weights);
    return evaluateModel(this.model, this.test, this.shape);
  }
}
