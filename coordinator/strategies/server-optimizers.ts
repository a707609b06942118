/**
 * Server optimizers (Reddi et al. 2021, "Adaptive Federated Optimization"): the round's aggregate
 * Δ (the weighted mean of the client deltas, or DP's noised mean) is a pseudo-gradient the server
 * steps along. Momentum (FedAvgM) and the adaptive family (FedAdam, FedYogi, FedAdagrad) share the
 * first moment and the step; the adaptive ones differ only in how the second moment v moves.
 *
 * Moments are kept as float32 so that a checkpoint's exported state restores bit-exactly; each
 * coordinate is computed in double and rounded once.
 */
import type { StrategyState } from './strategy.js';

export interface ServerOptimizer {
  /** The next global model: w stepped along the round's aggregate Δ. */
  step(global: Float32Array, delta: Float32Array | Float64Array): Float32Array;
  exportState(): StrategyState;
  restoreState(state: StrategyState): void;
}

/** FedAvgM (Hsu et al. 2019): v ← βv + Δ; w ← w + ηv. */
export class MomentumOptimizer implements ServerOptimizer {
  private velocity: Float32Array | null = null;

  constructor(
    private readonly learningRate: number,
    private readonly momentum: number,
  ) {}

  step(global: Float32Array, delta: Float32Array | Float64Array): Float32Array {
    const v = (this.velocity = momentsFor(this.velocity, global.length, 0, 'velocity'));
    const weights = new Float32Array(global.length);
    for (let i = 0; i < global.length; i++) {
      v[i] = this.momentum * v[i]! + delta[i]!;
      weights[i] = global[i]! + this.learningRate * v[i]!;
    }
    return weights;
  }

  exportState(): StrategyState {
    return { json: {}, vectors: this.velocity ? { velocity: this.velocity.slice() } : {} };
  }

  restoreState(state: StrategyState): void {
    this.velocity = state.vectors.velocity?.slice() ?? null;
  }
}

/** vₜ from vₜ₋₁ and Δ², per coordinate: what makes Adam, Yogi or Adagrad. */
export type SecondMomentRule = (previous: number, squared: number, beta2: number) => number;

export const SECOND_MOMENT_RULES = {
  /** FedAdam: vₜ = β₂vₜ₋₁ + (1 − β₂)Δ². */
  adam: (v, d2, beta2) => beta2 * v + (1 - beta2) * d2,
  /** FedYogi: vₜ = vₜ₋₁ − (1 − β₂)Δ²·sign(vₜ₋₁ − Δ²), so v grows or shrinks additively. */
  yogi: (v, d2, beta2) => v - (1 - beta2) * d2 * Math.sign(v - d2),
  /** FedAdagrad: vₜ = vₜ₋₁ + Δ². */
  adagrad: (v, d2) => v + d2,
} satisfies Record<string, SecondMomentRule>;

export interface AdaptiveSettings {
  /** η, the server learning rate. */
  learningRate: number;
  beta1: number;
  beta2: number;
  /** τ, the degree of adaptivity (a floor under √v). */
  tau: number;
}

/**
 * Reddi et al. 2021, Algorithm 2: mₜ = β₁mₜ₋₁ + (1 − β₁)Δ; vₜ by the rule; w ← w + η·mₜ/(√vₜ + τ).
 * As in the paper, m₋₁ = 0 and v₋₁ = τ², and there is no bias correction.
 */
export class AdaptiveOptimizer implements ServerOptimizer {
  private first: Float32Array | null = null;
  private second: Float32Array | null = null;

  constructor(
    private readonly settings: AdaptiveSettings,
    private readonly secondMoment: SecondMomentRule,
  ) {}

  step(global: Float32Array, delta: Float32Array | Float64Array): Float32Array {
    const { learningRate, beta1, beta2, tau } = this.settings;
    const m = (this.first = momentsFor(this.first, global.length, 0, 'firstMoment'));
    const v = (this.second = momentsFor(this.second, global.length, tau * tau, 'secondMoment'));
    const weights = new Float32Array(global.length);
    for (let i = 0; i < global.length; i++) {
      const d = delta[i]!;
      m[i] = beta1 * m[i]! + (1 - beta1) * d;
      v[i] = this.secondMoment(v[i]!, d * d, beta2);
      weights[i] = global[i]! + (learningRate * m[i]!) / (Math.sqrt(v[i]!) + tau);
    }
    return weights;
  }

  exportState(): StrategyState {
    const vectors: Record<string, Float32Array> = {};
    if (this.first) vectors.firstMoment = this.first.slice();
    if (this.second) vectors.secondMoment = this.second.slice();
    return { json: {}, vectors };
  }

  restoreState(state: StrategyState): void {
    this.first = state.vectors.firstMoment?.slice() ?? null;
    this.second = state.vectors.secondMoment?.slice() ?? null;
  }
}

/** The moment vector of a model of `length` values: the one kept, or a new one filled with `initial`. */
function momentsFor(kept: Float32Array | null, length: number, initial: number, name: string): Float32Array {
  if (kept === null) return new Float32Array(length).fill(initial);
  if (kept.length !== length) throw new RangeError(`server optimizer: ${name} has ${kept.length} values, the model ${length}`);
  return kept;
}
