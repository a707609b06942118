/**
 * Dashboard fan-out: does streaming a run to many dashboards slow the run down? This process runs
 * the API server and the run (in-process transport, so training and socket.io share one event
 * loop: the worst case); a child process holds N socket.io connections, each subscribed to the
 * run as a browser tab would be (browsers are never in the server's process, so neither are these).
 *
 *   npm run bench:dashboard [-- --dashboards 200 --clients 100 --rounds 6 --repeats 3 --interleaved-rounds 21 --backend auto]
 *
 * Rounds are timed in wall time and in this process's CPU time; the second is what the fan-out
 * itself costs, whatever else the machine runs, and equals wall time on an idle machine (the
 * process is CPU-bound: it trains).
 *   separate runs  runs with 0 and with N dashboards, alternating; round 1 (warm-up) left out.
 *   interleaved    one run, N dashboards subscribed throughout, whose streamed events (client
 *                  batches, workers, log) reach socket.io on even rounds only, as if nobody
 *                  watched the odd ones; each streamed round is compared with its two neighbours,
 *                  so a change of machine load shifts both sides alike. Its CPU overhead is the
 *                  headline figure. (Toggling the subscriptions instead would also charge each
 *                  round N full-state replies, a reconnect storm rather than steady streaming.)
 *   fan-out cost   broadcasts of a typical batch alone, times the messages a round sends: a floor
 *                  (it leaves out the garbage and cache effects of a real round).
 * Delivery latency is per 'run:clients' batch: from the registry handing it to socket.io to its
 * arrival in a dashboard (one machine, one wall clock).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const now = () => performance.timeOrigin + performance.now();

interface ClientBatch {
  runId: string;
  events: { round: number; clientId: number; state: string }[];
}

/** A batch is known by its first event: a client enters each state once per round. */
const batchKey = (events: ClientBatch['events']) => (events[0] ? `${events[0].round}:${events[0].clientId}:${events[0].state}` : 'empty');

/** What the dashboards saw of one run. */
interface DashboardStats {
  /** Per connection: [batch key, arrival time] of each 'run:clients' message. */
  arrivals: [string, number][][];
  /** Per connection: client events received, by round. */
  eventsByRound: Record<number, number>[];
  messages: number[];
  /** All connections together, by event name. */
  byType: Record<string, number>;
  ended: number;
}

type Request =
  | { type: 'connect'; url: string; count: number }
  | { type: 'subscribe'; runId: string }
  | { type: 'unsubscribe'; runId: string }
  | { type: 'collect'; waitForEnd: boolean }
  | { type: 'drain'; messages: number }
  | { type: 'disconnect' };
type Reply = { type: 'done'; ms: number; failed: number } | { type: 'stats'; stats: DashboardStats };

if (process.argv.includes('--dashboard-process')) dashboardProcess();
else await main();

