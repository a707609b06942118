/**
 * Secure collection: the round's cohort runs SecAgg/SecAgg+ with the coordinator
 * (coordinator/secure-aggregation). Clients report training with their advertised keys; masked
 * inputs arrive on the results path; once the protocol ends, only the survivors' sum reaches the
 * aggregator. An aborted round hands nothing on, and the model stays as it was.
 */
import type { Logger } from 'pino';
import type { SecureAggregation, SecureRound, SecureRoundResult } from '../secure-aggregation/secure-aggregation.js';
import type { UpdateReceiver } from '../transport/update-receiver.js';
import type { RoundState } from './round-state.js';
import type { CollectionRound, OpenCollection, Settlement, UpdateCollection } from './update-collection.js';

export class SecureCollection implements UpdateCollection {
  constructor(
    private readonly secure: SecureAggregation,
    private readonly receiver: UpdateReceiver,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.secure.start();
  }

  stop(): void {
    this.secure.stop();
  }

  open(round: CollectionRound): OpenCollection {
    const { state } = round;
    // The cohort is fixed before any task goes out: each task carries the client's index.
    const protocol = this.secure.beginRound(round.round, round.cohort, round.parameterCount, {
      onTrained: (clientId, workerId, report) => state.reportTrained(clientId, workerId, report),
    });
    // Masked inputs arrive after training, for the clients sent share deliveries; no plain update is taken.
    this.receiver.open({
      round: round.round,
      isAwaited: (clientId) => protocol.maskedAwaited.has(clientId),
      grantOf: state.grantOf,
      samplesOf: round.samplesOf,
      rules: { expectedLength: round.parameterCount, maxNorm: round.rules.maxNorm },
      masked: protocol.maskedIntake,
      onAccepted: () => {},
      onRejected: (clientId, workerId, reason) => {
        state.reportRejected(clientId, workerId, reason);
        protocol.refused(clientId);
      },
    });
    return {
      abortBeforeStart: protocol.abortBeforeStart,
      exclusive: true,
      taskFields: (clientId) => ({ secureAggregation: protocol.taskFor(clientId) }),
      assigned: (clientId, workerId, grant) => protocol.assign(clientId, workerId, grant),
      settle: () => this.settle(round, protocol),
    };
  }

  private async settle(round: CollectionRound, protocol: SecureRound): Promise<Settlement> {
    round.state.dropAwaited();
    const secured = await protocol.complete();
    this.receiver.close();
    const counts = this.settleCounts(round, secured, protocol);
    if (secured.ok) {
      round.aggregator.acceptSecureSum({
        sum: secured.sum,
        clients: secured.survivors.length,
        ...(secured.unclipped !== undefined ? { unclipped: secured.unclipped } : {}),
      });
      for (const clientId of secured.survivors) {
        const report = round.state.reports.get(clientId)!;
        round.state.results.push({
          clientId,
          samples: report.samples,
          weight: report.samples,
          steps: report.steps,
          plannedSteps: round.plannedSteps(clientId),
          loss: report.loss,
          ...(report.startLoss !== undefined ? { startLoss: report.startLoss } : {}),
        });
      }
    }
    return { ok: secured.ok, ...counts, extraBytesDown: secured.metrics.bytesDown, extraBytesUp: protocol.batchBytesUp, secureAggregation: secured.metrics };
  }

  /**
   * Which clients made it into the sum, which dropped out at a protocol step (events, log), and
   * the round's dropped / rejected counts over the whole cohort.
   */
  private settleCounts(round: CollectionRound, secured: SecureRoundResult, protocol: SecureRound): { dropped: number; rejected: number } {
    const { state, cohort } = round;
    const refused = protocol.refusedClients;
    const inSum = new Set(secured.ok ? secured.survivors : []);
    for (const clientId of inSum) state.workers.add(protocol.hostOfClient(clientId)!);
    const rejected = cohort.filter((id) => refused.has(id) && !inSum.has(id)).length;
    this.logOutcome(state, secured);
    // Trained clients whose update did not reach the model (a later step lost them, or the round aborted).
    const lostBecause = secured.ok ? 'dropped out during secure aggregation' : `secure aggregation aborted: ${secured.metrics.abortReason}`;
    for (const clientId of state.reports.keys()) {
      if (inSum.has(clientId) || refused.has(clientId)) continue;
      state.failures.push({ clientId, kind: 'dropped', reason: lostBecause });
      state.event({ clientId, state: 'dropped', workerId: protocol.hostOfClient(clientId), reason: lostBecause });
    }
    return { dropped: cohort.length - inSum.size - rejected, rejected };
  }

  private logOutcome(state: RoundState, secured: SecureRoundResult): void {
    const m = secured.metrics;
    if (!secured.ok) {
      this.log.warn(
        { round: state.round, step: m.abortStep, reason: m.abortReason, survivors: m.survivors, cohort: m.cohort },
        'secure aggregation aborted; the global model stays as it was',
      );
    } else {
      this.log.info(
        {
          round: state.round,
          survivors: m.survivors,
          cohort: m.cohort,
          droppedAt: m.droppedAt,
          serverMs: Math.round(m.serverMs),
          protocolMs: Math.round(m.protocolMs),
        },
        'secure aggregation done',
      );
    }
  }
}
