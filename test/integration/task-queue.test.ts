/**
 * The task queue's contract, checked on both implementations: JetStream on a real nats-server,
 * and the in-process queue (the in-process bus's stand-in for it). One task per pull, ack
 * forgets it, the ack wait or a release brings it back first, holding it keeps it, purge drops
 * the waiting and the taken, enqueue is idempotent by id, and the backlog counts what waits.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Bus } from '../../shared/bus/bus.js';
import { InProcessBus } from '../../shared/bus/in-process-bus.js';
import { NatsBus } from '../../shared/bus/nats-bus.js';
import { startNatsServer, type NatsServerHandle } from '../../shared/bus/nats-server-process.js';
import { TASK_STREAM, workerConsumer, type TaskConsumer, type TaskQueue } from '../../shared/bus/task-queue.js';
import { useTestNatsServer } from '../support/nats-harness.js';

const nats = useTestNatsServer();
const encoder = new TextEncoder();
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ACK_WAIT_MS = 1_000;

const implementations: [string, () => Promise<Bus>][] = [
  ['JetStream on nats-server', () => NatsBus.connect(nats.url, 'task-queue-test')],
  ['in-process', () => Promise.resolve(new InProcessBus())],
];

describe.each(implementations)('task queue: %s', (_name, openBus) => {
  let coordinatorBus: Bus;
  let workerBus: Bus;
  let queue: TaskQueue;
  let worker: TaskConsumer;
  let run = 0;

  beforeAll(async () => {
    coordinatorBus = await openBus();
    workerBus = coordinatorBus.kind === 'nats' ? await openBus() : coordinatorBus;
  });
  afterAll(async () => {
    if (workerBus !== coordinatorBus) await workerBus.close();
    await coordinatorBus.close();
  });

  async function openRun(): Promise<void> {
    run += 1;
    await openQueue();
  }
  /** Opens the current run's queue, as its coordinator does at start, and a worker's pull side. */
  async function openQueue(): Promise<void> {
    queue = await coordinatorBus.openTaskQueue(`tq-${run}`, { ackWaitMs: ACK_WAIT_MS, maxDeliveries: 3 });
    worker = await workerBus.taskConsumer(`tq-${run}`);
  }
  const enqueue = (...names: string[]) => queue.enqueue(names.map((name) => ({ data: encoder.encode(name), id: name })));

  afterEach(async () => {
    await queue?.remove();
  });

  it('delivers each task once, in order, and forgets it when acked', async () => {
    await openRun();
    await enqueue('a', 'b');
    expect(await queue.backlog()).toEqual({ waiting: 2, inProgress: 0 });
    const first = (await worker.next(2000))!;
    const second = (await worker.next(2000))!;
    expect([text(first.data), text(second.data)]).toEqual(['a', 'b']);
    expect([first.delivery, second.delivery]).toEqual([1, 1]);
    expect(await queue.backlog()).toEqual({ waiting: 0, inProgress: 2 });
    first.ack();
    second.ack();
    await workerBus.flush();
    await sleep(ACK_WAIT_MS * 1.5);
    expect(await worker.next(1000)).toBeNull();
    expect(await queue.backlog()).toEqual({ waiting: 0, inProgress: 0 });
  });

  it('hands a task its worker neither acked nor held back after the ack wait, before newer ones', async () => {
    await openRun();
    await enqueue('lost');
    const taken = (await worker.next(2000))!;
    expect(taken.delivery).toBe(1);
    await enqueue('later');
    // The worker holding "lost" died: no ack, no progress.
    await sleep(ACK_WAIT_MS * 1.3);
    const again = (await worker.next(2000))!;
    expect(text(again.data)).toBe('lost');
    expect(again.delivery).toBe(2);
    again.ack();
    expect(text((await worker.next(2000))!.data)).toBe('later');
  });

  it('keeps a task held while the work runs, however long past the ack wait', async () => {
    await openRun();
    await enqueue('long');
    const task = (await worker.next(2000))!;
    const work = task.holdWhile(sleep(ACK_WAIT_MS * 2.5));
    // Pulling for twice the ack wait while the work runs: nothing comes back.
    expect(await worker.next(ACK_WAIT_MS * 2)).toBeNull();
    await work;
    task.ack();
  });

  it('gives a released task to the next pull at once', async () => {
    await openRun();
    await enqueue('handed-back');
    const task = (await worker.next(2000))!;
    task.release();
    const started = Date.now();
    const again = (await worker.next(2000))!;
    expect(text(again.data)).toBe('handed-back');
    expect(again.delivery).toBe(2);
    expect(Date.now() - started).toBeLessThan(ACK_WAIT_MS);
    again.ack();
  });

  it('gives a task up after its last delivery', async () => {
    await openRun();
    await enqueue('poison');
    for (let delivery = 1; delivery <= 3; delivery++) {
      const task = (await worker.next(2000))!;
      expect(task.delivery).toBe(delivery);
      task.release();
    }
    expect(await worker.next(1000)).toBeNull();
  });

  it('stores a task enqueued twice under one id once', async () => {
    await openRun();
    await enqueue('once', 'once');
    expect((await queue.backlog()).waiting).toBe(1);
  });

  it("purge drops waiting and taken tasks: a dead worker's task from a finished round does not come back", async () => {
    await openRun();
    await enqueue('taken', 'waiting');
    const taken = (await worker.next(2000))!;
    expect(text(taken.data)).toBe('taken');
    await queue.purge();
    await sleep(ACK_WAIT_MS * 1.3);
    expect(await worker.next(1000)).toBeNull();
    expect(await queue.backlog()).toEqual({ waiting: 0, inProgress: 0 });
  });

  it('opening a run again starts from an empty queue', async () => {
    await openRun();
    await enqueue('left-over');
    await openQueue();
    expect(await queue.backlog()).toEqual({ waiting: 0, inProgress: 0 });
    expect(await worker.next(1000)).toBeNull();
  });
});

