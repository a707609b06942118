/**
 * The task work queue inside one process (the in-process bus), with JetStream's semantics where
 * fedsim relies on them: one delivery per pull, explicit ack, redelivery first after the ack
 * wait or a release, a cap on deliveries, enqueue idempotent by id.
 */
import { holdWhile, type QueuedTask, type TaskBacklog, type TaskConsumer, type TaskQueue, type TaskQueueSettings } from './task-queue.js';

interface Entry {
  id: string;
  data: Uint8Array;
  deliveries: number;
  /** The current delivery's redelivery timer; set while a worker holds the task. */
  timer?: NodeJS.Timeout;
}

interface Puller {
  deliver(entry: Entry | null): void;
}

export class InProcessTaskQueue implements TaskQueue, TaskConsumer {
  private waiting: Entry[] = [];
  private readonly held = new Set<Entry>();
  private readonly seen = new Set<string>();
  private pullers: Puller[] = [];

  constructor(private readonly settings: TaskQueueSettings) {}

  async enqueue(tasks: readonly { data: Uint8Array; id: string }[]): Promise<void> {
    for (const { data, id } of tasks) {
      if (this.seen.has(id)) continue;
      this.seen.add(id);
      this.offer({ id, data: data.slice(), deliveries: 0 }, 'back');
    }
  }

  async backlog(): Promise<TaskBacklog> {
    return { waiting: this.waiting.length, inProgress: this.held.size };
  }

  /** Like a stream purge: taken tasks go too (they will not be redelivered; their acks do nothing). */
  async purge(): Promise<void> {
    this.waiting = [];
    for (const entry of this.held) clearTimeout(entry.timer);
    this.held.clear();
  }

  async remove(): Promise<void> {
    await this.purge();
    for (const puller of this.pullers.splice(0)) puller.deliver(null);
  }

  next(waitMs: number): Promise<QueuedTask | null> {
    const entry = this.waiting.shift();
    if (entry) return Promise.resolve(this.deliver(entry));
    return new Promise((resolve) => {
      const puller: Puller = {
        deliver: (offered) => {
          clearTimeout(timer);
          resolve(offered ? this.deliver(offered) : null);
        },
      };
      const timer = setTimeout(() => {
        this.pullers = this.pullers.filter((p) => p !== puller);
        resolve(null);
      }, waitMs);
      this.pullers.push(puller);
    });
  }

  private offer(entry: Entry, where: 'front' | 'back'): void {
    const puller = this.pullers.shift();
    if (puller) puller.deliver(entry);
    else if (where === 'front') this.waiting.unshift(entry);
    else this.waiting.push(entry);
  }

  private deliver(entry: Entry): QueuedTask {
    entry.deliveries += 1;
    const delivery = entry.deliveries;
    this.held.add(entry);
    const current = () => this.held.has(entry) && entry.deliveries === delivery;
    const giveBack = () => {
      clearTimeout(entry.timer);
      this.held.delete(entry);
      // Redelivered tasks go first, as JetStream's are; one that exhausted its deliveries is dropped.
      if (entry.deliveries < this.settings.maxDeliveries) this.offer(entry, 'front');
    };
    const arm = () => {
      clearTimeout(entry.timer);
      entry.timer = setTimeout(giveBack, this.settings.ackWaitMs);
    };
    arm();
    return {
      data: entry.data,
      delivery,
      ack: () => {
        if (!current()) return;
        clearTimeout(entry.timer);
        this.held.delete(entry);
      },
      release: () => {
        if (current()) giveBack();
      },
      holdWhile: (work) => holdWhile(work, this.settings.ackWaitMs, () => current() && arm()),
    };
  }
}
