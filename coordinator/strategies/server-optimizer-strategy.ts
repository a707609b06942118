/**
 * FedAvg whose server steps along the round's aggregate with a server optimizer (FedOpt, Reddi
 * et al. 2021) instead of adding it. Clients train as under FedAvg. Because the optimizer reads
 * only the aggregate, it composes with DP (it steps along the noised mean, as DP-FedAdam does) and
 * with secure aggregation (the uniform mean of the survivors' sum) the same way FedAvg does.
 */
import { z } from 'zod';
import type { ValidatedOptions } from '../../shared/registry/registry.js';
import { FedAvg } from './fedavg.js';
import { AdaptiveOptimizer, type AdaptiveSettings, type SecondMomentRule, type ServerOptimizer } from './server-optimizers.js';
import { strategyOptions, type StrategyContext } from './strategy-entry.js';
import type { StrategyState } from './strategy.js';

export class ServerOptimizerStrategy extends FedAvg {
  constructor(
    override readonly name: string,
    private readonly optimizer: ServerOptimizer,
    context?: StrategyContext,
  ) {
    super(context);
  }

  protected override serverStep(global: Float32Array, delta: Float32Array | Float64Array): Float32Array {
    return this.optimizer.step(global, delta);
  }

  override exportState(): StrategyState {
    return this.optimizer.exportState();
  }

  override restoreState(state: StrategyState): void {
    this.optimizer.restoreState(state);
  }
}

/**
 * The options of an adaptive strategy, defaults its own (Reddi et al. 2021 / Flower). `beta2`
 * only where the rule reads it: Adagrad's v is a plain sum.
 */
export function adaptiveOptions<N extends string>(name: N, defaults: AdaptiveSettings, withBeta2: boolean) {
  return strategyOptions(name, {
    /** η > 0, the server learning rate. */
    serverLearningRate: z.number().gt(0).max(100).default(defaults.learningRate),
    /** β₁ in [0, 1): the first moment's decay (0: no momentum). */
    beta1: z.number().min(0).lt(1).default(defaults.beta1),
    ...(withBeta2 ? { beta2: z.number().min(0).lt(1).default(defaults.beta2) } : {}),
    /** τ > 0, the degree of adaptivity: small τ adapts most. */
    tau: z.number().gt(0).max(1).default(defaults.tau),
  });
}

/** The strategy an adaptive entry builds from its validated options. */
export function adaptiveStrategy(spec: ValidatedOptions, rule: SecondMomentRule, context?: StrategyContext): ServerOptimizerStrategy {
  const options = spec as ValidatedOptions & { serverLearningRate: number; beta1: number; beta2?: number; tau: number };
  const settings: AdaptiveSettings = { learningRate: options.serverLearningRate, beta1: options.beta1, beta2: options.beta2 ?? 0, tau: options.tau };
  return new ServerOptimizerStrategy(spec.name, new AdaptiveOptimizer(settings, rule), context);
}
