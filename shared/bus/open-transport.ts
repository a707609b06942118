/**
 * Chooses the run's transport. `auto`: NATS_URL or the scenario's natsUrl if given; otherwise a
 * private nats-server from PATH on a free loopback port for the run; otherwise the in-process bus.
 */
import type { Logger } from 'pino';
import type { SystemSpec } from '../scenario/schema.js';
import type { Bus } from './bus.js';
import { InProcessBus } from './in-process-bus.js';
import { NatsBus } from './nats-bus.js';
import { findNatsServerBinary, startNatsServer, type NatsServerHandle } from './nats-server-process.js';

export interface Transport {
  bus: Bus;
  /** Where other processes (workers) connect; undefined for the in-process bus. */
  natsUrl?: string;
  origin: 'NATS_URL' | 'scenario' | 'private nats-server' | 'in-process';
  close(): Promise<void>;
}

export async function openTransport(system: SystemSpec, log: Logger, env = process.env): Promise<Transport> {
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
    return { bus, natsUrl: given.url, origin: given.origin, close: () => bus.close() };
  }
  if (findNatsServerBinary()) {
    const server: NatsServerHandle = await startNatsServer();
    const bus = await NatsBus.connect(server.url, 'fedsim-coordinator');
    log.info({ url: server.url, maxPayload: bus.maxPayload }, 'transport: NATS (private nats-server started for this run)');
    return {
      bus,
      natsUrl: server.url,
      origin: 'private nats-server',
      close: async () => {
        await bus.close();
        await server.stop();
      },
    };
  }
  if (system.transport === 'nats') {
    throw new Error(
      'system.transport is nats but no NATS URL was given (NATS_URL or system.natsUrl) and nats-server is not on PATH (apt-get install nats-server)',
    );
  }
  return inProcess(log, 'no NATS_URL, no system.natsUrl and no nats-server on PATH');
}

function inProcess(log: Logger, why: string): Transport {
  const bus = new InProcessBus();
  log.warn({ why }, 'transport: in-process bus (workers run inside this process; start nats-server for real workers)');
  return { bus, origin: 'in-process', close: () => bus.close() };
}
