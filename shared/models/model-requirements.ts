/**
 * Which models exist, what each is and what data it can take; free of tfjs, so scenario
 * validation stays fast.
 */
import type { DataShape } from '../data/data-shape.js';
import type { ModelSpec } from '../scenario/schema.js';

export const MODEL_NAMES = ['linear-regression', 'logistic-regression', 'mlp', 'cnn', 'cnn-small'] as const;

/**
 * Why a model cannot take this data, as `model.name: problem (got X, expected Y)` lines. Shared
 * by scenario validation (which knows the dataset's name) and buildModel.
 */
export function checkModelFitsData(spec: ModelSpec, shape: DataShape, datasetName = 'this dataset'): string[] {
  const problems: string[] = [];
  const isRegressionModel = spec.name === 'linear-regression';
  if (isRegressionModel && shape.task !== 'regression') {
    problems.push(`model.name: linear-regression predicts a number (got classification dataset ${datasetName}, expected a regression dataset such as boston-housing)`);
  }
  if (!isRegressionModel && shape.task === 'regression') {
    problems.push(`model.name: ${spec.name} is a classifier (got regression dataset ${datasetName}, expected linear-regression)`);
  }
  if (!isRegressionModel && shape.task === 'classification' && !(Number.isInteger(shape.numClasses) && shape.numClasses >= 2)) {
    problems.push(`model.name: ${spec.name} needs at least 2 classes (got ${shape.numClasses} in ${datasetName}, expected 2 or more)`);
  }
  const isCnn = spec.name === 'cnn' || spec.name === 'cnn-small';
  if (isCnn && shape.featureShape.length !== 3) {
    problems.push(`model.name: ${spec.name} needs image data of shape [height, width, channels] (got ${datasetName} with features [${shape.featureShape.join(', ')}], expected mnist)`);
  } else if (isCnn) {
    // Any smaller and a pooling layer is left with no pixels, which tfjs reports deep inside the
    // build: cnn halves twice ('same' convs), cnn-small loses 2 to its 'valid' 3×3 conv, then halves.
    const minSide = 4;
    const [height, width] = shape.featureShape as [number, number, number];
    if (height < minSide || width < minSide) {
      problems.push(`model.name: ${spec.name} needs images of at least ${minSide}×${minSide} pixels (got ${height}×${width} in ${datasetName}, expected ${minSide}×${minSide} or larger)`);
    }
  }
  return problems;
}

/** One line for logs and summaries: the architecture, with layer sizes when the data shape is known. */
export function describeModel(spec: ModelSpec, shape?: DataShape): string {
  const inputs = shape ? String(shape.featureShape.reduce((a, b) => a * b, 1)) : 'in';
  const classes = shape ? String(shape.numClasses) : 'classes';
  switch (spec.name) {
    case 'linear-regression':
      return `linear regression (dense ${inputs}→1, MSE)`;
    case 'logistic-regression':
      return `logistic regression (dense ${inputs}→${classes} softmax, cross-entropy)`;
    case 'mlp': {
      const hidden = spec.preset === '2nn' ? [200, 200] : (spec.hidden ?? [200, 200]);
      const name = spec.preset === '2nn' ? 'MLP 2NN (McMahan et al. 2017)' : 'MLP';
      return `${name} ${[inputs, ...hidden, classes].join('-')}, ${spec.activation ?? 'relu'} hidden, softmax output`;
    }
    case 'cnn':
      return `CNN (McMahan et al. 2017): conv 5×5×32 same relu, maxpool 2×2, conv 5×5×64 same relu, maxpool 2×2, dense 512 relu, dense ${classes} softmax`;
    case 'cnn-small':
      return `small CNN: conv 3×3×32 valid relu, maxpool 2×2, dense 128 relu, dense ${classes} softmax`;
  }
}