describe('task queue on NATS', () => {
  it('keeps tasks in the work-queue stream FEDSIM_TASKS, with a durable consumer per run', async () => {
    const bus = await NatsBus.connect(nats.url, 'task-queue-test');
    const queue = await bus.openTaskQueue('tq-stream', { ackWaitMs: 5000, maxDeliveries: 4 });
    await queue.enqueue([{ data: encoder.encode('x'), id: 'x' }]);
    const connection = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(connection);
    const stream = await jsm.streams.info(TASK_STREAM);
    expect(stream.config).toMatchObject({ retention: 'workqueue', subjects: ['fedsim.*.tasks'] });
    const consumer = await jsm.consumers.info(TASK_STREAM, workerConsumer('tq-stream'));
    expect(consumer.config).toMatchObject({
      durable_name: 'workers-tq-stream',
      filter_subject: 'fedsim.tq-stream.tasks',
      ack_policy: 'explicit',
      ack_wait: 5e9,
      max_deliver: 4,
    });
    // What KEDA's nats-jetstream scaler reads.
    expect(consumer.num_pending).toBe(1);
    await queue.remove();
    await expect(jsm.consumers.info(TASK_STREAM, workerConsumer('tq-stream'))).rejects.toThrow(/not found/i);
    await connection.close();
    await bus.close();
  });

  describe('without JetStream', () => {
    let core: NatsServerHandle;
    beforeAll(async () => {
      core = await startNatsServer({ jetstream: false });
    });
    afterAll(async () => {
      await core?.stop();
    });

    it('says what to change', async () => {
      const bus = await NatsBus.connect(core.url, 'task-queue-test');
      await expect(bus.openTaskQueue('no-js', { ackWaitMs: 1000, maxDeliveries: 2 })).rejects.toThrow(/has no JetStream.*-js/);
      await bus.close();
    });
  });
});
