/** What an attack file registers: its scenario options (`adversaries.attack`) and factory. */
import type { z } from 'zod';
import type { DataShape } from '../../shared/data/data-shape.js';
import type { RegistryEntry, ValidatedOptions } from '../../shared/registry/registry.js';
import type { Attack } from './attack.js';

export interface AttackEntry extends RegistryEntry {
  readonly schema: z.ZodObject;
  /**
   * `required`: the attack needs the benign statistics of several clients (ALIE, min-max);
   * `none`: it poisons each attacker's own data, so collusion would change nothing.
   */
  readonly collusion: 'required' | 'optional' | 'none';
  /** What the options need of the dataset: `adversaries.attack.<field>: … (got …, expected …)` lines. */
  dataProblems?(spec: ValidatedOptions, shape: DataShape, dataset: string): string[];
  /** `spec`: the scenario's `adversaries.attack` block, already validated against `schema`. */
  create(spec: ValidatedOptions): Attack;
}
