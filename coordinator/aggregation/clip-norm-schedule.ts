/**
 * The DP clip norm S over the rounds: fixed, or adaptive (Andrew et al. 2021), where S follows
 * a target quantile of the clients' update norms, learned from a noised count of unclipped
 * updates. Shared by the clipping factory (which tells clients S and counts) and the noise
 * factories (whose noise is scaled by S).
 */
import { Rng } from '../../shared/random.js';
import { QuantileClipNorm } from '../privacy/quantile-clip-norm.js';
import type { DpPlan } from '../privacy/dp-plan.js';

export class ClipNormSchedule {
  private fixed: number;
  private readonly adaptive: QuantileClipNorm | null;

  constructor(
    plan: DpPlan,
    private readonly seed: number,
  ) {
    this.fixed = plan.initialClipNorm;
    this.adaptive =
      plan.clipping === 'adaptive'
        ? new QuantileClipNorm(plan.initialClipNorm, plan.targetQuantile, plan.clipLearningRate, plan.countNoiseStd, plan.expectedClients)
        : null;
  }

  get current(): number {
    return this.adaptive?.current ?? this.fixed;
  }

  get isAdaptive(): boolean {
    return this.adaptive !== null;
  }

  /** After round `round`: adapts S from its count of unclipped updates; the noised fraction, or undefined when fixed. */
  update(round: number, unclippedCount: number): number | undefined {
    return this.adaptive?.update(unclippedCount, new Rng(this.seed).fork(`dp-noise:${round}`).fork('count'));
  }

  exportState(): Record<string, unknown> {
    return { clipNorm: this.current };
  }

  restoreState(state: Record<string, unknown>): void {
    if (typeof state.clipNorm !== 'number') return;
    if (this.adaptive) this.adaptive.restore(state.clipNorm);
    else this.fixed = state.clipNorm;
  }
}
