/**
 * The seam between fedsim's coordinator/worker logic and the transport. Two implementations:
 * NATS (real deployments and integration tests) and in-process (one process, no server).
 * The shape follows core NATS (subjects, publish/subscribe, request/reply), plus a work queue
 * for the training tasks (JetStream over NATS) and a store for state that follows a client.
 */
import type { ClientStateStore, OwnedClientStateStore } from '../client-state/client-state-store.js';
import type { TaskConsumer, TaskQueue, TaskQueueSettings } from './task-queue.js';

export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Replies to a request; a no-op for plain publishes. */
  respond(data: Uint8Array): void;
}

export interface BusSubscription {
  unsubscribe(): void;
}

export type BusErrorReason = 'no-responders' | 'timeout' | 'closed' | 'payload-too-large';

export class BusError extends Error {
  override name = 'BusError';
  constructor(
    readonly reason: BusErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface Bus {
  readonly kind: 'nats' | 'in-process';
  /** Where it is connected, for logs: a NATS URL or "in-process". */
  readonly address: string;
  /** The largest message the transport accepts; bigger blobs are sent in chunks. */
  readonly maxPayload: number;
  publish(subject: string, data: Uint8Array): void;
  subscribe(subject: string, handler: (message: BusMessage) => void): BusSubscription;
  /** Sends a request to one subscriber and waits for its reply; throws BusError. */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** Coordinator: the run's task queue, created empty (whatever an earlier run of that name left is dropped). */
  openTaskQueue(run: string, settings: TaskQueueSettings): Promise<TaskQueue>;
  /** Worker: the pull side of the run's task queue, which its coordinator opened. */
  taskConsumer(run: string): Promise<TaskConsumer>;
  /** Coordinator: the run's client-state store, created empty, holding at most `limitBytes`. */
  openClientState(run: string, limitBytes: number): Promise<OwnedClientStateStore>;
  /** Worker: the run's client-state store, which its coordinator opened. */
  clientState(run: string): Promise<ClientStateStore>;
  /** Resolves once everything published so far has reached the server. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
