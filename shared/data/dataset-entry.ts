/**
 * What a dataset file registers: its scenario options (a zod fragment, `dataset.name` its
 * discriminator), its shape from the options alone, and how to load it.
 */
import type { z } from 'zod';
import type { Rng } from '../random.js';
import type { RegistryEntry } from '../registry/registry.js';
import type { DataShape } from './data-shape.js';
import type { Dataset } from './dataset.js';

/** What a dataset may need from the rest of the scenario. */
export interface DatasetContext {
  /** partition.clients: a dataset generated client by client (synthetic) makes this many. */
  clients: number;
}

export interface DatasetEntry<Spec extends { name: string } = { name: string }> extends RegistryEntry {
  readonly schema: z.ZodObject;
  /** Without loading, so that scenario validation checks the model's fit before any data is read. */
  dataShape(spec: Spec, context: DatasetContext): DataShape;
  /** The data has its own clients (partition.kind natural): synthetic's generators, Shakespeare's roles. */
  readonly comesFederated?: boolean;
  /** Training samples, from the options alone; absent where the data is generated per client. */
  trainSamples?(spec: Spec): number;
  /**
   * Deterministic in (spec, context, rng): the coordinator and every worker load on their own and
   * must get identical data.
   */
  load(spec: Spec, context: DatasetContext, rng: Rng): Dataset | Promise<Dataset>;
}
