/**
 * The workers of one run, as the application hosts them: in this process over the in-process
 * bus, as child processes over NATS, or none (a sweep's long-lived pool re-joins by itself; with
 * `system.workers: 0` they are started by hand).
 */
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { Worker } from '../../client/worker.js';
import type { Transport } from '../../shared/bus/open-transport.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import { WorkerProcesses } from './worker-processes.js';

/** How long started workers may take to load data and build the model. */
const WORKER_READY_TIMEOUT_MS = 180_000;

export interface StartedWorkers {
  /** Workers to wait for before round 1, and for how long. */
  expected: number;
  readyTimeoutMs: number;
  stop(): Promise<void>;
}

export interface WorkerRequest {
  scenario: Scenario;
  transport: Transport;
  log: Logger;
  workersLogFile: string;
  /** Overrides system.workers. */
  count?: number;
  /** A sweep's pool of `fedsim worker --keep-alive` processes already serves this run. */
  pooled: boolean;
  onProcessesStarted?: (pids: number[]) => void;
}

/** How many workers a run over NATS starts (the private server makes a user for each). */
export function workerProcessCount(system: Scenario['system'], override?: number): number {
  return override ?? (system.workers === 'auto' ? availableParallelism() : system.workers);
}

/** How many workers serve a run on this transport: in this process (one by default), or as processes over NATS. */
export function workerCount(transport: Transport, system: Scenario['system'], override?: number): number {
  if (transport.bus.kind !== 'in-process') return workerProcessCount(system, override);
  return override ?? (system.workers === 'auto' ? 1 : system.workers);
}

export function startWorkers(request: WorkerRequest): StartedWorkers {
  const { scenario, transport, log } = request;
  const count = workerCount(transport, scenario.system, request.count);
  // Hand-started workers get as long as a round: someone has to start them.
  const readyTimeoutMs = count === 0 ? scenario.system.roundTimeoutSeconds * 1000 : WORKER_READY_TIMEOUT_MS;
  const started: StartedWorkers = { expected: Math.max(count, 1), readyTimeoutMs, stop: async () => {} };
  if (transport.bus.kind === 'in-process') return { ...started, stop: hostInProcess(request, count) };
  if (request.pooled) return started;
  if (count === 0) {
    // The private server admits only its generated users: each hand-started worker takes one line of the logins file.
    const logins = transport.workerLoginsFile;
    const prefix = logins ? `env $(sed -n <k>p ${logins}) ` : '';
    const which = logins ? `  (k = 1, 2, …: one line, one login per worker)` : '';
    log.warn(`waiting for workers: start them with  ${prefix}npx fedsim worker --nats ${transport.natsUrl} --run ${scenario.name}${which}`);
    return started;
  }
  const processes = new WorkerProcesses({
    count,
    natsUrl: transport.natsUrl!,
    runName: scenario.name,
    logFile: request.workersLogFile,
    logLevel: 'info',
    backend: scenario.system.backend,
    loginOf: (index) => transport.workerLogin(index),
  });
  processes.start();
  request.onProcessesStarted?.(processes.pids);
  return { ...started, stop: () => processes.stop() };
}

/** One process, one thread: extra in-process workers would only take turns. They end with the run. */
function hostInProcess({ scenario, transport, log }: WorkerRequest, count: number): () => Promise<void> {
  const running: Promise<unknown>[] = [];
  for (let i = 0; i < Math.max(count, 1); i++) {
    const worker = new Worker({ bus: transport.bus, runName: scenario.name, log: log.child({ worker: i + 1 }), workerId: `in-process-${i + 1}` });
    running.push(worker.run().catch((error: Error) => log.error({ err: error.message }, 'in-process worker failed')));
  }
  return async () => {
    await Promise.all(running);
  };
}
