/**
 * What a partitioner file registers: its scenario options (a zod fragment, `partition.kind` its
 * discriminator; every kind has `clients`), and the split itself, which checks its own
 * parameters first, each failure worded as `partition.<field>: … (got X, expected Y)`.
 */
import { z } from 'zod';
import type { Dataset } from '../data/dataset.js';
import type { Rng } from '../random.js';
import type { RegistryEntry } from '../registry/registry.js';
import { positiveInt } from '../scenario/spec-fields.js';

/** The strictObject of one kind's options: its kind, the client count, and its own. */
export function partitionOptions<K extends string, S extends z.ZodRawShape>(kind: K, own: S) {
  return z.strictObject({ kind: z.literal(kind), clients: positiveInt, ...own });
}

export interface PartitionerEntry<Spec extends { kind: string; clients: number } = { kind: string; clients: number }> extends RegistryEntry {
  readonly schema: z.ZodObject;
  /** Client id → indices into dataset.train; `spec.clients` is already checked. */
  partition(dataset: Dataset, spec: Spec, rng: Rng): number[][];
}
