/**
 * What a model file registers: its scenario options (a zod fragment, `model.name` its
 * discriminator), how to build it, what data it can take, and how to describe it.
 *
 * Scenario validation and `fedsim models` read the catalogue, and importing TensorFlow.js alone
 * takes over a second, so a model file never imports tfjs: `build` is handed it.
 */
import type { z } from 'zod';
import type { DataShape } from '../data/data-shape.js';
import type { RegistryEntry } from '../registry/registry.js';
import type * as tfjs from '../tf.js';

export type Tf = typeof tfjs;

export interface ModelEntry<Spec extends { name: string } = { name: string }> extends RegistryEntry {
  readonly schema: z.ZodObject;
  /** Named fixed architectures (`model.preset`); `fedsim models` counts each one's parameters too. */
  readonly presets?: readonly string[];
  /** The dataset this model is meant for by default; `fedsim models` counts its parameters on it. */
  readonly suits: string;
  /** Presets meant for other data than `suits` (binary-10: three features, two classes): the dataset options each is counted on. */
  readonly presetData?: Readonly<Record<string, { name: string } & Record<string, unknown>>>;
  /**
   * Layers are named explicitly: tfjs' automatic names carry process-wide counters, and two builds
   * of one model must have the same parameter layout in every process.
   */
  build(tf: Tf, spec: Spec, shape: DataShape): tfjs.LayersModel;
  /**
   * Why the model cannot take this data (or this spec), as `model.<field>: problem (got X,
   * expected Y)` lines; [] when it can. Shared by scenario validation and buildModel.
   */
  problems(spec: Spec, shape: DataShape, datasetName: string): string[];
  /**
   * Trainable parameters, by arithmetic (no tfjs), for models whose size the scenario chooses:
   * validation holds it against the memory budget before anything is allocated.
   */
  parameterCount?(spec: Spec, shape: DataShape): number;
  /**
   * The names of its layers that hold weights, in order, without building it: what
   * `strategy.localLayers` may name, checked at validation (a test holds it to the built model).
   */
  layers(spec: Spec): string[];
  /** One line for logs and summaries: the architecture, with layer sizes when the shape is known. */
  describe(spec: Spec, shape?: DataShape): string;
}
