/**
 * A bus inside one process, for runs without a NATS server and for unit tests. It keeps the
 * semantics that matter to fedsim: asynchronous delivery, no-responders errors, request timeouts,
 * a payload limit and the task work queue (in-process-task-queue.ts), so code that works here
 * works over NATS.
 */
import { BusError, type Bus, type BusMessage, type BusSubscription } from './bus.js';
import type { ClientStateStore, OwnedClientStateStore } from '../client-state/client-state-store.js';
import { InProcessClientState } from '../client-state/in-process-client-state.js';
import { InProcessTaskQueue } from './in-process-task-queue.js';
import type { TaskConsumer, TaskQueue, TaskQueueSettings } from './task-queue.js';

interface Subscriber {
  subject: string;
  handler: (message: BusMessage) => void;
  active: boolean;
}

/** NATS' default max_payload, so chunking is exercised the same way. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export class InProcessBus implements Bus {
  readonly kind = 'in-process' as const;
  readonly address = 'in-process';
  private readonly subscribers = new Map<string, Subscriber[]>();
  private readonly taskQueues = new Map<string, InProcessTaskQueue>();
  private readonly clientStates = new Map<string, InProcessClientState>();
  private closed = false;

  constructor(readonly maxPayload = DEFAULT_MAX_PAYLOAD) {}

  publish(subject: string, data: Uint8Array): void {
    this.deliver(subject, data, () => {});
  }

  subscribe(subject: string, handler: (message: BusMessage) => void): BusSubscription {
    this.assertOpen();
    const subscriber: Subscriber = { subject, handler, active: true };
    const list = this.subscribers.get(subject) ?? [];
    list.push(subscriber);
    this.subscribers.set(subject, list);
    return { unsubscribe: () => this.remove(subscriber) };
  }

  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new BusError('timeout', `request on ${subject} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const delivered = this.deliver(subject, data, (reply) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(reply);
      });
      if (!delivered) {
        settled = true;
        clearTimeout(timer);
        reject(new BusError('no-responders', `no subscriber for ${subject}`));
      }
    });
  }

  async openTaskQueue(run: string, settings: TaskQueueSettings): Promise<TaskQueue> {
    this.assertOpen();
    await this.taskQueues.get(run)?.remove();
    const queue = new InProcessTaskQueue(settings);
    this.taskQueues.set(run, queue);
    return queue;
  }

  async taskConsumer(run: string): Promise<TaskConsumer> {
    this.assertOpen();
    const queue = this.taskQueues.get(run);
    if (!queue) throw new Error(`run "${run}" has no task queue yet: its coordinator opens it before taking joins`);
    return queue;
  }

  async openClientState(run: string, limitBytes: number): Promise<OwnedClientStateStore> {
    this.assertOpen();
    await this.clientStates.get(run)?.destroy();
    const store = new InProcessClientState(limitBytes, () => {
      if (this.clientStates.get(run) === store) this.clientStates.delete(run);
    });
    this.clientStates.set(run, store);
    return store;
  }

  async clientState(run: string): Promise<ClientStateStore> {
    this.assertOpen();
    const store = this.clientStates.get(run);
    if (!store) throw new Error(`run "${run}" has no client-state store: its coordinator opens it before taking joins`);
    return store;
  }

  async flush(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    for (const queue of this.taskQueues.values()) await queue.remove();
    this.taskQueues.clear();
    this.clientStates.clear();
  }

  /** Returns whether anyone will receive the message. */
  private deliver(subject: string, data: Uint8Array, onReply: (reply: Uint8Array) => void): boolean {
    this.assertOpen();
    if (data.byteLength > this.maxPayload) {
      throw new BusError('payload-too-large', `message of ${data.byteLength} bytes on ${subject} exceeds max payload ${this.maxPayload}`);
    }
    const targets = (this.subscribers.get(subject) ?? []).filter((s) => s.active);
    // Copy, as a network would: the receiver must not share memory with the sender.
    const copy = data.slice();
    for (const target of targets) {
      setImmediate(() => {
        if (this.closed) return;
        target.handler({
          subject,
          data: copy,
          respond: (reply) => {
            if (reply.byteLength > this.maxPayload) {
              throw new BusError('payload-too-large', `reply of ${reply.byteLength} bytes exceeds max payload ${this.maxPayload}`);
            }
            const replyCopy = reply.slice();
            setImmediate(() => onReply(replyCopy));
          },
        });
      });
    }
    return targets.length > 0;
  }

  private remove(subscriber: Subscriber): void {
    subscriber.active = false;
    const list = this.subscribers.get(subscriber.subject);
    if (!list) return;
    const rest = list.filter((s) => s !== subscriber);
    if (rest.length > 0) this.subscribers.set(subscriber.subject, rest);
    else this.subscribers.delete(subscriber.subject);
  }

  private assertOpen(): void {
    if (this.closed) throw new BusError('closed', 'the in-process bus is closed');
  }
}
