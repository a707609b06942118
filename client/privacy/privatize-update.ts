/**
 * What a client does to its update before it leaves the worker in a DP run: clip it to the
 * round's clip norm and, under local DP, add its own Gaussian noise, so that what crosses the
 * bus is already private without trusting the coordinator.
 */
import { clipToNorm } from '../../shared/privacy/clip.js';
import { addGaussianNoise } from '../../shared/privacy/gaussian-noise.js';
import type { Rng } from '../../shared/random.js';

export interface TaskPrivacy {
  clipNorm: number;
  localNoiseStd?: number;
}

export interface Privatized {
  update: Float32Array;
  /** Inside the clip norm before clipping: the bit adaptive clipping aggregates. */
  unclipped: boolean;
}

/** Clips (and under local DP noises) `update` in place. */
export function privatizeUpdate(update: Float32Array, privacy: TaskPrivacy, rng: Rng): Privatized {
  const { unclipped } = clipToNorm(update, privacy.clipNorm);
  if (privacy.localNoiseStd !== undefined && privacy.localNoiseStd > 0) addGaussianNoise(update, privacy.localNoiseStd, rng);
  return { update, unclipped };
}
