/**
 * Chooses the run's transport. `auto`: NATS_URL or the scenario's natsUrl if given; otherwise a
 * private nats-server from PATH on a free loopback port for the run, with generated users (the
 * coordinator and one per worker, see run-users.ts); otherwise the in-process bus.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SystemSpec } from '../scenario/schema.js';
import type { Bus } from './bus.js';
import { InProcessBus } from './in-process-bus.js';
import { NatsBus } from './nats-bus.js';
import { findNatsServerBinary, startNatsServer, type NatsServerHandle } from './nats-server-process.js';
import { authorizationConfig, generateRunUsers, natsLoginEnv } from './run-users.js';

export interface Transport {
  bus: Bus;
  /** Where other processes (workers) connect; undefined for the in-process bus. */
  natsUrl?: string;
  /**
   * The private nats-server's login of worker `index` (0-based) for a worker's environment; null
   * for a server fedsim did not start (its users are the operator's) or an index beyond the run's users.
   */
  workerLogin(index: number): { NATS_USER: string; NATS_PASSWORD: string } | null;
  /**
   * A private server for hand-started workers: a file (0600, in the server's own temporary folder,
   * gone with it) of their logins, one `NATS_USER=… NATS_PASSWORD=…` line per worker. Passwords
   * never go to a log, which the API streams to dashboards.
   */
  workerLoginsFile?: string;
  origin: 'NATS_URL' | 'scenario' | 'private nats-server' | 'in-process';
  close(): Promise<void>;
}

/** `run`: the run's name (its subjects) and how many workers will join it (users of a private server). */
export async function openTransport(system: SystemSpec, log: Logger, run: { name: string; workers: number }, env = process.env): Promise<Transport> {
  if (system.transport === 'in-process') return inProcess(log, 'system.transport is in-process');
  const given = env.NATS_URL
    ? { url: env.NATS_URL, origin: 'NATS_URL' as const }
    : system.natsUrl
      ? { url: system.natsUrl, origin: 'scenario' as const }
      : undefined;
  if (given) {
    const from = given.origin === 'NATS_URL' ? 'NATS_URL in the environment' : "the scenario's system.natsUrl";
    const bus = await NatsBus.connect(given.url, 'fedsim-coordinator', (message) =>
      log.error({ err: message }, "NATS refused an operation: check the coordinator user's permissions (fedsim deploy creds)"),
    ).catch((error: Error) => {
      throw new Error(`${error.message} (the URL came from ${from})`);
    });
    log.info({ url: given.url, from: given.origin, maxPayload: bus.maxPayload }, 'transport: NATS');
    return { bus, natsUrl: given.url, workerLogin: () => null, origin: given.origin, close: () => bus.close() };
  }
  if (findNatsServerBinary()) return privateServer(run, log);
  if (system.transport === 'nats') {
    throw new Error(
      'system.transport is nats but no NATS URL was given (NATS_URL or system.natsUrl) and nats-server is not on PATH (apt-get install nats-server)',
    );
  }
  return inProcess(log, 'no NATS_URL, no system.natsUrl and no nats-server on PATH');
}

/** Workers started by hand (`system.workers: 0`) get logins too: this many. */
const HAND_STARTED_WORKER_USERS = 8;

async function privateServer(run: { name: string; workers: number }, log: Logger): Promise<Transport> {
  const users = generateRunUsers(run.name, run.workers > 0 ? run.workers : HAND_STARTED_WORKER_USERS);
  const server: NatsServerHandle = await startNatsServer({ extraConfig: authorizationConfig([users.coordinator, ...users.workers]) });
  const bus = await NatsBus.connect(server.url, 'fedsim-coordinator', undefined, natsLoginEnv(users.coordinator)).catch(async (error: Error) => {
    await server.stop();
    throw error;
  });
  log.info({ url: server.url, maxPayload: bus.maxPayload, workerUsers: users.workers.length }, 'transport: NATS (private nats-server started for this run)');
  let workerLoginsFile: string | undefined;
  if (run.workers === 0) {
    workerLoginsFile = join(server.dir, 'worker-logins.env');
    const lines = users.workers.map((user) => `NATS_USER=${user.user} NATS_PASSWORD=${user.password}\n`);
    writeFileSync(workerLoginsFile, lines.join(''), { mode: 0o600 });
  }
  return {
    bus,
    natsUrl: server.url,
    ...(workerLoginsFile ? { workerLoginsFile } : {}),
    workerLogin: (index) => {
      const user = users.workers[index];
      return user ? natsLoginEnv(user) : null;
    },
    origin: 'private nats-server',
    close: async () => {
      await bus.close();
      await server.stop();
    },
  };
}

function inProcess(log: Logger, why: string): Transport {
  const bus = new InProcessBus();
  log.warn({ why }, 'transport: in-process bus (workers run inside this process; start nats-server for real workers)');
  return { bus, workerLogin: () => null, origin: 'in-process', close: () => bus.close() };
}
