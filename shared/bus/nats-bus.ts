/** The Bus over a real NATS server, with the maintained v3 client. */
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, RequestError, TimeoutError, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { BusError, type Bus, type BusMessage, type BusSubscription } from './bus.js';
import type { ClientStateStore, OwnedClientStateStore } from '../client-state/client-state-store.js';
import { JetStreamTaskConsumer, JetStreamTaskQueue } from './jetstream-task-queue.js';
import { ObjectStoreClientState } from './object-store-client-state.js';
import { inboxPrefixOf, USER_NAME } from './nats-permissions.js';
import type { TaskConsumer, TaskQueue, TaskQueueSettings } from './task-queue.js';

export class NatsBus implements Bus {
  readonly kind = 'nats' as const;

  private constructor(
    private readonly connection: NatsConnection,
    readonly address: string,
  ) {}

  /**
   * Credentials and TLS come from the environment (see natsSecurityFromEnv), as in a cluster's
   * Secret. `onRefused` hears what the server refuses after connecting (a subject this user may
   * not use): NATS reports it out of band, and the operation itself just times out.
   */
  static async connect(url: string, name: string, onRefused?: (message: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<NatsBus> {
    const security = natsSecurityFromEnv(env);
    try {
      const connection = await connect({ servers: url, name, maxReconnectAttempts: 10, reconnectTimeWait: 500, ...security.options });
      if (onRefused) void reportRefusals(connection, onRefused);
      return new NatsBus(connection, url);
    } catch (error) {
      const message = (error as Error).message;
      if (/authoriz|authentic/i.test(message)) {
        throw new Error(`NATS at ${url} refused ${security.describe} (${message}): check NATS_USER / NATS_PASSWORD or NATS_CREDS`);
      }
      throw new Error(`cannot connect to NATS at ${url} as ${security.describe}: ${message}`);
    }
  }

  get maxPayload(): number {
    return this.connection.info?.max_payload ?? 1024 * 1024;
  }

  publish(subject: string, data: Uint8Array): void {
    this.assertFits(subject, data);
    this.connection.publish(subject, data);
  }

  subscribe(subject: string, handler: (message: BusMessage) => void): BusSubscription {
    const subscription = this.connection.subscribe(subject, {
      callback: (error, msg) => {
        if (error) return; // a closed or drained subscription; nothing to deliver
        handler({
          subject: msg.subject,
          data: msg.data,
          respond: (reply) => {
            this.assertFits(subject, reply);
            msg.respond(reply);
          },
        });
      },
    });
    return { unsubscribe: () => subscription.unsubscribe() };
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    this.assertFits(subject, data);
    try {
      const reply = await this.connection.request(subject, data, { timeout: timeoutMs });
      return reply.data;
    } catch (error) {
      if (error instanceof RequestError && error.isNoResponders()) {
        throw new BusError('no-responders', `no subscriber for ${subject}`);
      }
      if (error instanceof TimeoutError || (error instanceof RequestError && error.cause instanceof TimeoutError)) {
        throw new BusError('timeout', `request on ${subject} timed out after ${timeoutMs} ms`);
      }
      if (this.connection.isClosed()) throw new BusError('closed', `NATS connection to ${this.address} is closed`);
      throw error;
    }
  }

  openTaskQueue(run: string, settings: TaskQueueSettings): Promise<TaskQueue> {
    return JetStreamTaskQueue.open(this.connection, this.address, run, settings);
  }

  taskConsumer(run: string): Promise<TaskConsumer> {
    return JetStreamTaskConsumer.open(this.connection, this.address, run);
  }

  openClientState(run: string, limitBytes: number): Promise<OwnedClientStateStore> {
    return ObjectStoreClientState.open(this.connection, this.address, run, limitBytes);
  }

  clientState(run: string): Promise<ClientStateStore> {
    return ObjectStoreClientState.attach(this.connection, this.address, run);
  }

  async flush(): Promise<void> {
    await this.connection.flush();
  }

  async close(): Promise<void> {
    if (this.connection.isClosed()) return;
    // drain() never settles when the connection gives up reconnecting while it drains (a server
    // gone mid-drain); closed() settles either way.
    await Promise.race([this.connection.drain(), this.connection.closed()]).catch(() => {});
    if (!this.connection.isClosed()) await this.connection.close();
  }

  /** Resolves when the connection closes for good (server gone, drained, or closed). */
  closed(): Promise<void | Error> {
    return this.connection.closed();
  }

  private assertFits(subject: string, data: Uint8Array): void {
    if (data.byteLength > this.maxPayload) {
      throw new BusError('payload-too-large', `message of ${data.byteLength} bytes on ${subject} exceeds the server's max_payload ${this.maxPayload}`);
    }
  }
}

async function reportRefusals(connection: NatsConnection, onRefused: (message: string) => void): Promise<void> {
  for await (const status of connection.status()) {
    if (status.type === 'error') onRefused(String(status.error?.message ?? status.error));
  }
}

/**
 * NATS_USER + NATS_PASSWORD, or NATS_CREDS (a .creds file), and NATS_TLS_CA (verify the server
 * against this CA; a tls:// URL without it uses the system's roots). Replies come to the user's
 * own inbox prefix, `_INBOX.<NATS_USER>` (or NATS_INBOX_PREFIX), the one its permissions let it
 * read, so that no other user can read them.
 */
export function natsSecurityFromEnv(env: NodeJS.ProcessEnv): { options: Partial<ConnectionOptions>; describe: string } {
  const options: Partial<ConnectionOptions> = {};
  let describe = 'an anonymous client';
  if (env.NATS_CREDS) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(env.NATS_CREDS);
    } catch (error) {
      throw new Error(`NATS_CREDS: cannot read ${env.NATS_CREDS} (${(error as Error).message})`);
    }
    options.authenticator = credsAuthenticator(creds);
    describe = `the credentials in ${env.NATS_CREDS}`;
  } else if (env.NATS_USER) {
    if (!env.NATS_PASSWORD) throw new Error(`NATS_PASSWORD: missing (NATS_USER is "${env.NATS_USER}", expected its password too)`);
    options.user = env.NATS_USER;
    options.pass = env.NATS_PASSWORD;
    describe = `user "${env.NATS_USER}"`;
  }
  if (env.NATS_TLS_CA) options.tls = { caFile: env.NATS_TLS_CA };
  if (env.NATS_INBOX_PREFIX) options.inboxPrefix = env.NATS_INBOX_PREFIX;
  else if (env.NATS_USER && USER_NAME.test(env.NATS_USER)) options.inboxPrefix = inboxPrefixOf(env.NATS_USER);
  return { options, describe };
}
