/**
 * A run's task queue on NATS JetStream: the work-queue stream FEDSIM_TASKS (subjects
 * fedsim.*.tasks, a message is deleted once acked) and one durable pull consumer per run,
 * `workers-<run>`, shared by the run's workers. The coordinator creates both; a worker only reads
 * the consumer's info, pulls and acks, which is all its NATS user may do (cli/deploy-command.ts).
 */
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type Consumer,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  holdWhile,
  TASK_STREAM,
  TASK_SUBJECTS,
  taskSubject,
  workerConsumer,
  type QueuedTask,
  type TaskBacklog,
  type TaskConsumer,
  type TaskQueue,
  type TaskQueueSettings,
} from './task-queue.js';

/** Tasks published at once; each waits for its PubAck, so this bounds what is in flight. */
const PUBLISH_WINDOW = 64;

export class JetStreamTaskQueue implements TaskQueue {
  private readonly subject: string;
  private readonly consumer: string;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    run: string,
  ) {
    this.subject = taskSubject(run);
    this.consumer = workerConsumer(run);
  }

  /**
   * Creates the stream if the server has none, and the run's consumer afresh: an earlier run of
   * the same name may have left tasks and other settings behind.
   */
  static async open(connection: NatsConnection, address: string, run: string, settings: TaskQueueSettings): Promise<JetStreamTaskQueue> {
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(connection);
    } catch (error) {
      throw new Error(
        `NATS at ${address} has no JetStream, which fedsim's task queue needs: start nats-server with -js (or a jetstream {} block in its config) (${(error as Error).message})`,
      );
    }
    await ensureTaskStream(jsm, address);
    const queue = new JetStreamTaskQueue(jetstream(connection), jsm, run);
    await queue.deleteConsumer();
    await jsm.streams.purge(TASK_STREAM, { filter: queue.subject });
    await jsm.consumers.add(TASK_STREAM, {
      durable_name: queue.consumer,
      filter_subject: queue.subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: settings.ackWaitMs * 1e6, // nanoseconds
      max_deliver: settings.maxDeliveries,
    });
    return queue;
  }

  async enqueue(tasks: readonly { data: Uint8Array; id: string }[]): Promise<void> {
    for (let start = 0; start < tasks.length; start += PUBLISH_WINDOW) {
      await Promise.all(tasks.slice(start, start + PUBLISH_WINDOW).map((task) => this.js.publish(this.subject, task.data, { msgID: task.id })));
    }
  }

  async backlog(): Promise<TaskBacklog> {
    const info = await this.jsm.consumers.info(TASK_STREAM, this.consumer);
    return { waiting: info.num_pending, inProgress: info.num_ack_pending };
  }

  async purge(): Promise<void> {
    await this.jsm.streams.purge(TASK_STREAM, { filter: this.subject });
  }

  async remove(): Promise<void> {
    await this.purge();
    await this.deleteConsumer();
  }

  private async deleteConsumer(): Promise<void> {
    try {
      await this.jsm.consumers.delete(TASK_STREAM, this.consumer);
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
    }
  }
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

async function ensureTaskStream(jsm: JetStreamManager, address: string): Promise<void> {
  try {
    const info = await jsm.streams.info(TASK_STREAM);
    const { retention, subjects } = info.config;
    if (retention !== RetentionPolicy.Workqueue || !subjects?.includes(TASK_SUBJECTS)) {
      throw new Error(
        `stream ${TASK_STREAM} on ${address} has retention "${retention}" and subjects ${JSON.stringify(subjects)}; fedsim expects a work-queue stream on "${TASK_SUBJECTS}" (delete it, or fix it, and run again)`,
      );
    }
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
    try {
      await jsm.streams.add({ name: TASK_STREAM, subjects: [TASK_SUBJECTS], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
    } catch (addError) {
      // Two coordinators starting at once: the other one created it.
      if (!(addError instanceof JetStreamApiError && /already in use/i.test(addError.message))) throw addError;
    }
  }
}

/** A worker's pull side of its run's consumer. */
export class JetStreamTaskConsumer implements TaskConsumer {
  private constructor(
    private readonly consumer: Consumer,
    private readonly ackWaitMs: number,
  ) {}

  static async open(connection: NatsConnection, address: string, run: string): Promise<JetStreamTaskConsumer> {
    let consumer: Consumer;
    try {
      consumer = await jetstream(connection).consumers.get(TASK_STREAM, workerConsumer(run));
    } catch (error) {
      throw new Error(
        `cannot read the task consumer ${workerConsumer(run)} of stream ${TASK_STREAM} on ${address} (${(error as Error).message}): is JetStream enabled and has the coordinator of run "${run}" started?`,
      );
    }
    const info = await consumer.info(true);
    // The server fills in its default (30 s) when a consumer is created without one.
    return new JetStreamTaskConsumer(consumer, (info.config.ack_wait ?? 30e9) / 1e6);
  }

  async next(waitMs: number): Promise<QueuedTask | null> {
    // The server's minimum pull expiry is one second.
    const message = await this.consumer.next({ expires: Math.max(1000, waitMs) });
    return message ? this.wrap(message) : null;
  }

  private wrap(message: JsMsg): QueuedTask {
    // Once acked or released the message is no longer this worker's to extend.
    let settled = false;
    return {
      data: message.data,
      delivery: message.info.deliveryCount,
      ack: () => {
        settled = true;
        message.ack();
      },
      release: () => {
        settled = true;
        message.nak();
      },
      holdWhile: (work) => holdWhile(work, this.ackWaitMs, () => settled || message.working()),
    };
  }
}
