/**
 * The layers of ARCHITECTURE.md, checked on every import in the tree: the engine
 * (coordinator/, client/, shared/) never imports the application (app/, cli/), the coordinator
 * and the client never import each other, and shared/ imports nothing above it except the
 * strategy, aggregator and attack registries, from which the scenario schema is assembled.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SCENARIO_CATALOG = new Set(['coordinator/strategies/registry.ts', 'coordinator/aggregation/registry.ts', 'client/attacks/registry.ts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'dist' || entry.name === 'node_modules' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import of a file, as a path from the repository root (.js specifiers name .ts sources). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) =>
    relative(ROOT, resolve(ROOT, dirname(file), m[1]!)).replace(/\.js$/, '.ts'),
  );
}

function violations(layer: string, forbidden: readonly string[], allowed: ReadonlySet<string> = new Set()): string[] {
  return sourceFiles(layer).flatMap((file) =>
    importsOf(file)
      .filter((target) => forbidden.some((top) => target.startsWith(`${top}/`)) && !allowed.has(target))
      .map((target) => `${file} imports ${target}`),
  );
}

describe('the layers', () => {
  it('the coordinator imports neither the client nor the application', () => {
    expect(violations('coordinator', ['client', 'app', 'cli'])).toEqual([]);
  });

  it('the client imports neither the coordinator nor the application', () => {
    expect(violations('client', ['coordinator', 'app', 'cli'])).toEqual([]);
  });

  it('shared imports nothing above it but the registries the scenario schema is assembled from', () => {
    expect(violations('shared', ['coordinator', 'client', 'app', 'cli'], SCENARIO_CATALOG)).toEqual([]);
  });

  it('the check sees imports at all (a layer that imports across is caught)', () => {
    expect(importsOf('app/run/run-simulation.ts')).toContain('coordinator/coordinator.ts');
    expect(violations('app', ['coordinator'])).not.toEqual([]);
  });
});
