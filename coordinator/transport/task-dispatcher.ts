/**
 * Hands out one client's training task at a time through the workers' NATS queue group. An
 * idle worker holds a one-message queue subscription; a busy one holds none. A task request
 * therefore reaches an idle worker or fails at once with "no responders", so work is spread by
 * who is free, not at random, and a slow worker never hoards a backlog.
 */
import type { Logger } from 'pino';
import { BusError, type Bus } from '../../shared/bus/bus.js';
import { decodeFrameOf, encodeFrame } from '../../shared/protocol/frame.js';
import type { MessageHeader } from '../../shared/protocol/messages.js';
import type { TaskPrivacy } from '../strategies/strategy.js';

export type TaskSecureAggregation = NonNullable<MessageHeader<'task'>['secureAggregation']>;

const ACK_TIMEOUT_MS = 5_000;
const IDLE_POLL_MS = [2, 5, 10, 20, 50];

export interface Assignment {
  clientId: number;
  workerId: string;
}

export class TaskDispatcher {
  private wake: (() => void) | null = null;

  constructor(
    private readonly bus: Bus,
    private readonly subject: string,
    private readonly log: Logger,
  ) {}

  /** Call when a worker may have become idle (an update arrived, a worker joined). */
  workerMayBeIdle(): void {
    this.wake?.();
  }

  /**
   * Dispatches the clients in order until all are taken or the deadline passes. Resolves with
   * the clients that were never handed out.
   */
  async dispatch(
    round: number,
    clients: number[],
    seedFor: (clientId: number) => number,
    deadline: number,
    onAssigned: (assignment: Assignment) => void,
    stillWanted: () => boolean = () => true,
    privacy?: TaskPrivacy,
    maxStepsFor: (clientId: number) => number | undefined = () => undefined,
    secureAggregationFor: (clientId: number) => TaskSecureAggregation | undefined = () => undefined,
  ): Promise<number[]> {
    let next = 0;
    let idleTries = 0;
    while (next < clients.length && Date.now() < deadline && stillWanted()) {
      const clientId = clients[next]!;
      const maxSteps = maxStepsFor(clientId);
      const secureAggregation = secureAggregationFor(clientId);
      const task = encodeFrame('task', {
        round,
        clientId,
        seed: seedFor(clientId),
        deadline,
        ...(privacy ? { privacy } : {}),
        ...(maxSteps !== undefined ? { maxSteps } : {}),
        ...(secureAggregation ? { secureAggregation } : {}),
      });
      try {
        const reply = await this.bus.request(this.subject, task, Math.min(ACK_TIMEOUT_MS, Math.max(1, deadline - Date.now())));
        const ack = decodeFrameOf(reply, 'task-ack');
        onAssigned({ clientId, workerId: ack.header.workerId });
        next += 1;
        idleTries = 0;
      } catch (error) {
        if (error instanceof BusError && error.reason === 'no-responders') {
          await this.waitForIdleWorker(IDLE_POLL_MS[Math.min(idleTries, IDLE_POLL_MS.length - 1)]!);
          idleTries += 1;
        } else if (error instanceof BusError && error.reason === 'timeout') {
          // The worker that took the message did not acknowledge (it may have died): offer the
          // task again.
          this.log.warn({ round, clientId }, 'task not acknowledged in time; offering it again');
        } else {
          throw error;
        }
      }
    }
    return clients.slice(next);
  }

  private waitForIdleWorker(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}