async function main(): Promise<void> {
  const dashboards = Number(arg('--dashboards', '200'));
  const clients = Number(arg('--clients', '100'));
  const rounds = Number(arg('--rounds', '6'));
  const repeats = Number(arg('--repeats', '3'));
  const backend = arg('--backend', 'auto');
  const interleavedRounds = Number(arg('--interleaved-rounds', '21'));

  const { RunRegistry } = await import('../app/api/run-registry.js');
  const { startApiServer } = await import('../app/api/api-server.js');
  const { validateScenario } = await import('../shared/scenario/load-scenario.js');
  const { report } = await import('./report.js');

  const runsDir = mkdtempSync(join(tmpdir(), 'fedsim-bench-fanout-'));
  const registry = new RunRegistry({ runsDir, logLevel: 'silent' });
  // Registered before the server's own listeners: the stamp is taken before socket.io encodes and writes.
  let sent = new Map<string, number>();
  let sentByRound: Record<number, number> = {};
  registry.on('clients', (_id, events) => {
    sent.set(batchKey(events), now());
    for (const e of events) sentByRound[e.round] = (sentByRound[e.round] ?? 0) + 1;
  });
  // The gate of the interleaved measurement: while closed, the registry's streamed events reach
  // no listener, the server's included.
  let streaming = true;
  const STREAMED = new Set(['clients', 'worker', 'log']);
  const emit = registry.emit.bind(registry) as (event: string, ...args: unknown[]) => boolean;
  (registry as unknown as { emit: typeof emit }).emit = (event, ...args) => (streaming || !STREAMED.has(event) ? emit(event, ...args) : false);
  const server = await startApiServer({ port: 0, runsDir, scenariosDir: 'scenarios', logLevel: 'silent', registry });

  const child = fork(fileURLToPath(import.meta.url), ['--dashboard-process'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // One request at a time, answered in order.
  let queue: Promise<unknown> = Promise.resolve();
  const ask = <R extends Reply>(request: Request): Promise<R> => {
    const answer = queue.then(() => new Promise<R>((resolve) => (child.once('message', (m) => resolve(m as R)), child.send(request))));
    queue = answer.catch(() => null);
    return answer;
  };

  const scenarioOf = (name: string, roundCount: number) =>
    validateScenario({
      name,
      seed: 5,
      dataset: { name: 'mnist', trainLimit: clients * 100, testLimit: 1000 },
      partition: { kind: 'iid', clients },
      model: { name: 'mlp', hidden: [16] },
      rounds: roundCount,
      clientsPerRound: clients,
      training: { epochs: 1, batchSize: 10, optimizer: 'sgd', learningRate: 0.05 },
      evaluation: { every: 1 },
      system: { backend, transport: 'in-process', workers: 1, roundTimeoutSeconds: 600 },
      output: { saveModel: false },
      privacy: { membershipInference: false },
    });

  /** Runs a scenario; `watch(round)` is called as each round ends. */
  async function run(name: string, roundCount: number, onStart: (runId: string) => Promise<void>, watch: (round: number, wallMs: number) => void = () => {}) {
    sent = new Map();
    sentByRound = {};
    const roundMs = new Map<number, number>();
    const roundCpuMs = new Map<number, number>();
    let cpuBefore = cpuMs();
    const onRound = (_id: string, metrics: { round: number; wallMs?: unknown }) => {
      const cpu = cpuMs();
      roundMs.set(metrics.round, Number(metrics.wallMs));
      roundCpuMs.set(metrics.round, cpu - cpuBefore);
      cpuBefore = cpu;
      watch(metrics.round, Number(metrics.wallMs));
    };
    registry.on('round', onRound);
    try {
      const { id } = registry.start(scenarioOf(name, roundCount));
      await onStart(id);
      const summary = await registry.finished(id);
      if (summary?.status !== 'completed') throw new Error(`run failed: ${summary?.error}`);
      return { id, roundMs, roundCpuMs, backend: summary.backend, sent, sentByRound };
    } finally {
      registry.off('round', onRound);
    }
  }

  const latenciesOf = (stats: DashboardStats, sentAt: Map<string, number>) =>
    stats.arrivals.flatMap((list) => list.flatMap(([key, t]) => (sentAt.has(key) ? [t - sentAt.get(key)!] : [])));

  let backendDetail = '';
  const separate: { dashboards: number; roundMs: number[]; cpuMs: number[] }[] = [];
  const watched: { stats: DashboardStats; sent: Map<string, number>; sentByRound: Record<number, number>; connectMs: number; subscribeMs: number }[] = [];
  try {
    // Separate runs.
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const n of [0, dashboards]) {
        let connectMs = 0;
        let subscribeMs = 0;
        if (n > 0) {
          // Connected before the run, subscribed the moment it exists: nearly all of round 1 is seen.
          const connected = await ask<Reply & { type: 'done' }>({ type: 'connect', url: server.url, count: n });
          if (connected.failed > 0) throw new Error(`${connected.failed} dashboards could not connect`);
          connectMs = connected.ms;
        }
        const result = await run('bench-fanout', rounds, async (runId) => {
          if (n === 0) return;
          const reply = await ask<Reply & { type: 'done' }>({ type: 'subscribe', runId });
          if (reply.failed > 0) throw new Error(`${reply.failed} dashboards could not subscribe`);
          subscribeMs = reply.ms;
        });
        backendDetail = result.backend;
        const timed = [...result.roundMs].filter(([round]) => round > 1).map(([, ms]) => ms);
        separate.push({ dashboards: n, roundMs: timed, cpuMs: [...result.roundCpuMs].filter(([round]) => round > 1).map(([, ms]) => ms) });
        if (n > 0) {
          const { stats } = await ask<Reply & { type: 'stats' }>({ type: 'collect', waitForEnd: true });
          await ask({ type: 'disconnect' });
          watched.push({ stats, sent: result.sent, sentByRound: result.sentByRound, connectMs, subscribeMs });
        }
        process.stderr.write(`separate runs, ${n} dashboards: rounds 2–${rounds} ${timed.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s\n`);
      }
    }

    // Interleaved: one run, streamed to the dashboards on even rounds.
    await ask({ type: 'connect', url: server.url, count: dashboards });
    const streamedRounds = new Set<number>();
    const interleaved = await run(
      'bench-fanout-interleaved',
      interleavedRounds,
      async (runId) => {
        await ask({ type: 'subscribe', runId });
      },
      (round) => {
        // Round r has ended and r + 1 begins.
        streaming = (round + 1) % 2 === 0;
        if (streaming) streamedRounds.add(round + 1);
      },
    );
    streaming = true;
    const { stats: interleavedStats } = await ask<Reply & { type: 'stats' }>({ type: 'collect', waitForEnd: true });
    await ask({ type: 'disconnect' });
    const ms = interleaved.roundMs;
    const comparable = [...streamedRounds].filter((r) => ms.has(r - 1) && ms.has(r + 1) && r - 1 > 1);
    const ratio = (of: Map<number, number>) => comparable.map((r) => of.get(r)! / ((of.get(r - 1)! + of.get(r + 1)!) / 2));
    const ratios = ratio(ms);
    const cpuRatios = ratio(interleaved.roundCpuMs);
    process.stderr.write(
      `interleaved: ${[...ms].map(([r, v]) => `${r}${streamedRounds.has(r) ? '*' : ''} ${(v / 1000).toFixed(2)}`).join(', ')} s (* streamed)\n`,
    );

    // The fan-out's own price: broadcasts of a typical batch to N subscribed dashboards, through the
    // registry's event as the run sends them, timed in this process's CPU time.
    const broadcasts = 1000;
    await ask({ type: 'connect', url: server.url, count: dashboards });
    await ask({ type: 'subscribe', runId: interleaved.id });
    const batch = Array.from({ length: 10 }, (_, i) => ({ round: 1_000_000, clientId: i, state: 'done' as const, workerId: 'in-process-1' }));
    const cpuStart = cpuMs();
    const wallStart = now();
    const drained = ask<Reply & { type: 'done' }>({ type: 'drain', messages: broadcasts });
    for (let i = 0; i < broadcasts; i++) {
      registry.emit(
        'clients',
        interleaved.id,
        batch.map((e) => ({ ...e, clientId: e.clientId + i * 10 })),
      );
      // Let the sockets write between broadcasts, as the 100 ms batching does in a run.
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    const fanoutCpuMs = (cpuMs() - cpuStart) / broadcasts;
    const drain = await drained;
    const fanoutWallMs = (now() - wallStart) / broadcasts;
    await ask({ type: 'disconnect' });
    const baseRoundCpuMs = median(separate.filter((s) => s.dashboards === 0).flatMap((s) => s.cpuMs));
    const messagesPerRound = mean(watched.flatMap((w) => w.stats.messages)) / rounds;
    const perDashboardRound = watched.length * dashboards * rounds;
    const messagesByType = Object.fromEntries(
      [...new Set(watched.flatMap((w) => Object.keys(w.stats.byType)))].map((type) => [
        type,
        watched.reduce((sum, w) => sum + (w.stats.byType[type] ?? 0), 0) / perDashboardRound,
      ]),
    );
    const estimatedOverhead = ((messagesPerRound * fanoutCpuMs) / baseRoundCpuMs) * 100;
    process.stderr.write(`fan-out: ${fanoutCpuMs.toFixed(3)} ms CPU per broadcast to ${dashboards} (${drain.failed} dashboards short)\n`);

    const rows: Record<string, string | number | null>[] = [];
    const median0 = median(separate.filter((s) => s.dashboards === 0).flatMap((s) => s.roundMs));
    const cpu0 = median(separate.filter((s) => s.dashboards === 0).flatMap((s) => s.cpuMs));
    for (const n of [0, dashboards]) {
      const roundMs = separate.filter((s) => s.dashboards === n).flatMap((s) => s.roundMs);
      const cpu = median(separate.filter((s) => s.dashboards === n).flatMap((s) => s.cpuMs));
      const row: Record<string, string | number | null> = {
        measurement: 'separate runs',
        dashboards: n,
        'rounds timed': roundMs.length,
        'median round s': median(roundMs) / 1000,
        'slowdown %': (median(roundMs) / median0 - 1) * 100,
        'server CPU s / round': cpu / 1000,
        'CPU overhead %': (cpu / cpu0 - 1) * 100,
      };
      if (n > 0) Object.assign(row, deliveryColumns(watched, latenciesOf));
      rows.push(row);
    }
    const interleavedRow: Record<string, string | number | null> = {
      measurement: 'interleaved',
      dashboards: `${dashboards} / 0`,
      'rounds timed': ratios.length,
      'median round s': median([...streamedRounds].filter((r) => ms.has(r)).map((r) => ms.get(r)!)) / 1000,
      'slowdown %': (median(ratios) - 1) * 100,
      'server CPU s / round': median(comparable.map((r) => interleaved.roundCpuMs.get(r)!)) / 1000,
      'CPU overhead %': (median(cpuRatios) - 1) * 100,
      'latency p50 ms': quantile(latenciesOf(interleavedStats, interleaved.sent), 0.5),
      'latency p95 ms': quantile(latenciesOf(interleavedStats, interleaved.sent), 0.95),
    };
    rows.push(interleavedRow);
    rows.push({
      measurement: 'fan-out cost',
      dashboards,
      'rounds timed': null,
      'median round s': null,
      'slowdown %': null,
      'server CPU s / round': (messagesPerRound * fanoutCpuMs) / 1000,
      'CPU overhead %': estimatedOverhead,
    });

    const separateSlowdown = rows[1]!['slowdown %'] as number;
    const interleavedSlowdown = interleavedRow['slowdown %'] as number;
    const headline = interleavedRow['CPU overhead %'] as number;
    report('dashboard-fanout', rows, {
      scenario: {
        clientsPerRound: clients,
        model: 'mlp [16]',
        dataset: `mnist ${clients * 100} train / 1000 test`,
        epochs: 1,
        batchSize: 10,
        backend: backendDetail,
        transport: 'in-process',
      },
      dashboards,
      rounds,
      repeats,
      target: 'slowdown < 5 %',
      headline: { measure: 'interleaved, server CPU per round', overheadPercent: headline, meetsTarget: headline < 5 },
      slowdownPercent: { separateRuns: separateSlowdown, interleaved: interleavedSlowdown },
      serverCpuOverheadPercent: { separateRuns: rows[1]!['CPU overhead %'], interleaved: interleavedRow['CPU overhead %'] },
      fanout: {
        cpuMsPerBroadcast: fanoutCpuMs,
        wallMsPerBroadcastDelivered: fanoutWallMs,
        messagesPerDashboardPerRound: messagesPerRound,
        messagesPerDashboardPerRoundByType: messagesByType,
        serverCpuMsPerRoundWithout: baseRoundCpuMs,
        estimatedOverheadPercent: estimatedOverhead,
        dashboardsShort: drain.failed,
      },
      interleavedRatios: { wall: ratios, cpu: cpuRatios },
      perRound: { separate, interleaved: { wallMs: Object.fromEntries(ms), cpuMs: Object.fromEntries(interleaved.roundCpuMs), watched: comparable } },
    });
  } finally {
    child.kill();
    await server.close();
    rmSync(runsDir, { recursive: true, force: true });
  }
}

/** Completeness counts rounds 2 on: round 1 may begin before the last dashboard has subscribed. */
function deliveryColumns(
  watched: { stats: DashboardStats; sent: Map<string, number>; sentByRound: Record<number, number>; connectMs: number; subscribeMs: number }[],
  latenciesOf: (stats: DashboardStats, sent: Map<string, number>) => number[],
): Record<string, number> {
  const fromRound2 = (byRound: Record<number, number>) => Object.entries(byRound).reduce((sum, [round, count]) => sum + (Number(round) >= 2 ? count : 0), 0);
  const received = watched.flatMap((w) => w.stats.eventsByRound.map(fromRound2));
  const expected = watched.map((w) => fromRound2(w.sentByRound));
  const short = watched.reduce((sum, w) => sum + w.stats.eventsByRound.filter((byRound) => fromRound2(byRound) < fromRound2(w.sentByRound)).length, 0);
  const latencies = watched.flatMap((w) => latenciesOf(w.stats, w.sent));
  return {
    'client events sent / run': mean(expected),
    'received / dashboard': mean(received),
    'dashboards short': short,
    'messages / dashboard': mean(watched.flatMap((w) => w.stats.messages)),
    'latency p50 ms': quantile(latencies, 0.5),
    'latency p95 ms': quantile(latencies, 0.95),
    'connect all s': mean(watched.map((w) => w.connectMs)) / 1000,
    'subscribe all ms': mean(watched.map((w) => w.subscribeMs)),
  };
}

/** The child: N socket.io connections, each its own (no multiplexing), used as the dashboard uses its one. */
function dashboardProcess(): void {
  let sockets: Socket[] = [];
  let stats: DashboardStats = { arrivals: [], eventsByRound: [], messages: [], byType: {}, ended: 0 };
  const reply = (message: Reply) => process.send!(message);
  const all = (each: (socket: Socket, i: number) => Promise<boolean>) => Promise.all(sockets.map(each)).then((ok) => ok.filter((x) => !x).length);

  const handle = async (request: Request) => {
    const started = now();
    switch (request.type) {
      case 'connect': {
        stats = { arrivals: [], eventsByRound: [], messages: [], byType: {}, ended: 0 };
        const st = stats;
        const count = (i: number, event: string) => {
          st.messages[i]! += 1;
          st.byType[event] = (st.byType[event] ?? 0) + 1;
        };
        sockets = Array.from({ length: request.count }, (_, i) => {
          const socket = io(request.url, { forceNew: true, transports: ['websocket'], reconnection: false });
          st.arrivals[i] = [];
          st.eventsByRound[i] = {};
          st.messages[i] = 0;
          socket.on('run:clients', (m: ClientBatch) => {
            st.arrivals[i]!.push([batchKey(m.events), now()]);
            for (const e of m.events) st.eventsByRound[i]![e.round] = (st.eventsByRound[i]![e.round] ?? 0) + 1;
            count(i, 'run:clients');
          });
          for (const event of ['run:round', 'run:worker', 'run:log', 'run:state']) socket.on(event, () => count(i, event));
          socket.on('run:status', (m: { status: string }) => {
            count(i, 'run:status');
            if (m.status === 'completed' || m.status === 'failed') st.ended += 1;
          });
          return socket;
        });
        const failed = await all(
          (socket) => new Promise((resolve) => (socket.once('connect', () => resolve(true)), socket.once('connect_error', () => resolve(false)))),
        );
        return reply({ type: 'done', ms: now() - started, failed });
      }
      case 'subscribe': {
        const failed = await all(
          (socket) => new Promise((resolve) => socket.emit('subscribe', request.runId, (state: { id?: string }) => resolve(state.id === request.runId))),
        );
        return reply({ type: 'done', ms: now() - started, failed });
      }
      case 'unsubscribe':
        for (const socket of sockets) socket.emit('unsubscribe', request.runId);
        return reply({ type: 'done', ms: now() - started, failed: 0 });
      case 'collect': {
        // The run's end reaches the dashboards a moment after the server's promise resolves.
        const deadline = now() + 10_000;
        while (request.waitForEnd && stats.ended < sockets.length && now() < deadline) await new Promise((r) => setTimeout(r, 20));
        return reply({ type: 'stats', stats });
      }
      case 'drain': {
        // Until every connection has had this many 'run:clients' messages since it connected (or 30 s).
        const deadline = now() + 30_000;
        const behind = () => stats.arrivals.filter((list) => list.length < request.messages).length;
        while (behind() > 0 && now() < deadline) await new Promise((r) => setTimeout(r, 5));
        return reply({ type: 'done', ms: now() - started, failed: behind() });
      }
      case 'disconnect':
        for (const socket of sockets) socket.disconnect();
        sockets = [];
        return reply({ type: 'done', ms: now() - started, failed: 0 });
    }
  };
  // A failed request ends the child with the error, as an unhandled rejection would, rather than
  // leaving the parent waiting for a reply.
  process.on('message', (request: Request) => {
    handle(request).catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  });
}

/** This process's CPU time (all threads), ms: the server's own cost, whatever else the box runs. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function mean(values: number[]): number {
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

function median(values: number[]): number {
  return quantile(values, 0.5);
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (at - lo);
}
