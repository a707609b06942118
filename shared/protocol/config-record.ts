/**
 * The config record a strategy sends every client with its task (in the manner of Flower's
 * ConfigRecord): flat, named scalars, strings and short number lists. Anything model-sized
 * travels as a named vector beside the global model instead, so the task stays small.
 */
import { z } from 'zod';

export type ConfigValue = number | boolean | string | number[];
export type ConfigRecord = Record<string, ConfigValue>;

const KEY = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'expected a name of letters, digits, "_", "." or "-" (at most 64)');
const VALUE = z.union([
  z.number().refine(Number.isFinite, 'expected a finite number'),
  z.boolean(),
  z.string().max(256),
  z.array(z.number().refine(Number.isFinite)).max(1024),
]);

export const CONFIG_RECORD = z.record(KEY, VALUE).refine((record) => Object.keys(record).length <= 64, 'expected at most 64 entries');

/** Names of round vectors a task asks the worker to fetch. */
export const VECTOR_NAME = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'expected a vector name of letters, digits, "_" or "-"');
