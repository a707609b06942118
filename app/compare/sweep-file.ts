/**
 * Sweep files for `fedsim compare`: a base scenario and the variants to run against it, either
 * listed, or as a grid of values (the cartesian product), or both (each listed variant crossed
 * with the grid). Overrides are dotted paths (`privacy.dp.noiseMultiplier: 1`) or nested
 * mappings, deep-merged into the base; `null` removes a field (`privacy.dp: null` is "no DP").
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { parseYamlText, readScenarioText, ScenarioError, schemaProblems, validateScenario } from '../../shared/scenario/load-scenario.js';
import { SCENARIO_SPEC, type Scenario } from '../../shared/scenario/schema.js';

const NAME = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.=-]*$/, 'expected letters, digits, ".", "=", "-" or "_" (it names a folder)');

const SWEEP_SPEC = z.strictObject({
  sweep: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'expected letters, digits, "-" or "_" (it names NATS subjects and the output folder)'),
  description: z.string().optional(),
  /** A scenario file (relative to the sweep file) or the scenario itself. */
  base: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  variants: z
    .array(z.strictObject({ name: NAME, overrides: z.record(z.string(), z.unknown()).default({}) }))
    .min(1)
    .optional(),
  grid: z.record(z.string(), z.array(z.unknown()).min(1)).optional(),
  /** A second list of named variants crossed with the first (attacks × defences): the report draws the pairs as a heatmap. */
  crossWith: z
    .array(z.strictObject({ name: NAME, overrides: z.record(z.string(), z.unknown()).default({}) }))
    .min(1)
    .optional(),
  output: z.strictObject({ dir: z.string().min(1).default('runs') }).default({ dir: 'runs' }),
});

/** Shared by every variant (one transport, one worker pool, one output folder): not overridable. */
const FIXED_FIELDS = ['name', 'output', 'system.transport', 'system.natsUrl', 'system.workers', 'system.backend'];

export interface SweepVariant {
  name: string;
  overrides: Record<string, unknown>;
  /** Sweeps with crossWith: the listed variant (row) and the crossWith entry (column) this one pairs. */
  cell?: { row: string; column: string };
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

export class SweepError extends ScenarioError {
  constructor(source: string, problems: string[]) {
    super(source, problems, 'sweep');
    this.name = 'SweepError';
  }
}

export async function loadSweepFile(path: string): Promise<Sweep> {
  return parseSweep(parseYamlText(await readScenarioText(path, 'sweep'), path, 'sweep'), path);
}

/** `fedsim validate` takes either kind of file: a sweep is told apart by its `sweep:` field. */
export async function loadScenarioOrSweepFile(path: string): Promise<{ kind: 'scenario'; scenario: Scenario } | { kind: 'sweep'; sweep: Sweep }> {
  const text = await readScenarioText(path, 'scenario');
  // Which kind a file that does not parse meant is a guess, good enough for its error's first line.
  const raw = parseYamlText(text, path, /^sweep\s*:/m.test(text) ? 'sweep' : 'scenario');
  if (isSweepDocument(raw)) return { kind: 'sweep', sweep: await parseSweep(raw, path) };
  return { kind: 'scenario', scenario: validateScenario(raw, path) };
}

/** A mapping with sweep's own top-level fields; a scenario has none of them. */
export function isSweepDocument(raw: unknown): boolean {
  return isMapping(raw) && ('sweep' in raw || 'base' in raw);
}

export async function parseSweep(raw: unknown, source: string): Promise<Sweep> {
  if (isMapping(raw) && !isSweepDocument(raw)) throw new SweepError(source, [notASweepProblem(raw, source)]);
  const parsed = SWEEP_SPEC.safeParse(raw);
  if (!parsed.success) throw new SweepError(source, schemaProblems(parsed.error.issues, raw, SWEEP_SPEC));
  const spec = parsed.data;
  if (spec.crossWith && !spec.variants)
    throw new SweepError(source, ['crossWith: crosses the listed variants (got no variants:, expected variants: for the rows)']);
  if (!spec.variants && !spec.grid) throw new SweepError(source, ['variants: missing (expected a list of variants, a grid of values, or both)']);

  let baseRaw: unknown;
  let baseSource = `${source} (base)`;
  if (typeof spec.base === 'string') {
    baseSource = resolve(dirname(source), spec.base);
    const text = await readScenarioText(baseSource).catch((error: ScenarioError) => {
      throw new SweepError(
        source,
        error.problems.map((problem) => `base: scenario ${baseSource}: ${problem}`),
      );
    });
    baseRaw = parseYamlText(text, baseSource);
  } else {
    baseRaw = spec.base;
  }
  // The base stands on its own: a broken base is the sweep's error, not every variant's.
  const base = validateScenario(withName(baseRaw, spec.sweep), baseSource);

  const combos = crossVariants(expandVariants(spec.variants, spec.grid), spec.crossWith);
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

/** One line instead of zod's: every scenario field unknown, and sweep: and base: missing. */
function notASweepProblem(raw: Record<string, unknown>, source: string): string {
  const expected = 'expected sweep:, base: and variants: or grid:, as in scenarios/privacy-sweep.yaml';
  if (Object.keys(raw).some((key) => key in SCENARIO_SPEC.shape)) {
    return `(top level): this is a scenario, not a sweep file (${expected}); run it with \`fedsim run ${source}\`, or make it the base of a sweep`;
  }
  return `(top level): not a sweep file (got neither sweep: nor base:, ${expected})`;
}

function isMapping(raw: unknown): raw is Record<string, unknown> {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw);
}

/** Every variant runs under the sweep's name: the pool's workers listen on that name's subjects. */
function withName(raw: unknown, name: string): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  return { ...(raw as Record<string, unknown>), name };
}

/** A grid value in a variant's name: scalars as written, objects and arrays (and null) as JSON; YAML gives no other kinds. */
function valueLabel(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
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
        const label = `${path.split('.').at(-1)}=${valueLabel(value)}`;
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

/** Each variant paired with each crossWith entry, `<variant>_<entry>`, the entry's overrides applied last. */
function crossVariants(
  variants: { name: string; overrides: Record<string, unknown> }[],
  crossWith: { name: string; overrides: Record<string, unknown> }[] | undefined,
): { name: string; overrides: Record<string, unknown>; cell?: { row: string; column: string } }[] {
  if (!crossWith) return variants;
  return variants.flatMap((variant) =>
    crossWith.map((entry) => ({
      name: `${variant.name}_${entry.name}`,
      // Flattened first, so a row and a column that both set fields of one section both keep theirs.
      overrides: { ...flatten(variant.overrides), ...flatten(entry.overrides) },
      cell: { row: variant.name, column: entry.name },
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
