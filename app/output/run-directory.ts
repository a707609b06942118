/**
 * A run's folder, `runs/<name>-<timestamp>/`: resolved scenario, partition summary, one metrics
 * line per round, summary and final model. Whole files are written to a temporary name and
 * renamed, so a reader (or a crash) never sees half a file.
 */
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { Scenario } from '../../shared/scenario/schema.js';

export class RunDirectory {
  readonly path: string;
  readonly runId: string;

  constructor(scenario: Scenario, now = new Date(), path?: string) {
    const stamp = now.toISOString().replace(/[:.]/g, '-').replace('T', '_').replace('Z', '');
    // A given path names the run itself (a sweep's variant, a run started through the API).
    this.runId = path ? basename(path) : `${scenario.name}-${stamp}`;
    this.path = resolve(path ?? resolve(scenario.output.dir, this.runId));
  }

  create(): void {
    mkdirSync(this.path, { recursive: true });
  }

  file(name: string): string {
    return join(this.path, name);
  }

  writeScenario(scenario: Scenario): void {
    this.writeAtomically('scenario.yaml', `# Resolved scenario (defaults filled in) of run ${this.runId}\n${stringify(scenario)}`);
  }

  writeJson(name: string, value: unknown): void {
    this.writeAtomically(name, `${JSON.stringify(value, null, 2)}\n`);
  }

  appendMetrics(record: object): void {
    this.appendLines('metrics.jsonl', [record]);
  }

  appendLines(name: string, records: readonly object[]): void {
    // One write call: a crash leaves whole lines behind.
    if (records.length > 0) appendFileSync(this.file(name), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  writeAtomically(name: string, content: string | Uint8Array): void {
    writeFileAtomically(this.file(name), content);
  }
}

/** Writes to a temporary name and renames: readers and crashes never see half a file. */
export function writeFileAtomically(path: string, content: string | Uint8Array): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
}
