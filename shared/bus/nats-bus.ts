/** The Bus over a real NATS server, with the maintained v3 client. */
import { connect, RequestError, TimeoutError, type NatsConnection } from '@nats-io/transport-node';
import { BusError, type Bus, type BusMessage, type BusSubscription, type SubscribeOptions } from './bus.js';

export class NatsBus implements Bus {
  readonly kind = 'nats' as const;

  private constructor(
    private readonly connection: NatsConnection,
    readonly address: string,
  ) {}

  static async connect(url: string, name: string): Promise<NatsBus> {
    try {
      const connection = await connect({ servers: url, name, maxReconnectAttempts: 10, reconnectTimeWait: 500 });
      return new NatsBus(connection, url);
    } catch (error) {
      throw new Error(`cannot connect to NATS at ${url}: ${(error as Error).message}`);
    }
  }

  get maxPayload(): number {
    return this.connection.info?.max_payload ?? 1024 * 1024;
  }

  publish(subject: string, data: Uint8Array): void {
    this.assertFits(subject, data);
    this.connection.publish(subject, data);
  }

  subscribe(subject: string, handler: (message: BusMessage) => void, options: SubscribeOptions = {}): BusSubscription {
    const subscription = this.connection.subscribe(subject, {
      queue: options.queue,
      max: options.max,
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

  async flush(): Promise<void> {
    await this.connection.flush();
  }

  async close(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.drain().catch(() => this.connection.close());
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
