/** The data requirements several models share, worded as scenario validation problems. */
import type { DataShape } from '../data/data-shape.js';

export function regressionProblems(model: string, shape: DataShape, datasetName: string): string[] {
  if (shape.task === 'regression') return [];
  return [`model.name: ${model} predicts a number (got classification dataset ${datasetName}, expected a regression dataset such as boston-housing)`];
}

export function classifierProblems(model: string, shape: DataShape, datasetName: string): string[] {
  if (shape.task === 'regression') return [`model.name: ${model} is a classifier (got regression dataset ${datasetName}, expected linear-regression)`];
  if (!(Number.isInteger(shape.numClasses) && shape.numClasses >= 2)) {
    return [`model.name: ${model} needs at least 2 classes (got ${shape.numClasses} in ${datasetName}, expected 2 or more)`];
  }
  return [];
}

/**
 * Images of at least 4×4: any smaller and a pooling layer is left with no pixels, which tfjs
 * reports deep inside the build (cnn halves twice with 'same' convs; cnn-small loses 2 to its
 * 'valid' 3×3 conv, then halves).
 */
export function imageClassifierProblems(model: string, shape: DataShape, datasetName: string): string[] {
  const problems = classifierProblems(model, shape, datasetName);
  if (shape.featureShape.length !== 3) {
    problems.push(
      `model.name: ${model} needs image data of shape [height, width, channels] (got ${datasetName} with features [${shape.featureShape.join(', ')}], expected mnist)`,
    );
    return problems;
  }
  const minSide = 4;
  const [height, width] = shape.featureShape as [number, number, number];
  if (height < minSide || width < minSide) {
    problems.push(
      `model.name: ${model} needs images of at least ${minSide}×${minSide} pixels (got ${height}×${width} in ${datasetName}, expected ${minSide}×${minSide} or larger)`,
    );
  }
  return problems;
}

/** The sizes in a description: real ones when the data shape is known, placeholders before. */
export function sizeWords(shape: DataShape | undefined): { inputs: string; classes: string } {
  return shape ? { inputs: String(featureCount(shape)), classes: String(shape.numClasses) } : { inputs: 'in', classes: 'classes' };
}

export function featureCount(shape: DataShape): number {
  return shape.featureShape.reduce((a, b) => a * b, 1);
}

/** Weights and biases of dense layers from sizes[0] inputs through each next size. */
export function denseChainParameters(sizes: readonly number[]): number {
  let count = 0;
  for (let i = 1; i < sizes.length; i++) count += (sizes[i - 1]! + 1) * sizes[i]!;
  return count;
}
