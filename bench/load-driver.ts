/**
 * The load tests of test/load (load-plan.json) without k6: autocannon against the coordinator's
 * HTTP API, one endpoint after another, and (with --churn) worker churn during a live run.
 * Prints throughput and latency percentiles as a table and JSON (saved under bench/results/),
 * with the plan's k6 thresholds beside them. Asserts nothing.
 *
 *   node --import tsx bench/load-driver.ts --url http://127.0.0.1:8080 [--seconds 10] [--vus 20] [--run-id ID]
 *   node --import tsx bench/load-driver.ts [--seconds 10] [--seed-runs 20]      (starts its own API server)
 *   node --import tsx bench/load-driver.ts --seed-into DIR [--seed-runs 20]    (only writes runs for `fedsim serve --runs-dir DIR`)
 *   node --import tsx bench/load-driver.ts --churn [--seconds 60] [--kill-every 10] [--workers 3]
 *
 * Without --url it serves a temporary runs folder holding --seed-runs finished runs (50 rounds
 * each), so /api/runs and /api/runs/:id read real files. --churn starts nats-server, `fedsim run
 * --serve` on a small scenario and worker processes, SIGKILLs a random worker every --kill-every
 * seconds and starts a fresh one, and reads the run's state from the API as k6's worker-churn.ts
 * does in a cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspect, parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startApiServer } from '../app/api/api-server.js';
import { freeLoopbackPort, startNatsServer } from '../shared/bus/nats-server-process.js';
import { checkLoadPlan, durationSeconds, type LoadPlan } from '../test/load/load-plan.js';
import { report } from './report.js';

const ROOT = resolve(import.meta.dirname, '..');
/** A server with a token (FEDSIM_API_TOKEN, or the one `fedsim serve` printed) is loaded with it. */
const API_HEADERS: Record<string, string> = process.env.FEDSIM_API_TOKEN ? { authorization: `Bearer ${process.env.FEDSIM_API_TOKEN}` } : {};
const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    seconds: { type: 'string' },
    vus: { type: 'string' },
    'run-id': { type: 'string' },
    'seed-runs': { type: 'string', default: '20' },
    'seed-into': { type: 'string' },
    churn: { type: 'boolean', default: false },
    'kill-every': { type: 'string' },
    workers: { type: 'string', default: '3' },
  },
});
const plan: LoadPlan = checkLoadPlan(JSON.parse(readFileSync(join(ROOT, 'test/load/load-plan.json'), 'utf8')));

if (args['seed-into']) {
  mkdirSync(args['seed-into'], { recursive: true });
  seedRuns(args['seed-into'], Number(args['seed-runs']));
  process.stderr.write(`wrote ${args['seed-runs']} finished runs into ${args['seed-into']}\n`);
} else if (args.churn) await churn();
else await httpLoad();

// ---------------------------------------------------------------- HTTP API

async function httpLoad(): Promise<void> {
  const seconds = args.seconds ? Number(args.seconds) : durationSeconds(plan.api.duration);
  const vus = args.vus ? Number(args.vus) : plan.api.vus;
  let baseUrl = args.url?.replace(/\/+$/, '');
  let cleanup = async () => {};
  let target = baseUrl ?? '';
  if (!baseUrl) {
    const runsDir = mkdtempSync(join(tmpdir(), 'fedsim-load-runs-'));
    seedRuns(runsDir, Number(args['seed-runs']));
    const server = await startApiServer({ port: 0, runsDir, scenariosDir: join(ROOT, 'scenarios'), logLevel: 'silent' });
    baseUrl = server.url;
    target = `in-process startApiServer over ${args['seed-runs']} seeded runs (this process also runs autocannon)`;
    cleanup = async () => {
      await server.close();
      rmSync(runsDir, { recursive: true, force: true });
    };
  }
  try {
    const runId = args['run-id'] ?? (await newestRun(baseUrl));
    const rows: Record<string, string | number | null>[] = [];
    for (const endpoint of plan.api.endpoints) {
      const path = endpoint.path.replace('{runId}', encodeURIComponent(runId));
      process.stderr.write(`${endpoint.name}: ${vus} connections for ${seconds} s on ${path}\n`);
      const measured = await hammer(`${baseUrl}${path}`, vus, seconds, endpoint.expect);
      rows.push({
        endpoint: endpoint.name,
        path: endpoint.path,
        vus,
        requests: measured.count,
        'req/s': measured.count / measured.seconds,
        'p50 ms': measured.p(50),
        'p90 ms': measured.p(90),
        'p95 ms': measured.p(95),
        'p99 ms': measured.p(99),
        'max ms': measured.p(100),
        'errors %': measured.count > 0 ? (100 * measured.failed) / measured.count : null,
        'k6 p95 <': endpoint.p95Ms,
        verdict: measured.p(95) < endpoint.p95Ms && measured.failed / Math.max(measured.count, 1) < plan.api.maxErrorRate ? 'pass' : 'FAIL',
      });
    }
    report('load-driver-http', rows, {
      target,
      runId,
      seconds,
      vus,
      maxErrorRate: plan.api.maxErrorRate,
      tool: 'autocannon (closed model, pipelining 1: as k6 constant-vus)',
    });
  } finally {
    await cleanup();
  }
}

