/**
 * A named catalogue of interchangeable parts (models, datasets, partitioners, strategies,
 * aggregators). Every entry lives in its own file and is listed once in its kind's registry
 * file; the scenario schema, `fedsim models|datasets|strategies` and the engine all read the
 * registry, so adding a part is one new file plus one line.
 */
export interface RegistryEntry {
  /** The value scenarios use (`model.name: cnn`). */
  readonly name: string;
  /** One line for `fedsim <kind>s` and error messages. */
  readonly description: string;
}

/** A scenario block that passed its entry's schema (the entry reads it as its own spec type). */
export type ValidatedOptions = { name: string } & Record<string, unknown>;

export class Registry<E extends RegistryEntry> {
  private readonly byName: ReadonlyMap<string, E>;

  /** `kind` names the scenario field, e.g. "model.name", for error messages. */
  constructor(
    readonly kind: string,
    entries: readonly E[],
  ) {
    const byName = new Map<string, E>();
    for (const entry of entries) {
      if (byName.has(entry.name)) throw new Error(`${kind}: "${entry.name}" is registered twice`);
      byName.set(entry.name, entry);
    }
    this.byName = byName;
  }

  /** The entry, or an error that names the field, the value and what exists. */
  get(name: string): E {
    const entry = this.byName.get(name);
    if (!entry) throw new Error(`${this.kind}: unknown (got ${JSON.stringify(name)}, expected one of ${this.names().join(', ')})`);
    return entry;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  entries(): E[] {
    return [...this.byName.values()];
  }
}
