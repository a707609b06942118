/**
 * A registry's entries as the scenario schema needs them: `z.discriminatedUnion` takes a
 * non-empty tuple of zod objects, and only a tuple that keeps each entry's own object type gives
 * the union (and so `Scenario`) precise per-entry types that code can narrow on.
 */
import type { z } from 'zod';

type Fragment = z.core.$ZodTypeDiscriminable;

export type FragmentsOf<E extends readonly { readonly schema: Fragment }[]> = { -readonly [K in keyof E]: E[K]['schema'] };

export function fragmentsOf<const E extends readonly [{ readonly schema: Fragment }, ...{ readonly schema: Fragment }[]]>(entries: E): FragmentsOf<E> {
  return entries.map((entry) => entry.schema) as FragmentsOf<E>;
}
