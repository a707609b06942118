/**
 * `fedsim compare`: every variant of a sweep, one after another, on one transport and one pool
 * of long-lived workers (they re-join each variant's run under the sweep's name, keeping their
 * data loaded). A variant that fails is recorded with its error and the sweep goes on.
 */
import { mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import { openTransport, type Transport } from '../../shared/bus/open-transport.js';
import { createLogger, type LogLevel } from '../../shared/logging/logger.js';
import { writeFileAtomically } from '../output/run-directory.js';
import type { RunInterrupts } from '../run/run-interrupts.js';
import { runSimulation } from '../run/run-simulation.js';
import { workerCount, workerProcessCount } from '../workers/start-workers.js';
import { WorkerProcesses } from '../workers/worker-processes.js';
import { writeReport } from '../report/write-report.js';
import { comparisonCsv, comparisonMarkdown, failedRow, rowOf, type ComparisonRow } from './comparison-table.js';
import type { Sweep } from './sweep-file.js';

export interface ComparisonOptions {
  logLevel: LogLevel;
  progress: boolean;
  /** Overrides the base scenario's system.workers. */
  workers?: number;
  /** Called after each variant (tests, API). */
  onVariant?: (row: ComparisonRow) => void;
  /** Ctrl-C: the first press ends the variant in progress and skips the rest; the second writes the comparison files for the caller to exit on. */
  interrupts?: RunInterrupts;
}

export interface ComparisonResult {
  dir: string;
  rows: ComparisonRow[];
  reportPath: string | null;
}

export async function runComparison(sweep: Sweep, options: ComparisonOptions): Promise<ComparisonResult> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').replace('Z', '');
  const dir = resolve(sweep.outputDir, `${sweep.name}-${stamp}`);
  mkdirSync(dir, { recursive: true });
  writeFileAtomically(
    join(dir, 'sweep.yaml'),
    `# Resolved sweep: base scenario and variant overrides\n${stringify({ sweep: sweep.name, base: sweep.base, variants: sweep.variants.map((v) => ({ name: v.name, overrides: v.overrides })) })}`,
  );
  const log = createLogger({ name: 'compare', level: options.progress && process.stderr.isTTY ? 'warn' : options.logLevel, file: join(dir, 'compare.log') });

  const rows: ComparisonRow[] = [];
  // Synchronous on the second press: the caller exits right after.
  const stopListening = options.interrupts?.listen((presses) => presses > 1 && writeOutputs(dir, sweep, withUnfinished(sweep, rows)));
  let transport: Transport | null = null;
  let pool: WorkerProcesses | null = null;
  try {
    const system = sweep.base.system;
    transport = await openTransport(system, log, { name: sweep.name, workers: workerProcessCount(system, options.workers) });
    const workers = workerCount(transport, system, options.workers);
    if (transport.bus.kind !== 'in-process' && workers > 0) {
      pool = new WorkerProcesses({
        count: workers,
        natsUrl: transport.natsUrl!,
        runName: sweep.name,
        logFile: join(dir, 'workers.log'),
        logLevel: 'info',
        backend: system.backend,
        keepAlive: true,
        loginOf: (index) => transport!.workerLogin(index),
      });
      pool.start();
    }
    for (const [index, variant] of sweep.variants.entries()) {
      const label = `[${index + 1}/${sweep.variants.length} ${variant.name}]`;
      let row: ComparisonRow;
      if (options.interrupts && options.interrupts.presses > 0) {
        row = failedRow(variant.name, variant.overrides, 'the sweep was interrupted before this variant started', 'not run');
      } else if (!variant.scenario) {
        row = failedRow(variant.name, variant.overrides, `invalid scenario: ${variant.problems.join('; ')}`);
      } else {
        try {
          const runDir = join(dir, variant.name);
          const summary = await runSimulation(variant.scenario, {
            logLevel: options.logLevel,
            progress: options.progress,
            pool: { transport, workers: Math.max(workers, 1) },
            runDir,
            progressLabel: label,
            interrupts: options.interrupts,
          });
          row = rowOf(variant.name, variant.overrides, relative(dir, runDir), summary, variant.cell);
        } catch (error) {
          row = failedRow(variant.name, variant.overrides, (error as Error).message);
        }
      }
      rows.push(row);
      if (options.progress) process.stderr.write(`${label} ${variantOutcome(row)}\n`);
      log.info({ variant: row.name, status: row.status, error: row.error }, 'variant finished');
      writeOutputs(dir, sweep, rows);
      options.onVariant?.(row);
    }
  } finally {
    stopListening?.();
    await pool?.terminate();
    await transport?.close();
  }

  let reportPath: string | null = null;
  try {
    reportPath = await writeReport(dir);
  } catch (error) {
    log.error({ err: (error as Error).message }, 'report.html could not be written');
  }
  log.flush();
  return { dir, rows, reportPath };
}

/** The rows so far, the variant in progress as interrupted (its folder has its summary.json), the rest as not run. */
function withUnfinished(sweep: Sweep, rows: readonly ComparisonRow[]): ComparisonRow[] {
  const [current, ...rest] = sweep.variants.slice(rows.length);
  if (!current) return [...rows];
  return [
    ...rows,
    { ...failedRow(current.name, current.overrides, 'interrupted while running', 'interrupted'), runDir: current.name },
    ...rest.map((v) => failedRow(v.name, v.overrides, 'the sweep was interrupted before this variant started', 'not run')),
  ];
}

function variantOutcome(row: ComparisonRow): string {
  if (row.status === 'completed') return row.stopReason === 'interrupted' ? 'interrupted' : 'done';
  return row.status === 'failed' ? `FAILED: ${row.error}` : row.status;
}

/** Rewritten after every variant, so an interrupted sweep still leaves the finished ones' table. */
function writeOutputs(dir: string, sweep: Sweep, rows: ComparisonRow[]): void {
  const deltas = [...new Set(rows.map((r) => r.delta).filter((d): d is number => d !== null))];
  const comparison = {
    sweep: sweep.name,
    base: sweep.source,
    description: sweep.description,
    createdAt: new Date().toISOString(),
    delta: deltas.length === 1 ? deltas[0] : null,
    variants: rows,
  };
  writeFileAtomically(join(dir, 'comparison.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  writeFileAtomically(join(dir, 'comparison.csv'), comparisonCsv(rows));
  writeFileAtomically(join(dir, 'comparison.md'), comparisonMarkdown(sweep.name, rows));
}
