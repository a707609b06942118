/**
 * Hands out a round's training tasks through the run's task queue (JetStream over NATS): all of
 * the round's tasks are enqueued at once, so what waits is visible to an autoscaler, and idle
 * workers pull them one at a time. A worker that pulled a task claims it before training; the
 * claim tells the coordinator who trains the client, and lets it refuse work that is no longer
 * wanted: a finished round's leftovers, a client already reported, a redelivered secure-
 * aggregation client already bound to another worker's keys.
 *
 * A worker that dies holding a task stops extending it; the queue redelivers it after the ack
 * wait, another worker claims it, and the client is reassigned.
 */
import type { Logger } from 'pino';
import type { Bus, BusSubscription } from '../../shared/bus/bus.js';
import type { TaskQueue, TaskQueueSettings } from '../../shared/bus/task-queue.js';
import { decodeFrameOf, encodeFrame } from '../../shared/protocol/frame.js';
import { subjects as runSubjects, type MessageHeader } from '../../shared/protocol/messages.js';
import type { FrameRefusals } from './frame-refusals.js';
import { newSecret, sameSecret } from './secrets.js';
export type TaskSecureAggregation = NonNullable<MessageHeader<'task'>['secureAggregation']>;

/** One client's task, less what every task has (round, client, deadline, claim token). */
export type TaskFields = Omit<MessageHeader<'task'>, 'round' | 'clientId' | 'deadline' | 'claimToken'>;

export interface Assignment {
  clientId: number;
  workerId: string;
  /** 1 the first time; more when the task came back from a worker that did not finish it. */
  delivery: number;
  /** What this worker's reports for the client must carry; a later claim replaces it. */
  grant: string;
}

export interface RoundTasks {
  round: number;
  clients: readonly number[];
  deadline: number;
  /** What the client's task carries: seed, config, DP instructions, partial work, secure-aggregation role. */
  taskFor: (clientId: number) => TaskFields;
  /** Secure aggregation binds a client's keys to the worker that took it: no second worker may. */
  exclusive: boolean;
  /** Whether the client's update is still awaited (not yet in, not given up on). */
  wanted: (clientId: number) => boolean;
  /** Federated evaluation tasks (after the round's training): their own task ids and claims. */
  evaluate?: boolean;
  onAssigned: (assignment: Assignment) => void;
}

interface OpenRound {
  tasks: RoundTasks;
  /** Enqueued and not yet claimed. */
  unclaimed: Set<number>;
  assignedTo: Map<number, string>;
  /** Each task's claim token: only a worker the queue delivered the task to knows it. */
  claimTokens: Map<number, string>;
  /** Secure aggregation binds a client's keys to the worker that took it: no second worker. */
  exclusive: boolean;
  settle: () => void;
}

export class TaskDispatcher {
  private queue: TaskQueue | null = null;
  private claims: BusSubscription | null = null;
  private current: OpenRound | null = null;
  private readonly subjects: ReturnType<typeof runSubjects>;

  constructor(
    private readonly bus: Bus,
    private readonly run: string,
    private readonly runId: string,
    private readonly settings: TaskQueueSettings,
    private readonly refusals: FrameRefusals,
    private readonly log: Logger,
  ) {
    this.subjects = runSubjects(run);
  }

  /** Creates the run's queue and answers claims; before any worker joins. */
  async open(): Promise<void> {
    this.queue = await this.bus.openTaskQueue(this.run, this.settings);
    this.claims = this.bus.subscribe(this.subjects.claim, (message) => {
      let reply: { ok: boolean; error?: string };
      try {
        reply = this.answerClaim(decodeFrameOf(message.data, 'task-claim').header);
      } catch (error) {
        reply = { ok: false, error: `bad claim: ${(error as Error).message}` };
      }
      message.respond(encodeFrame('ack', reply));
    });
  }

