/**
 * Plain collection: every update arrives on its own, is checked by the update receiver (length,
 * finite values, norm bound) and goes straight into the aggregator, weighted as the strategy says
 * (by its samples, scaled for partial work, by default).
 * A curious coordinator (privacy.updateAttacks) also keeps copies of some for its attacks.
 */
import type { UpdateCapture } from '../privacy/update-capture.js';
import type { UpdateReceiver } from '../transport/update-receiver.js';
import type { CollectionRound, OpenCollection, Settlement, UpdateCollection } from './update-collection.js';

/** In float64, in index order: the same value wherever the update is summed. */
function squaredNorm(delta: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < delta.length; i++) sum += delta[i]! * delta[i]!;
  return sum;
}

export class PlainCollection implements UpdateCollection {
  constructor(
    private readonly receiver: UpdateReceiver,
    private readonly capture: UpdateCapture | null = null,
  ) {}

  start(): void {}
  stop(): void {}

  open(round: CollectionRound): OpenCollection {
    const { state, aggregator, plannedSteps, weighUpdate } = round;
    const observe = this.capture?.openRound(round.round, round.cohort, round.global);
    this.receiver.open({
      round: round.round,
      isAwaited: state.isAwaited,
      grantOf: state.grantOf,
      samplesOf: round.samplesOf,
      rules: { expectedLength: round.parameterCount, maxNorm: round.rules.maxNorm },
      onAccepted: ({ clientId, workerId, report, delta }) => {
        // Before the aggregator, which may clip the vector in place.
        observe?.({ clientId, samples: report.samples, steps: report.steps, delta });
        const startLoss = report.startLoss !== undefined ? { startLoss: report.startLoss } : {};
        const planned = plannedSteps(clientId);
        const weight = weighUpdate({ clientId, samples: report.samples, steps: report.steps, plannedSteps: planned, loss: report.loss, ...startLoss });
        const normSquared = squaredNorm(delta);
        aggregator.accept({ clientId, delta, weight, ...(report.unclipped !== undefined ? { unclipped: report.unclipped } : {}) });
        state.results.push({
          clientId,
          samples: report.samples,
          weight,
          steps: report.steps,
          plannedSteps: planned,
          loss: report.loss,
          normSquared,
          ...startLoss,
        });
        state.workers.add(workerId);
        state.reportTrained(clientId, workerId, report);
      },
      onRejected: (clientId, workerId, reason) => state.reportRejected(clientId, workerId, reason),
    });
    return {
      abortBeforeStart: null,
      exclusive: false,
      taskFields: () => ({}),
      assigned: () => {},
      // Nothing to wait for without secure aggregation: the round's updates are already in.
      settle: (): Promise<Settlement> => {
        const dropped = state.dropAwaited();
        this.receiver.close();
        return Promise.resolve({ ok: true, dropped, rejected: state.rejected, extraBytesDown: 0, extraBytesUp: 0 });
      },
    };
  }
}
