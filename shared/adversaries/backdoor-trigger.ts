/**
 * The backdoor's pixel-pattern trigger (Gu et al. 2017's BadNets pattern, as used by Bagdasaryan
 * et al. 2020 and Sun et al. 2019 on MNIST): a small square or checkerboard stamped into one
 * corner of an image, mapped to a target class. Both sides use it: attacking clients stamp
 * their poisoned samples, and the coordinator's evaluation stamps the test set to measure the
 * attack success rate (the share of triggered test images of other classes that the global
 * model classifies as the target).
 */
import { z } from 'zod';
import type { DataSplit } from '../data/dataset.js';
import type { DataShape } from '../data/data-shape.js';

export const TRIGGER_SPEC = z.strictObject({
  /** square: every trigger pixel set to `value`; checkerboard: alternate pixels. */
  pattern: z.enum(['square', 'checkerboard']).default('square'),
  /** Side of the trigger in pixels. */
  size: z.number().int().min(1).max(16).default(4),
  /** The stamped pixel value (MNIST's pixels are scaled to [0, 1]). */
  value: z.number().default(1),
  corner: z.enum(['bottom-right', 'bottom-left', 'top-right', 'top-left']).default('bottom-right'),
  /** Pixels between the trigger and the image's edges. */
  margin: z.number().int().min(0).default(1),
});

export const DEFAULT_TRIGGER = { pattern: 'square', size: 4, value: 1, corner: 'bottom-right', margin: 1 } as const;

/** The options every backdoor carries (the backdoor attack's own, and model replacement's). */
export const BACKDOOR_SPEC = z.strictObject({
  /** The class triggered images are to be classified as. */
  targetClass: z.number().int().min(0).default(0),
  /** The share of the attacker's samples stamped and relabelled (the rest stay clean, so the main task still trains). */
  poisonedFraction: z.number().gt(0).max(1).default(0.5),
  trigger: TRIGGER_SPEC.default(DEFAULT_TRIGGER),
});

export type TriggerSpec = z.output<typeof TRIGGER_SPEC>;
export type BackdoorSpec = z.output<typeof BACKDOOR_SPEC>;

/** Stamps the trigger into sample `row` of a row-major [height, width, channels] image split, in place. */
export function stampTrigger(features: Float32Array, row: number, featureShape: readonly number[], trigger: TriggerSpec): void {
  const [height, width, channels = 1] = featureShape as [number, number, number?];
  const top = trigger.corner.startsWith('top') ? trigger.margin : height - trigger.margin - trigger.size;
  const left = trigger.corner.endsWith('left') ? trigger.margin : width - trigger.margin - trigger.size;
  const base = row * height * width * channels;
  for (let dy = 0; dy < trigger.size; dy++) {
    for (let dx = 0; dx < trigger.size; dx++) {
      if (trigger.pattern === 'checkerboard' && (dx + dy) % 2 === 1) continue;
      const pixel = base + ((top + dy) * width + (left + dx)) * channels;
      for (let c = 0; c < channels; c++) features[pixel + c] = trigger.value;
    }
  }
}

/** A copy of `data` with the given rows stamped and relabelled to the target class. */
export function poisonRows(data: DataSplit, rows: readonly number[], featureShape: readonly number[], backdoor: BackdoorSpec): DataSplit {
  const features = Float32Array.from(data.features);
  const labels = Float32Array.from(data.labels);
  for (const row of rows) {
    stampTrigger(features, row, featureShape, backdoor.trigger);
    labels[row] = backdoor.targetClass;
  }
  return { features, labels, count: data.count };
}

/**
 * The test images of every class but the target, stamped and labelled as the target: a model's
 * accuracy on this split is the backdoor's attack success rate.
 */
export function triggeredTestSplit(test: DataSplit, featureShape: readonly number[], backdoor: BackdoorSpec): DataSplit {
  const featureSize = featureShape.reduce((a, b) => a * b, 1);
  const keep: number[] = [];
  for (let i = 0; i < test.count; i++) if (test.labels[i] !== backdoor.targetClass) keep.push(i);
  const features = new Float32Array(keep.length * featureSize);
  keep.forEach((source, row) => {
    features.set(test.features.subarray(source * featureSize, (source + 1) * featureSize), row * featureSize);
    stampTrigger(features, row, featureShape, backdoor.trigger);
  });
  return { features, labels: new Float32Array(keep.length).fill(backdoor.targetClass), count: keep.length };
}

/** What a backdoor needs of the data: images (height × width × channels) with the target among the classes. */
export function backdoorProblems(backdoor: BackdoorSpec, shape: DataShape, dataset: string, path: string): string[] {
  if (shape.task !== 'classification' || shape.featureShape.length !== 3) {
    return [
      `${path}: a pixel-pattern trigger needs an image dataset (got ${dataset}, features [${shape.featureShape.join(', ')}], expected height × width × channels images such as mnist)`,
    ];
  }
  const problems: string[] = [];
  if (backdoor.targetClass >= shape.numClasses) {
    problems.push(`${path}.targetClass: not a class of ${dataset} (got ${backdoor.targetClass}, expected 0 to ${shape.numClasses - 1})`);
  }
  const [height, width] = shape.featureShape as [number, number];
  const reach = backdoor.trigger.size + backdoor.trigger.margin;
  if (reach > Math.min(height, width)) {
    problems.push(
      `${path}.trigger: size + margin must fit the ${height} × ${width} image (got ${backdoor.trigger.size} + ${backdoor.trigger.margin}, expected at most ${Math.min(height, width)})`,
    );
  }
  return problems;
}