  /**
   * Enqueues the round's tasks and resolves once every one is claimed, at the deadline, or when
   * none of the unclaimed ones is wanted any more, with the clients no worker claimed.
   */
  async dispatch(tasks: RoundTasks): Promise<number[]> {
    const queue = this.requireQueue();
    const claimedAll = new Promise<void>((resolve) => {
      this.current = {
        tasks,
        unclaimed: new Set(tasks.clients),
        assignedTo: new Map(),
        claimTokens: new Map(tasks.clients.map((clientId) => [clientId, newSecret()])),
        exclusive: tasks.exclusive,
        settle: resolve,
      };
    });
    const round = this.current!;
    const encoded = tasks.clients.map((clientId) => {
      const claimToken = round.claimTokens.get(clientId)!;
      const task = encodeFrame('task', { round: tasks.round, clientId, deadline: tasks.deadline, claimToken, ...tasks.taskFor(clientId) });
      // The queue drops a repeated id: an evaluation task must not share its client's training task's.
      return { data: task, id: `${this.runId}:${tasks.round}:${tasks.evaluate ? 'evaluate:' : ''}${clientId}` };
    });
    await queue.enqueue(encoded);
    if (round.unclaimed.size === 0) round.settle();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([claimedAll, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, tasks.deadline - Date.now()))))]);
    clearTimeout(timer);
    return [...round.unclaimed];
  }

  /** Call when an update arrived or was refused: the round may need no more claims. */
  progress(): void {
    const round = this.current;
    if (round && ![...round.unclaimed].some(round.tasks.wanted)) round.settle();
  }

  /** The round is over: its unclaimed tasks are dropped and late claims refused. */
  async endRound(): Promise<void> {
    this.current?.settle();
    this.current = null;
    // Leftovers are refused at claim time anyway; a failed purge only leaves them to be refused.
    await this.queue?.purge().catch((error: Error) => this.log.warn({ err: error.message }, "could not purge the round's leftover tasks"));
  }

  async close(): Promise<void> {
    this.claims?.unsubscribe();
    this.claims = null;
    this.current = null;
    await this.queue?.remove();
    this.queue = null;
  }

  private answerClaim(claim: MessageHeader<'task-claim'>): { ok: boolean; error?: string; grant?: string } {
    const round = this.current;
    const { clientId, workerId } = claim;
    if (!round || round.tasks.round !== claim.round || (round.tasks.evaluate ?? false) !== (claim.evaluate ?? false)) {
      return { ok: false, error: `round ${claim.round}'s ${claim.evaluate ? 'evaluation' : 'training'} is over` };
    }
    if (Date.now() > round.tasks.deadline) return { ok: false, error: `round ${claim.round} is past its deadline` };
    const token = round.claimTokens.get(clientId);
    if (token === undefined) return { ok: false, error: `client ${clientId} has no task in round ${claim.round}` };
    // Without this, anyone on the claim subject could take a client from the worker training it.
    if (!sameSecret(token, claim.claimToken)) {
      this.refusals.count('claim-token');
      return { ok: false, error: `claim of client ${clientId} does not carry its task's claim token` };
    }
    if (!round.tasks.wanted(clientId)) return { ok: false, error: `client ${clientId}'s update is no longer awaited` };
    const holder = round.assignedTo.get(clientId);
    if (holder !== undefined && holder !== workerId) {
      if (round.exclusive) return { ok: false, error: `client ${clientId} is bound to worker ${holder} for secure aggregation` };
      this.log.warn(
        { round: claim.round, clientId, from: holder, to: workerId, delivery: claim.delivery },
        'task redelivered: its worker did not finish it in time; reassigned',
      );
    }
    round.assignedTo.set(clientId, workerId);
    round.unclaimed.delete(clientId);
    const grant = newSecret();
    round.tasks.onAssigned({ clientId, workerId, delivery: claim.delivery, grant });
    if (round.unclaimed.size === 0) round.settle();
    return { ok: true, grant };
  }

  private requireQueue(): TaskQueue {
    if (!this.queue) throw new Error('the task dispatcher is not open');
    return this.queue;
  }
}
