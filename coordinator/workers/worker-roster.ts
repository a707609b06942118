/**
 * The workers of a run: answers joins (with the scenario) and readiness reports, and lets the
 * run wait until enough workers are ready to train.
 */
import type { Logger } from 'pino';
import type { Bus, BusSubscription } from '../../shared/bus/bus.js';
import { decodeFrameOf, encodeFrame } from '../../shared/protocol/frame.js';
import type { subjects as runSubjects } from '../../shared/protocol/messages.js';
import type { Scenario } from '../../shared/scenario/schema.js';

export interface WorkerInfo {
  workerId: string;
  host: string;
  pid: number;
  joinedAt: string;
  /** Set once the worker has its data and model and listens for tasks. */
  backend?: string;
  backendDetail?: string;
}

export class WorkerRoster {
  readonly workers = new Map<string, WorkerInfo>();
  private subscriptions: BusSubscription[] = [];
  private readyWaiters: (() => void)[] = [];

  constructor(
    private readonly bus: Bus,
    private readonly subjects: ReturnType<typeof runSubjects>,
    private readonly run: { scenario: Scenario; runId: string },
    private readonly log: Logger,
    private readonly onWorkerReady?: (worker: WorkerInfo) => void,
  ) {}

  /** Throws when the scenario cannot reach a worker: the join reply carries it whole, in one message. */
  start(): void {
    const reply = encodeFrame('join-reply', { runName: this.run.scenario.name, runId: this.run.runId, scenario: this.run.scenario });
    if (reply.byteLength > this.bus.maxPayload) {
      throw new Error(
        `the scenario is ${reply.byteLength} bytes as the workers receive it, over the bus's max_payload of ${this.bus.maxPayload} bytes (shorten description or long lists, or raise the NATS server's max_payload)`,
      );
    }
    this.subscriptions = [
      this.bus.subscribe(this.subjects.join, (message) => {
        try {
          const join = decodeFrameOf(message.data, 'join');
          const info: WorkerInfo = { workerId: join.header.workerId, host: join.header.host, pid: join.header.pid, joinedAt: new Date().toISOString() };
          this.workers.set(info.workerId, info);
          message.respond(reply);
          this.log.info({ workerId: info.workerId, host: info.host }, 'worker joined; preparing data and model');
        } catch (error) {
          this.log.warn({ err: (error as Error).message }, 'bad join request refused');
        }
      }),
      this.bus.subscribe(this.subjects.ready, (message) => {
        try {
          message.respond(encodeFrame('ack', this.markReady(decodeFrameOf(message.data, 'ready').header)));
        } catch (error) {
          this.log.warn({ err: (error as Error).message }, 'bad ready message refused');
        }
      }),
    ];
  }

  /** Stops taking joins: a long-lived worker re-joins as soon as it hears run-end, and must reach the next run. */
  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
  }

  readyCount(): number {
    return [...this.workers.values()].filter((w) => w.backend !== undefined).length;
  }

  /** Resolves once `count` workers are ready, or rejects after `timeoutMs`. */
  async waitForReady(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.readyCount() < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.readyCount()} of ${count} workers became ready within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.readyWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private markReady(ready: { workerId: string; backend: string; detail: string }): { ok: boolean; error?: string } {
    const info = this.workers.get(ready.workerId);
    if (!info) return { ok: false, error: `worker ${ready.workerId} has not joined` };
    info.backend = ready.backend;
    info.backendDetail = ready.detail;
    // Debug: the worker says it on its own terminal; in-process both would print it.
    this.log.debug({ workerId: info.workerId, backend: info.backendDetail, ready: this.readyCount() }, 'worker ready');
    this.onWorkerReady?.(info);
    for (const wake of this.readyWaiters.splice(0)) wake();
    return { ok: true };
  }
}