interface Measured {
  count: number;
  failed: number;
  seconds: number;
  p(percentile: number): number;
}

/** One endpoint under `connections` concurrent clients; latencies of every response, exactly. */
async function hammer(url: string, connections: number, seconds: number, expect: number[]): Promise<Measured> {
  const latencies: number[] = [];
  let failed = 0;
  const result = await new Promise<autocannon.Result>((done, fail) => {
    const instance = autocannon({ url, connections, duration: seconds, pipelining: 1, headers: API_HEADERS }, (error: unknown, finished) =>
      error ? fail(error instanceof Error ? error : new Error(`autocannon: ${inspect(error)}`)) : done(finished),
    );
    // autocannon's own histogram has no 95th percentile (k6's threshold): keep every sample.
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      latencies.push(ms);
      if (!expect.includes(status)) failed += 1;
    });
  });
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    failed: failed + result.errors,
    seconds: result.duration,
    p: (percentile) => percentileOf(latencies, percentile),
  };
}

/** Nearest-rank percentile; NaN for no samples. */
function percentileOf(sorted: number[], percentile: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((percentile / 100) * sorted.length) - 1))]!;
}

async function newestRun(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/runs`, { headers: API_HEADERS });
  if (!response.ok) throw new Error(`GET ${baseUrl}/api/runs answered ${response.status}: is fedsim serve running there?`);
  const { runs } = (await response.json()) as { runs: { id: string }[] };
  if (runs.length === 0) throw new Error(`no runs at ${baseUrl}: pass --run-id, or leave out --url to serve seeded runs`);
  return runs[0]!.id;
}

/** Finished runs as a run writes them (summary.json, metrics.jsonl, scenario.yaml). */
function seedRuns(runsDir: string, count: number): void {
  const scenario = readFileSync(join(ROOT, 'scenarios/quickstart.yaml'), 'utf8');
  for (let r = 0; r < count; r += 1) {
    const started = new Date(Date.UTC(2025, 0, 1, 0, r));
    const id = `seeded-${r}-${started.toISOString().replace(/[:.]/g, '-').replace('T', '_').replace('Z', '')}`;
    const dir = join(runsDir, id);
    mkdirSync(dir);
    const rounds = Array.from({ length: 50 }, (_, i) => ({
      round: i + 1,
      selected: 10,
      selectedClients: Array.from({ length: 10 }, (_, c) => c * 10 + (i % 10)),
      completed: 10,
      dropped: 0,
      rejected: 0,
      trainLoss: 1 / (i + 2),
      testLoss: 1 / (i + 3),
      testAccuracy: 0.9 + i / 1000,
      testMse: null,
      wallMs: 900 + i,
      evalMs: 120,
      clientTrainMs: 4000,
      bytesDown: 1_000_000,
      bytesUp: 1_000_000,
      workers: 2,
    }));
    writeFileSync(join(dir, 'metrics.jsonl'), `${rounds.map((m) => JSON.stringify(m)).join('\n')}\n`);
    writeFileSync(join(dir, 'scenario.yaml'), scenario);
    writeFileSync(
      join(dir, 'summary.json'),
      JSON.stringify({ name: `seeded-${r}`, status: 'completed', roundsCompleted: 50, roundsPlanned: 50, finalTestAccuracy: 0.949, privacy: null }),
    );
  }
}

// ---------------------------------------------------------------- worker churn

async function churn(): Promise<void> {
  const seconds = args.seconds ? Number(args.seconds) : 60;
  const killEvery = args['kill-every'] ? Number(args['kill-every']) : plan.churn.killEverySeconds;
  const workerCount = Number(args.workers);
  const runName = 'load-churn';
  const dir = mkdtempSync(join(tmpdir(), 'fedsim-churn-'));
  // Small and quick: many short rounds. A killed worker's task comes back after the 2 s ack wait,
  // well inside the 8 s deadline, so churn should cost time, not clients.
  writeFileSync(
    join(dir, 'scenario.yaml'),
    [
      `name: ${runName}`,
      'seed: 3',
      'dataset: { name: mnist, trainLimit: 6000, testLimit: 1000 }',
      'partition: { kind: iid, clients: 60 }',
      'model: { name: mlp, preset: 2nn }',
      'rounds: 1000',
      'clientsPerRound: 6',
      'training: { epochs: 1, batchSize: 20, optimizer: sgd, learningRate: 0.05 }',
      'evaluation: { every: 5 }',
      'system: { workers: 0, transport: nats, backend: wasm, roundTimeoutSeconds: 8, taskAckWaitSeconds: 2 }',
      `output: { dir: ${JSON.stringify(join(dir, 'runs'))}, saveModel: false }`,
      '',
    ].join('\n'),
  );
  const nats = await startNatsServer({ maxPayload: 1024 * 1024 });
  const port = await freeLoopbackPort();
  const env = { ...process.env, NATS_URL: nats.url };
  const fedsim = (fedsimArgs: string[]) =>
    spawn(process.execPath, [join(ROOT, 'bin/fedsim.js'), ...fedsimArgs], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const children = new Set<ChildProcess>();
  const coordinator = fedsim(['run', join(dir, 'scenario.yaml'), '--workers', '0', '--serve', String(port), '--log-level', 'warn']);
  children.add(coordinator);
  let coordinatorLog = '';
  coordinator.stderr.on('data', (chunk: Buffer) => (coordinatorLog = (coordinatorLog + chunk.toString()).slice(-4000)));
  const workers: ChildProcess[] = [];
  let workerLog = '';
  const startWorker = () => {
    const worker = fedsim(['worker', '--run', runName, '--keep-alive', '--log-level', 'warn']);
    worker.stderr.on('data', (chunk: Buffer) => (workerLog = (workerLog + chunk.toString()).slice(-2000)));
    children.add(worker);
    workers.push(worker);
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < workerCount; i += 1) startWorker();
    const runId = await waitFor(
      async () => {
        const response = await fetch(`${baseUrl}/api/runs`, { headers: API_HEADERS }).catch(() => null);
        const runs = response?.ok ? ((await response.json()) as { runs: { id: string; live: boolean }[] }).runs : [];
        return runs.find((r) => r.live)?.id ?? null;
      },
      60_000,
      () => `the coordinator did not serve a live run on ${baseUrl}: ${coordinatorLog}`,
    );
    // Churn starts once the run trains, as k6's first kill waits one interval.
    const before = await waitFor(
      async () => {
        const { state } = await readState(baseUrl, runId);
        return state && state.rounds.length > 0 ? state : null;
      },
      120_000,
      () => `no round completed within 2 minutes; the coordinator said: ${coordinatorLog || '(nothing)'}; a worker said: ${workerLog || '(nothing)'}`,
    );
    const roundsBefore = Math.max(...before.rounds.map((r) => r.round));
    const started = Date.now();
    let killed = 0;
    const apiMs: number[] = [];
    let lastState: RunStateView | null = null;
    const killer = setInterval(() => {
      const alive = workers.filter((w) => w.exitCode === null && w.signalCode === null);
      const victim = alive[Math.floor(Math.random() * alive.length)];
      if (!victim) return;
      victim.kill('SIGKILL');
      killed += 1;
      startWorker();
    }, killEvery * 1000);
    while (Date.now() - started < seconds * 1000) {
      const { state, ms } = await readState(baseUrl, runId);
      apiMs.push(ms);
      if (state) lastState = state;
      if (state?.status === 'failed' || state?.status === 'completed') break;
      await new Promise((r) => setTimeout(r, plan.churn.pollEverySeconds * 1000));
    }
    clearInterval(killer);
    // Only the rounds that ran while workers were being killed.
    const rounds = (lastState?.rounds ?? []).filter((r) => r.round > roundsBefore);
    const selected = rounds.reduce((s, r) => s + r.selected, 0);
    const dropped = rounds.reduce((s, r) => s + r.dropped, 0);
    const wall = rounds.map((r) => r.wallMs).sort((a, b) => a - b);
    apiMs.sort((a, b) => a - b);
    const droppedFraction = selected > 0 ? dropped / selected : 0;
    report(
      'load-driver-churn',
      [
        {
          seconds: Math.round((Date.now() - started) / 1000),
          workers: workerCount,
          'kill every s': killEvery,
          killed,
          rounds: rounds.length,
          selected,
          dropped,
          'dropped %': 100 * droppedFraction,
          'round p50 ms': percentileOf(wall, 50),
          'round p95 ms': percentileOf(wall, 95),
          'api p95 ms': percentileOf(apiMs, 95),
          status: lastState?.status ?? 'unknown',
          verdict:
            lastState?.status !== 'failed' && droppedFraction <= plan.churn.maxDroppedFraction && percentileOf(apiMs, 95) < plan.churn.apiP95Ms
              ? 'pass'
              : 'FAIL',
        },
      ],
      {
        scenario: 'MNIST 2NN, 60 clients, 6 a round, round deadline 8 s, ack wait 2 s, wasm',
        maxDroppedFraction: plan.churn.maxDroppedFraction,
        apiP95Ms: plan.churn.apiP95Ms,
      },
    );
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RunStateView {
  status: string;
  rounds: { round: number; selected: number; dropped: number; wallMs: number }[];
}

async function readState(baseUrl: string, runId: string): Promise<{ state: RunStateView | null; ms: number }> {
  const start = performance.now();
  const response = await fetch(`${baseUrl}/api/runs/${encodeURIComponent(runId)}`, { headers: API_HEADERS }).catch(() => null);
  const state = response?.ok ? ((await response.json()) as RunStateView) : null;
  return { state, ms: performance.now() - start };
}

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs: number, why: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 500));
  }
}
