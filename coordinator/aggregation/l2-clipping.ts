/**
 * L2 clipping for DP: every client clips its update to the round's S before it leaves the
 * worker (an update's norm is what the noise is calibrated to). Under central DP the coordinator
 * also refuses anything longer than S: a client that skipped clipping would break the guarantee.
 * Local DP updates carry their own noise and exceed S by design, so there is no bound then.
 * Counts the updates that were inside S, which adaptive clipping learns from.
 */
import type { AggregateOutput, AggregatorFactory, RoundAggregator, RoundRules, SecureSumIn, UpdateIn } from './aggregator.js';
import { WrappingFactory } from './aggregator.js';
import type { ClipNormSchedule } from './clip-norm-schedule.js';

/** Float slack for a client's clip: its norm is computed in float32. */
const CLIP_TOLERANCE = 1 + 1e-5;

export function l2Clipping(schedule: ClipNormSchedule, inner: AggregatorFactory, options: { enforceOnServer: boolean }): AggregatorFactory {
  return new L2ClippingFactory(schedule, inner, options.enforceOnServer);
}

class L2ClippingFactory extends WrappingFactory {
  readonly name = 'l2-clipping';

  constructor(
    private readonly schedule: ClipNormSchedule,
    inner: AggregatorFactory,
    private readonly enforceOnServer: boolean,
  ) {
    super(inner);
  }

  override rules(round: number): RoundRules {
    const inner = this.inner.rules(round);
    const clipNorm = this.schedule.current;
    const bounds = [inner.maxNorm, this.enforceOnServer ? clipNorm * CLIP_TOLERANCE : undefined].filter((b): b is number => b !== undefined);
    return {
      ...(bounds.length > 0 ? { maxNorm: Math.min(...bounds) } : {}),
      clientPrivacy: { clipNorm, ...inner.clientPrivacy },
    };
  }

  create(round: number, parameterCount: number): RoundAggregator {
    return new L2Clipping(round, this.schedule, this.inner.create(round, parameterCount));
  }

  override exportState(): Record<string, unknown> {
    return { ...super.exportState(), schedule: this.schedule.exportState() };
  }

  override restoreState(state: Record<string, unknown>): void {
    super.restoreState(state);
    this.schedule.restoreState((state.schedule ?? {}) as Record<string, unknown>);
  }
}

class L2Clipping implements RoundAggregator {
  private unclipped = 0;
  private readonly clipNorm: number;

  constructor(
    private readonly round: number,
    private readonly schedule: ClipNormSchedule,
    private readonly inner: RoundAggregator,
  ) {
    this.clipNorm = schedule.current;
  }

  accept(update: UpdateIn): void {
    if (update.unclipped === true) this.unclipped += 1;
    this.inner.accept(update);
  }

  acceptSecureSum(secure: SecureSumIn): void {
    this.unclipped += secure.unclipped ?? 0;
    this.inner.acceptSecureSum(secure);
  }

  /** The inner result first: its noise is scaled by this round's S, before adaptation moves it. */
  finish(): AggregateOutput {
    const output = this.inner.finish();
    const unclippedFraction = this.schedule.update(this.round, this.unclipped);
    return { delta: output.delta, measurements: { ...output.measurements, clipNorm: this.clipNorm, nextClipNorm: this.schedule.current, unclippedFraction } };
  }
}
