/**
 * The runs a `fedsim serve` process knows: the ones it is running (live state kept in memory and
 * pushed to dashboards as it changes) and the finished ones in its runs folder (read from disk on
 * demand). Emits events the socket.io layer forwards; knows nothing of HTTP.
 */
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { LogLevel } from '../../shared/logging/logger.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import type { ClientEvent, Coordinator, RoundMetrics, WorkerInfo } from '../../coordinator/coordinator.js';
import { runSimulation, type RunSummary } from '../run/run-simulation.js';
import { toComparison, type Comparison } from '../report/run-records.js';
import type {
  ClientEventView,
  ClientState,
  ComparisonListItem,
  ComparisonVariantItem,
  RoundMetricsView,
  RunListItem,
  RunState,
  RunStatus,
  WorkerView,
} from './api-types.js';

const LOG_TAIL_LINES = 200;
/**
 * Client events and log lines are sent in batches (a 100-client round is a few messages, not
 * 300), worker figures at most once a second: with 200 dashboards every message is 200 sends,
 * and at 100 ms batches with workers in each the fan-out slowed rounds by ~7% (bench/dashboard-fanout.ts).
 */
const BATCH_MS = 250;
const WORKER_UPDATE_MS = 1000;

export class RunConflictError extends Error {}

interface LiveRun {
  id: string;
  name: string;
  status: RunStatus;
  startedAt: string;
  scenario: Scenario;
  rounds: RoundMetrics[];
  summary: RunSummary | null;
  error?: string;
  workers: Map<string, WorkerView & { samples: number; trainMs: number }>;
  clients: { round: number; states: Record<string, ClientState> };
  logTail: string[];
  coordinator: Coordinator | null;
  stopRequested: boolean;
  pendingClients: ClientEventView[];
  pendingLog: string[];
  flushTimer: NodeJS.Timeout | null;
  workersDirty: boolean;
  workersSentAt: number;
  finished: Promise<RunSummary>;
}

export interface RegistryEvents {
  runs: [RunListItem[]];
  round: [string, RoundMetricsView];
  clients: [string, ClientEventView[]];
  worker: [string, WorkerView];
  log: [string, string[]];
  status: [string, RunStatus, Record<string, unknown> | null, string | undefined, boolean];
}

export class RunRegistry extends EventEmitter<RegistryEvents> {
  private readonly live = new Map<string, LiveRun>();

  constructor(private readonly options: { runsDir: string; logLevel?: LogLevel; workers?: number; progress?: boolean }) {
    super();
  }

  get runsDir(): string {
    return resolve(this.options.runsDir);
  }

  /** Starts a run in this process; its outputs go to <runsDir>/<id>. */
  start(scenario: Scenario): RunListItem {
    const active = [...this.live.values()].find((r) => r.name === scenario.name && isActive(r.status));
    if (active)
      throw new RunConflictError(
        `run "${scenario.name}" is already running as ${active.id}; runs of one name share NATS subjects, so start it after that one ends or give it another name`,
      );
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').replace('Z', '');
    const id = `${scenario.name}-${stamp}`;
    const run: LiveRun = {
      id,
      name: scenario.name,
      status: 'starting',
      startedAt: new Date().toISOString(),
      scenario,
      rounds: [],
      summary: null,
      workers: new Map(),
      clients: { round: 0, states: {} },
      logTail: [],
      coordinator: null,
      stopRequested: false,
      pendingClients: [],
      pendingLog: [],
      flushTimer: null,
      workersDirty: false,
      workersSentAt: 0,
      finished: Promise.resolve(null as unknown as RunSummary),
    };
    this.live.set(id, run);
    run.finished = this.execute(run);
    this.emitRuns();
    return listItemOfLive(run);
  }

  /** Asks a live run to finish its current round and end; false when it is not running. */
  stop(id: string): boolean {
    const run = this.live.get(id);
    if (!run || !isActive(run.status)) return false;
    run.stopRequested = true;
    run.coordinator?.requestStop();
    this.setStatus(run, 'stopping');
    return true;
  }

  /** Resolves when the live run ends (tests, shutdown). */
  async finished(id: string): Promise<RunSummary | null> {
    return (await this.live.get(id)?.finished) ?? null;
  }

