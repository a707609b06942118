/**
 * One round's bookkeeping, in one place: which clients are still awaited, who trained (and on
 * which worker), who was refused, and the live client events. The collection, the dispatcher
 * and the round runner read and change it only through these methods.
 */
import type { Logger } from 'pino';
import type { UpdateReport } from '../../shared/protocol/transfers.js';
import type { TrainFailure, TrainResult } from '../strategies/strategy.js';
import type { ClientEvent } from './round-report.js';

export class RoundState {
  /** Clients whose update is in the aggregate, with the weight it carried. */
  readonly results: TrainResult[] = [];
  readonly failures: TrainFailure[] = [];
  /** Every client that finished training, with its real local steps (FLOPs follow them). */
  readonly trained: { clientId: number; steps: number }[] = [];
  /** Training reports by client (secure aggregation: the survivors' losses come from these). */
  readonly reports = new Map<number, UpdateReport>();
  /** Workers that delivered updates that reached the aggregate. */
  readonly workers = new Set<string>();
  rejected = 0;
  redelivered = 0;
  clientTrainMs = 0;
  private readonly awaited = new Set<number>();
  /** The current claim of each client: only this worker, with this grant, reports for it. */
  private readonly grants = new Map<number, { workerId: string; grant: string }>();
  private wakeWhenAllIn: () => void = () => {};
  /** Resolves once no client is awaited any more. */
  readonly allIn: Promise<void>;

  constructor(
    readonly round: number,
    private readonly epochs: number,
    private readonly emit: (event: ClientEvent) => void,
    private readonly log: Logger,
    /** Called whenever a client stops being awaited (the dispatcher may stop waiting for claims). */
    private readonly onProgress: () => void,
  ) {
    this.allIn = new Promise<void>((resolve) => (this.wakeWhenAllIn = resolve));
  }

  /** The clients sent a task; none when the round cannot run. */
  expect(clients: readonly number[]): void {
    for (const clientId of clients) this.awaited.add(clientId);
    this.checkAllIn();
  }

  isAwaited = (clientId: number): boolean => this.awaited.has(clientId);

  /** A worker claimed the client's task (again, after a redelivery: the earlier grant is void). */
  grant(clientId: number, workerId: string, grant: string): void {
    this.grants.set(clientId, { workerId, grant });
  }

  grantOf = (clientId: number): { workerId: string; grant: string } | undefined => this.grants.get(clientId);

  event(event: Omit<ClientEvent, 'round'>): void {
    this.emit({ round: this.round, ...event });
  }

  /** The client trained and reported (its update, or under secure aggregation its keys). */
  reportTrained(clientId: number, workerId: string, report: UpdateReport): void {
    this.awaited.delete(clientId);
    this.reports.set(clientId, report);
    this.trained.push({ clientId, steps: report.steps });
    this.clientTrainMs += report.trainMs;
    this.event({ clientId, state: 'done', workerId, samplesTrained: report.samples * this.epochs, trainMs: report.trainMs });
    this.onProgress();
    this.checkAllIn();
  }

  /** Its update (or a protocol message) was refused: it will not report again this round. */
  reportRejected(clientId: number, workerId: string, reason: string): void {
    this.awaited.delete(clientId);
    this.rejected += 1;
    this.failures.push({ clientId, kind: 'rejected', reason });
    this.log.warn({ round: this.round, clientId, workerId, reason }, 'update rejected');
    this.event({ clientId, state: 'rejected', workerId, reason });
    this.onProgress();
    this.checkAllIn();
  }

  /** At the deadline: everyone still awaited has dropped out. Returns how many. */
  dropAwaited(): number {
    const dropped = [...this.awaited];
    for (const clientId of dropped) {
      this.failures.push({ clientId, kind: 'dropped' });
      this.event({ clientId, state: 'dropped' });
    }
    this.awaited.clear();
    if (dropped.length > 0) this.log.warn({ round: this.round, dropped: dropped.length }, 'clients dropped at the round deadline');
    return dropped.length;
  }

  private checkAllIn(): void {
    if (this.awaited.size === 0) this.wakeWhenAllIn();
  }
}
