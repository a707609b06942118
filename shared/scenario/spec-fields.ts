/** zod fields that the scenario sections and the registries' entries share. */
import { z } from 'zod';

export const positiveInt = z.number().int().min(1);
export const probability = z.number().gt(0).lt(1);

/** Node's timers hold at most 2^31 − 1 ms (about 24.8 days); a longer delay fires after 1 ms. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** A duration in seconds that ends up in a timer. */
export const timerSeconds = z.number().gt(0).max(MAX_TIMER_SECONDS);
