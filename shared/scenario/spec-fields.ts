/** zod fields that the scenario sections and the registries' entries share. */
import { z } from 'zod';

export const positiveInt = z.number().int().min(1);
export const probability = z.number().gt(0).lt(1);
