/**
 * What a dataset looks like to a model, known from the scenario alone (no loading), so scenario
 * validation and model building can check fit before any data is read.
 */
export interface DataShape {
  task: 'classification' | 'regression';
  /** One sample's features, e.g. [28, 28, 1] for MNIST. */
  featureShape: number[];
  /** 0 for regression. */
  numClasses: number;
  /** Text: the features are token ids below this (a sequence model embeds them); absent otherwise. */
  vocabulary?: number;
  /** Ids: feature j is a category id below categories[j] (ratings: [users, items]); absent otherwise. */
  categories?: number[];
}

/** Next-token prediction: the classes are the tokens (language models; perplexity is their figure). */
export function predictsNextToken(shape: DataShape): boolean {
  return shape.vocabulary !== undefined && shape.numClasses === shape.vocabulary;
}

/** Two-class classification (sentiment, spam): AUC is its figure beside accuracy. */
export function isBinaryClassification(shape: DataShape): boolean {
  return shape.task === 'classification' && shape.numClasses === 2;
}
