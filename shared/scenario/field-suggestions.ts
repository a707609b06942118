/**
 * "Did you mean": the fields a schema allows at a path of a parsed file, and the one an unknown
 * key was most likely meant to be. A misspelt field is the commonest mistake in a hand-written
 * scenario, and zod's own message names only the key it did not expect.
 */
import type { z } from 'zod';

/** The zod definition fields this walk reads; the rest of a definition does not matter here. */
interface SchemaDefinition {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  element?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  discriminator?: string;
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'nonoptional', 'readonly', 'catch']);

/**
 * The field names of the mapping at `path` (as zod issues give it), or [] when the schema has no
 * fixed fields there. Of a discriminated union, the variant the file's own discriminator picks.
 */
export function fieldsAt(schema: z.core.$ZodType, path: readonly PropertyKey[], raw: unknown): string[] {
  const node = mappingSchemaAt(schema, path, raw);
  return node?.shape ? Object.keys(node.shape) : [];
}

function mappingSchemaAt(schema: z.core.$ZodType, path: readonly PropertyKey[], raw: unknown): SchemaDefinition | null {
  const def = unwrap(schema, raw);
  if (def === null) return null;
  if (path.length === 0) return def;
  const [key, ...rest] = path;
  const child = childValue(raw, key!);
  if (def.type === 'object' && def.shape) {
    const field = def.shape[String(key)];
    return field ? mappingSchemaAt(field, rest, child) : null;
  }
  if (def.type === 'array' && def.element) return mappingSchemaAt(def.element, rest, child);
  if (def.type === 'record' && def.valueType) return mappingSchemaAt(def.valueType, rest, child);
  return null;
}

/** Down to the schema that parses the value itself: wrappers off, the matching union variant picked. */
function unwrap(schema: z.core.$ZodType, raw: unknown): SchemaDefinition | null {
  let def = schema._zod.def as unknown as SchemaDefinition;
  for (;;) {
    if (WRAPPERS.has(def.type) && def.innerType) def = def.innerType._zod.def;
    else if (def.type === 'pipe' && def.in) def = def.in._zod.def;
    else if (def.type === 'union' && def.options) {
      const chosen = unionVariant(def, raw);
      if (chosen === null) return null;
      def = chosen;
    } else return def;
  }
}

function unionVariant(union: SchemaDefinition, raw: unknown): SchemaDefinition | null {
  const variants = (union.options ?? []).map((option) => unwrap(option, raw)).filter((d): d is SchemaDefinition => d?.type === 'object');
  if (union.discriminator === undefined) return variants.length === 1 ? variants[0]! : null;
  const wanted = childValue(raw, union.discriminator);
  return variants.find((variant) => literalValues(variant.shape?.[union.discriminator!]).includes(wanted)) ?? null;
}

function literalValues(schema: z.core.$ZodType | undefined): unknown[] {
  const def = schema?._zod.def as { type?: string; values?: unknown[] } | undefined;
  return def?.type === 'literal' && Array.isArray(def.values) ? def.values : [];
}

function childValue(raw: unknown, key: PropertyKey): unknown {
  return raw !== null && typeof raw === 'object' ? (raw as Record<PropertyKey, unknown>)[key] : undefined;
}

/**
 * The allowed field an unknown key was most likely meant to be: the closest by edit distance
 * (a swap of neighbours counts as one edit, so `modle` is one from `model`), ignoring case, if
 * it is close enough for the key's length to be a slip rather than a different word.
 */
export function closestField(key: string, fields: readonly string[]): string | null {
  const allowed = Math.max(1, Math.floor(key.length / 3));
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const field of fields) {
    const distance = editDistance(key.toLowerCase(), field.toLowerCase());
    if (distance < bestDistance) {
      best = field;
      bestDistance = distance;
    }
  }
  return bestDistance <= allowed ? best : null;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
