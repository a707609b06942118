/**
 * In-memory datasets. Samples are rows of one flat Float32Array per split, the layout tfjs
 * tensors are built from without copying element by element.
 */
import type { DataShape } from './data-shape.js';

export interface DataSplit {
  /** count × featureSize, row-major. */
  features: Float32Array;
  /** One per sample: the class index (as a float) for classification, the target for regression. */
  labels: Float32Array;
  count: number;
}

export interface Dataset {
  name: string;
  task: 'classification' | 'regression';
  /** Per sample, e.g. [28, 28, 1] for MNIST, [13] for Boston housing, [60] for synthetic. */
  featureShape: number[];
  /** Product of featureShape. */
  featureSize: number;
  /** 0 for regression. */
  numClasses: number;
  train: DataSplit;
  test: DataSplit;
  /** Datasets that come already federated (synthetic: one generator per client): train indices per client. */
  naturalPartition?: number[][];
  /** With naturalPartition: each client's name (Shakespeare's "hamlet/Ophelia"). */
  clientNames?: string[];
  /** Text: features are token ids below this. */
  vocabulary?: number;
  /** Ids: feature j is a category id below categories[j] (ratings: [users, items]). */
  categories?: number[];
  /** One line for logs, naming the source package. */
  description: string;
}

/** What a model sees of the loaded data (the same as its entry's dataShape from the scenario). */
export function shapeOfDataset(dataset: Dataset): DataShape {
  return {
    task: dataset.task,
    featureShape: dataset.featureShape,
    numClasses: dataset.numClasses,
    ...(dataset.vocabulary !== undefined ? { vocabulary: dataset.vocabulary } : {}),
    ...(dataset.categories !== undefined ? { categories: dataset.categories } : {}),
  };
}

/** The rows at `indices`, copied, so a client's data stays valid whatever happens to the source. */
export function subset(split: DataSplit, featureSize: number, indices: ArrayLike<number>): DataSplit {
  const count = indices.length;
  const features = new Float32Array(count * featureSize);
  const labels = new Float32Array(count);
  for (let r = 0; r < count; r++) {
    const i = indices[r]!;
    if (!Number.isInteger(i) || i < 0 || i >= split.count) {
      throw new RangeError(`subset: row index out of range (got ${i}, expected an integer in [0, ${split.count}))`);
    }
    features.set(split.features.subarray(i * featureSize, (i + 1) * featureSize), r * featureSize);
    labels[r] = split.labels[i]!;
  }
  return { features, labels, count };
}

/**
 * Sample indices grouped by class, in index order. Throws if a label is not a class index, which
 * would otherwise silently corrupt label-based partitions and histograms.
 */
export function indicesByClass(split: DataSplit, numClasses: number): number[][] {
  const groups = Array.from({ length: numClasses }, () => [] as number[]);
  for (let i = 0; i < split.count; i++) {
    const label = split.labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new RangeError(`label of sample ${i} is not a class index (got ${label}, expected an integer in [0, ${numClasses}))`);
    }
    groups[label]!.push(i);
  }
  return groups;
}
