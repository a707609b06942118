/**
 * Sweep files for `fedsim compare`: a base scenario and the variants to run against it, either
 * listed, or as a grid of values (the cartesian product), or both (each listed variant crossed
 * with the grid). Overrides are dotted paths (`privacy.dp.noiseMultiplier: 1`) or nested
 * mappings, deep-merged into the base; `null` removes a field (`privacy.dp: null` is "no DP").
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ScenarioError, validateScenario } from '../../shared/scenario/load-scenario.js';
import type { Scenario } from '../../shared/scenario/schema.js';

const NAME = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.=-]*$/, 'expected letters, digits, ".", "=", "-" or "_" (it names a folder)');

const SWEEP_SPEC = z.strictObject({
  sweep: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'expected letters, digits, "-" or "_" (it names NATS subjects and the output folder)'),
  description: z.string().optional(),
  /** A scenario file (relative to the sweep file) or the scenario itself. */
  base: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  variants: z.array(z.strictObject({ name: NAME, overrides: z.record(z.string(), z.unknown()).default({}) })).min(1).optional(),
  grid: z.record(z.string(), z.array(z.unknown()).min(1)).optional(),
  output: z.strictObject({ dir: z.string().min(1).default('runs') }).default({ dir: 'runs' }),
});

/** Shared by every variant (one transport, one worker pool, one output folder): not overridable. */
const FIXED_FIELDS = ['name', 'output', 'system.transport', 'system.natsUrl', 'system.workers', 'system.backend'];

export interface SweepVariant {
  name: string;
  overrides: Record<string, unknown>;
  /** The variant's scenario, or why it is invalid (it is then reported as failed, and the others still run). */
  scenario: Scenario | null;
  problems: string[];
}

export interface Sweep {
  name: string;
  description?: string;
  source: string;
  outputDir: string;
  base: Scenario;
  variants: SweepVariant[];
}

export class SweepError extends ScenarioError {}

export async function loadSweepFile(path: string): Promise<Sweep> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SweepError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new SweepError(path, doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0]}`));
  return parseSweep(doc.toJS(), path);
}

export async function parseSweep(raw: unknown, source: string): Promise<Sweep> {
  const parsed = SWEEP_SPEC.safeParse(raw);
  if (!parsed.success) {
    throw new SweepError(
      source,
      parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message.replace(/^Invalid input: /, '')}`),
    );
  }
  const spec = parsed.data;
  if (!spec.variants && !spec.grid) throw new SweepError(source, ['variants: missing (expected a list of variants, a grid of values, or both)']);

  let baseRaw: unknown;
  let baseSource = `${source} (base)`;
  if (typeof spec.base === 'string') {
    baseSource = resolve(dirname(source), spec.base);
    const doc = parseDocument(await readFile(baseSource, 'utf8').catch((error: Error) => {
      throw new SweepError(source, [`base: cannot read scenario ${baseSource} (${error.message})`]);
    }));
    baseRaw = doc.toJS();
  } else {
    baseRaw = spec.base;
  }
  // The base stands on its own: a broken base is the sweep's error, not every variant's.
  const base = validateScenario(withName(baseRaw, spec.sweep), baseSource);

  const combos = expandVariants(spec.variants, spec.grid);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const combo of combos) {
    if (seen.has(combo.name)) problems.push(`variants: two variants are named "${combo.name}" (expected unique names)`);
    seen.add(combo.name);
    for (const path of Object.keys(flatten(combo.overrides))) {
      const fixed = FIXED_FIELDS.find((f) => path === f || path.startsWith(`${f}.`) || f.startsWith(`${path}.`));
      if (fixed) problems.push(`variants.${combo.name}.overrides.${path}: the variants share it (got an override, expected it only in the base)`);
    }
  }
  if (problems.length > 0) throw new SweepError(source, problems);

  const variants = combos.map((combo): SweepVariant => {
    try {
      const merged = applyOverrides(structuredClone(baseRaw), combo.overrides);
      return { ...combo, scenario: validateScenario(withName(merged, spec.sweep), `variant ${combo.name}`), problems: [] };
    } catch (error) {
      const problems = error instanceof ScenarioError ? error.problems : [(error as Error).message];
      return { ...combo, scenario: null, problems };
    }
  });
  return { name: spec.sweep, description: spec.description, source, outputDir: spec.output.dir, base, variants };
}

/** Every variant runs under the sweep's name: the pool's workers listen on that name's subjects. */
function withName(raw: unknown, name: string): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  return { ...(raw as Record<string, unknown>), name };
}

function expandVariants(
  listed: { name: string; overrides: Record<string, unknown> }[] | undefined,
  grid: Record<string, unknown[]> | undefined,
): { name: string; overrides: Record<string, unknown> }[] {
  const points: { name: string; overrides: Record<string, unknown> }[] = [{ name: '', overrides: {} }];
  for (const [path, values] of Object.entries(grid ?? {})) {
    const next: typeof points = [];
    for (const point of points) {
      for (const value of values) {
        const label = `${path.split('.').at(-1)}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`;
        next.push({ name: point.name ? `${point.name}_${label}` : label, overrides: { ...point.overrides, [path]: value } });
      }
    }
    points.splice(0, points.length, ...next);
  }
  const bases = listed ?? [{ name: '', overrides: {} }];
  return bases.flatMap((variant) =>
    points.map((point) => ({
      name: [variant.name, point.name].filter(Boolean).join('_') || 'base',
      overrides: { ...variant.overrides, ...point.overrides },
    })),
  );
}

/** Applies dotted-path or nested overrides; null deletes. */
export function applyOverrides(target: unknown, overrides: Record<string, unknown>): unknown {
  const root = (target ?? {}) as Record<string, unknown>;
  for (const [path, value] of Object.entries(flatten(overrides))) {
    const keys = path.split('.');
    let node = root;
    for (const key of keys.slice(0, -1)) {
      const child = node[key];
      if (child === null || typeof child !== 'object' || Array.isArray(child)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    const last = keys.at(-1)!;
    if (value === null) delete node[last];
    else node[last] = structuredClone(value);
  }
  return root;
}

/** Nested mappings become dotted paths, so `{privacy: {dp: {clipNorm: 1}}}` merges instead of replacing privacy. */
function flatten(overrides: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(overrides)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
      Object.assign(out, flatten(value as Record<string, unknown>, path));
    } else {
      out[path] = value;
    }
  }
  return out;
}