  /** Stops every live run and waits for them. */
  async stopAll(): Promise<void> {
    for (const id of this.live.keys()) this.stop(id);
    await Promise.all([...this.live.values()].map((r) => r.finished.catch(() => null)));
  }

  /** Runs of this process that have not ended. */
  liveCount(): number {
    return [...this.live.values()].filter((r) => isActive(r.status)).length;
  }

  list(): RunListItem[] {
    const items = new Map<string, RunListItem>();
    for (const run of this.finishedOnDisk()) items.set(run.id, run);
    for (const run of this.live.values()) items.set(run.id, listItemOfLive(run));
    return [...items.values()].sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''));
  }

  get(id: string): RunState | null {
    const run = this.live.get(id);
    if (run) {
      // Pending events go out first, so a snapshot and the events after it never overlap.
      this.flush(run, true);
      return stateOfLive(run, this.runsDir);
    }
    return readRunFromDisk(join(this.runsDir, id), id);
  }

  reportPath(id: string): string | null {
    if (!isFolderName(id)) return null;
    const path = join(this.runsDir, id, 'report.html');
    return existsSync(path) ? path : null;
  }

  /** The `fedsim compare` folders in the runs folder, newest first; unreadable ones are skipped. */
  comparisons(): ComparisonListItem[] {
    if (!existsSync(this.runsDir)) return [];
    const items: ComparisonListItem[] = [];
    for (const entry of readdirSync(this.runsDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const item = readComparisonItem(join(this.runsDir, entry.name), entry.name);
      if (item) items.push(item);
    }
    return items.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  }

  /** A comparison's report.html, or with `variant` that variant's run report. */
  comparisonReportPath(id: string, variant?: string): string | null {
    if (!isFolderName(id) || (variant !== undefined && !isFolderName(variant))) return null;
    const dir = join(this.runsDir, id);
    const comparison = readComparison(dir);
    if (!comparison) return null;
    const path = variant === undefined ? join(dir, 'report.html') : variantReportPath(dir, comparison.variants.find((v) => v.name === variant)?.runDir ?? null);
    return path !== null && existsSync(path) ? path : null;
  }

  private async execute(run: LiveRun): Promise<RunSummary> {
    const summary = await runSimulation(run.scenario, {
      logLevel: this.options.logLevel ?? 'warn',
      progress: this.options.progress ?? false,
      workers: this.options.workers,
      runDir: join(this.runsDir, run.id),
      onCoordinator: (coordinator) => {
        run.coordinator = coordinator;
        if (run.stopRequested) coordinator.requestStop();
      },
      onWorkerReady: (info) => this.workerReady(run, info),
      onRound: (metrics) => {
        if (run.status === 'starting') this.setStatus(run, 'running');
        run.rounds.push(metrics);
        this.emit('round', run.id, metrics as unknown as RoundMetricsView);
      },
      onClientEvent: (event) => this.clientEvent(run, event),
      onLogLine: (line) => {
        run.logTail.push(line.trimEnd());
        if (run.logTail.length > LOG_TAIL_LINES) run.logTail.splice(0, run.logTail.length - LOG_TAIL_LINES);
        run.pendingLog.push(line.trimEnd());
        this.scheduleFlush(run);
      },
    }).catch((error: Error) => {
      run.error = error.message;
      return null;
    });
    this.flush(run, true);
    run.summary = summary;
    run.error ??= summary?.error;
    this.setStatus(run, endStatusOf(summary?.status, summary?.stopReason));
    this.emitRuns();
    return summary!;
  }

  private workerReady(run: LiveRun, info: WorkerInfo): void {
    const worker = {
      workerId: info.workerId,
      host: info.host,
      backend: info.backendDetail ?? null,
      clientsTrained: 0,
      samplesPerSecond: null,
      samples: 0,
      trainMs: 0,
    };
    run.workers.set(info.workerId, worker);
    if (run.status === 'starting') this.setStatus(run, 'running');
    this.emit('worker', run.id, viewOf(worker));
  }

  private clientEvent(run: LiveRun, event: ClientEvent): void {
    if (event.round !== run.clients.round) run.clients = { round: event.round, states: {} };
    run.clients.states[String(event.clientId)] = event.state;
    if (event.state === 'done' && event.workerId) {
      const worker = run.workers.get(event.workerId);
      if (worker) {
        worker.clientsTrained += 1;
        worker.samples += event.samplesTrained ?? 0;
        worker.trainMs += event.trainMs ?? 0;
        worker.samplesPerSecond = worker.trainMs > 0 ? (worker.samples / worker.trainMs) * 1000 : null;
        run.workersDirty = true;
      }
    }
    const view: ClientEventView = { round: event.round, clientId: event.clientId, state: event.state };
    if (event.workerId) view.workerId = event.workerId;
    if (event.reason) view.reason = event.reason;
    run.pendingClients.push(view);
    this.scheduleFlush(run);
  }

  private scheduleFlush(run: LiveRun): void {
    run.flushTimer ??= setTimeout(() => this.flush(run), BATCH_MS);
  }

  private flush(run: LiveRun, force = false): void {
    if (run.flushTimer) clearTimeout(run.flushTimer);
    run.flushTimer = null;
    if (force) run.workersSentAt = 0;
    if (run.pendingClients.length > 0) this.emit('clients', run.id, run.pendingClients.splice(0));
    const now = Date.now();
    if (run.workersDirty && now - run.workersSentAt >= WORKER_UPDATE_MS) {
      run.workersDirty = false;
      run.workersSentAt = now;
      for (const worker of run.workers.values()) this.emit('worker', run.id, viewOf(worker));
    } else if (run.workersDirty) {
      this.scheduleFlush(run);
    }
    if (run.pendingLog.length > 0) this.emit('log', run.id, run.pendingLog.splice(0));
  }

  private setStatus(run: LiveRun, status: RunStatus): void {
    if (run.status === status) return;
    run.status = status;
    this.emit(
      'status',
      run.id,
      status,
      run.summary as unknown as Record<string, unknown> | null,
      run.error,
      existsSync(join(this.runsDir, run.id, 'report.html')),
    );
    this.emitRuns();
  }

  private emitRuns(): void {
    this.emit('runs', this.list());
  }

  private finishedOnDisk(): RunListItem[] {
    if (!existsSync(this.runsDir)) return [];
    const items: RunListItem[] = [];
    for (const entry of readdirSync(this.runsDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || this.live.has(entry.name)) continue;
      const summary = readJson(join(this.runsDir, entry.name, 'summary.json'));
      if (summary) items.push(listItemOfSummary(entry.name, summary));
    }
    return items;
  }
}

