/** Server-side evaluation of the global model on the held-out test set. */
import type { DataSplit } from '../../shared/data/dataset.js';
import { predictsNextToken, type DataShape } from '../../shared/data/data-shape.js';
import { buildModel } from '../../shared/models/build-model.js';
import { setFlatWeights } from '../../shared/models/parameters.js';
import type { ModelSpec } from '../../shared/scenario/schema.js';
import type { LayersModel } from '../../shared/tf.js';
import { evaluateModel, type EvaluationResult } from '../../shared/models/evaluate-model.js';
import { hitRateAt10 } from '../../shared/models/rating-ranking.js';

export interface Evaluation extends EvaluationResult {
  /** Runs with a backdoor: the share of triggered test images of other classes classified as the target. */
  attackSuccessRate?: number;
  /** Next-token data: e^(test loss), the language-modelling figure. */
  perplexity?: number;
}

export interface GlobalEvaluator {
  evaluate(weights: Float32Array): Promise<Evaluation>;
}

export class TestSetEvaluator implements GlobalEvaluator {
  readonly model: LayersModel;

  constructor(
    spec: ModelSpec,
    private readonly shape: DataShape,
    private readonly test: DataSplit,
    /** The triggered test split of a backdoor run (shared/adversaries/backdoor-trigger.ts), scored too. */
    private readonly triggered: DataSplit | null = null,
    /** Ratings: the training ratings, which the hit rate's ranking leaves out. */
    private readonly rated: DataSplit | null = null,
  ) {
    this.model = buildModel(spec, shape);
  }

  async evaluate(weights: Float32Array): Promise<Evaluation> {
    setFlatWeights(this.model, weights);
    const evaluation: Evaluation = await evaluateModel(this.model, this.test, this.shape);
    if (this.triggered) evaluation.attackSuccessRate = (await evaluateModel(this.model, this.triggered, this.shape)).accuracy!;
    const hitRate = this.rated ? hitRateAt10(this.model, this.test, this.rated, this.shape) : null;
    if (hitRate !== null) evaluation.hitRate10 = hitRate;
    if (predictsNextToken(this.shape)) evaluation.perplexity = Math.exp(evaluation.loss);
    return evaluation;
  }
}
