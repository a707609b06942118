/**
 * A run's training tasks as a work queue: the coordinator enqueues a round's tasks at once, idle
 * workers pull them one at a time and acknowledge each only after its update is sent. A task
 * whose worker dies (no ack, no progress within the ack wait) goes to another worker, so a
 * scaled-down or crashed worker never loses one, and what is waiting is measurable (the lag an
 * autoscaler reads). Over NATS this is a JetStream work-queue stream with one durable pull
 * consumer per run (jetstream-task-queue.ts); in one process, an in-memory queue with the same
 * semantics (in-process-task-queue.ts).
 */

/** The stream that holds every run's tasks, on subjects fedsim.<run>.tasks. */
export const TASK_STREAM = 'FEDSIM_TASKS';
export const TASK_SUBJECTS = 'fedsim.*.tasks';

/** The durable pull consumer a run's workers share; KEDA scales workers on its lag. */
export function workerConsumer(run: string): string {
  return `workers-${run}`;
}

export function taskSubject(run: string): string {
  return `fedsim.${run}.tasks`;
}

export interface TaskQueueSettings {
  /** A delivered task not acked and not reported as in progress for this long is redelivered. */
  ackWaitMs: number;
  /** Deliveries of one task before the queue gives up on it (a task that kills every worker). */
  maxDeliveries: number;
}

export interface TaskBacklog {
  /** Tasks no worker has taken yet. */
  waiting: number;
  /** Tasks taken and not yet acknowledged. */
  inProgress: number;
}

/** The coordinator's side of a run's queue. */
export interface TaskQueue {
  /** Resolves once every task is stored. `id` makes it idempotent: a retried task is stored once. */
  enqueue(tasks: readonly { data: Uint8Array; id: string }[]): Promise<void>;
  backlog(): Promise<TaskBacklog>;
  /** Drops the tasks no worker has taken (a finished round's leftovers). */
  purge(): Promise<void>;
  /** Removes the run's consumer and its tasks (the run is over). */
  remove(): Promise<void>;
}

export interface QueuedTask {
  readonly data: Uint8Array;
  /** 1 on first delivery; more when an earlier worker did not finish it. */
  readonly delivery: number;
  /** Done (or not to be done): the queue forgets the task. */
  ack(): void;
  /** Give it back now, for another worker (this one is stopping). */
  release(): void;
  /** Keeps the task from being redelivered while `work` runs. */
  holdWhile<T>(work: Promise<T>): Promise<T>;
}

/** A worker's side: pull one task, work, ack, pull the next. */
export interface TaskConsumer {
  /** The next task, or null when none came within `waitMs` (the caller decides whether to wait again). */
  next(waitMs: number): Promise<QueuedTask | null>;
}

/** Calls `working` every third of the ack wait until `work` settles. */
export async function holdWhile<T>(work: Promise<T>, ackWaitMs: number, working: () => void): Promise<T> {
  const timer = setInterval(working, Math.max(50, ackWaitMs / 3));
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