/** How a run that has ended reads in the list: a run stopped by hand is not "completed". */
function endStatusOf(status: unknown, stopReason: unknown): 'completed' | 'stopped' | 'failed' {
  if (status === 'interrupted') return 'stopped';
  if (status !== 'completed') return 'failed';
  return stopReason === 'stopped' || stopReason === 'interrupted' ? 'stopped' : 'completed';
}

function isFolderName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.=-]*$/.test(name);
}

function readComparison(dir: string): Comparison | null {
  const file = join(dir, 'comparison.json');
  const raw = readJson(file);
  if (!raw) return null;
  try {
    return toComparison(raw, file);
  } catch {
    return null;
  }
}

function readComparisonItem(dir: string, id: string): ComparisonListItem | null {
  const comparison = readComparison(dir);
  if (!comparison) return null;
  const variants = comparison.variants.map((v): ComparisonVariantItem => {
    const report = variantReportPath(dir, v.runDir);
    return {
      name: v.name,
      status: endStatusOf(v.status, v.stopReason),
      error: v.error,
      finalAccuracy: v.finalAccuracy,
      epsilon: v.epsilon,
      hasReport: report !== null && existsSync(report),
    };
  });
  return {
    id,
    sweep: comparison.sweep || id,
    description: comparison.description,
    createdAt: comparison.createdAt || null,
    hasReport: existsSync(join(dir, 'report.html')),
    variants,
  };
}

/** A variant's run report, in the folder comparison.json names, which must lie inside the comparison. */
function variantReportPath(dir: string, runDir: string | null): string | null {
  if (!runDir) return null;
  const path = resolve(dir, runDir, 'report.html');
  // comparison.json is data: a runDir of "../../etc" must not reach outside the comparison.
  return path.startsWith(`${resolve(dir)}/`) ? path : null;
}

function isActive(status: RunStatus): boolean {
  return status === 'starting' || status === 'running' || status === 'stopping';
}

function viewOf(worker: WorkerView): WorkerView {
  return {
    workerId: worker.workerId,
    host: worker.host,
    backend: worker.backend,
    clientsTrained: worker.clientsTrained,
    samplesPerSecond: worker.samplesPerSecond,
  };
}

function listItemOfLive(run: LiveRun): RunListItem {
  const last = run.rounds.at(-1);
  const evaluated = [...run.rounds].reverse().find((r) => r.testAccuracy !== null);
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    live: true,
    startedAt: run.startedAt,
    roundsCompleted: run.rounds.length,
    roundsPlanned: run.scenario.rounds,
    finalTestAccuracy: run.summary?.finalTestAccuracy ?? evaluated?.testAccuracy ?? null,
    epsilon: last?.privacy?.epsilon ?? null,
  };
}

function stateOfLive(run: LiveRun, runsDir: string): RunState {
  return {
    ...listItemOfLive(run),
    scenario: run.scenario,
    rounds: run.rounds as unknown as RoundMetricsView[],
    summary: run.summary as unknown as Record<string, unknown> | null,
    ...(run.error ? { error: run.error } : {}),
    workers: [...run.workers.values()].map(viewOf),
    clients: run.clients,
    logTail: [...run.logTail],
    hasReport: existsSync(join(runsDir, run.id, 'report.html')),
  };
}

function listItemOfSummary(id: string, summary: Record<string, unknown>): RunListItem {
  const privacy = summary.privacy as { epsilon?: number | null } | null | undefined;
  return {
    id,
    name: typeof summary.name === 'string' ? summary.name : id,
    status: endStatusOf(summary.status, summary.stopReason),
    live: false,
    startedAt: startedAtOf(id),
    roundsCompleted: Number(summary.roundsCompleted ?? 0),
    roundsPlanned: typeof summary.roundsPlanned === 'number' ? summary.roundsPlanned : null,
    finalTestAccuracy: typeof summary.finalTestAccuracy === 'number' ? summary.finalTestAccuracy : null,
    epsilon: typeof privacy?.epsilon === 'number' ? privacy.epsilon : null,
  };
}

/** Run ids end in the start time the run folder was named with. */
function startedAtOf(id: string): string | null {
  const match = /(\d{4}-\d{2}-\d{2})_(\d{2})-(\d{2})-(\d{2})-(\d{3})$/.exec(id);
  return match ? `${match[1]}T${match[2]}:${match[3]}:${match[4]}.${match[5]}Z` : null;
}

function readRunFromDisk(dir: string, id: string): RunState | null {
  if (!isFolderName(id) || !existsSync(dir)) return null;
  const summary = readJson(join(dir, 'summary.json'));
  const metricsFile = join(dir, 'metrics.jsonl');
  if (!summary && !existsSync(metricsFile)) return null;
  const rounds = existsSync(metricsFile)
    ? readFileSync(metricsFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as RoundMetricsView)
    : [];
  const scenarioFile = join(dir, 'scenario.yaml');
  const scenario = existsSync(scenarioFile) ? (parse(readFileSync(scenarioFile, 'utf8')) as Record<string, unknown>) : null;
  const base = summary
    ? listItemOfSummary(id, summary)
    : {
        id,
        name: id,
        status: 'failed' as const,
        live: false,
        startedAt: startedAtOf(id),
        roundsCompleted: rounds.length,
        roundsPlanned: null,
        finalTestAccuracy: null,
        epsilon: null,
      };
  return {
    ...base,
    scenario,
    rounds,
    summary,
    ...(typeof summary?.error === 'string' && summary.error !== '' ? { error: summary.error } : {}),
    workers: [],
    // Per-client states are not kept on disk; a finished run's grid starts empty.
    clients: { round: rounds.at(-1)?.round ?? 0, states: {} },
    logTail: [],
    hasReport: existsSync(join(dir, 'report.html')),
  };
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}
