/**
 * FedAvgM (Hsu et al. 2019, "Measuring the Effects of Non-Identical Data Distribution"): server
 * momentum on the aggregate Δ: v ← βv + Δ; w ← w + ηv. With β = 0 and η = 1 it is FedAvg.
 */
import { z } from 'zod';
import { ServerOptimizerStrategy } from './server-optimizer-strategy.js';
import { MomentumOptimizer } from './server-optimizers.js';
import { strategyOptions, type StrategyEntry } from './strategy-entry.js';

const schema = strategyOptions('fedavgm', {
  /** β in [0, 1); the paper sweeps 0.7 to 0.997, 0.9 a common choice. */
  serverMomentum: z.number().min(0).lt(1).default(0.9),
  /** η > 0; with momentum β the effective step is η/(1 − β), so η = 1 − β keeps FedAvg's scale. */
  serverLearningRate: z.number().gt(0).max(100).default(1),
});

export const FEDAVGM = {
  name: 'fedavgm',
  description: 'FedAvgM (Hsu et al. 2019): server momentum v ← βv + Δ, w ← w + ηv (serverMomentum β, serverLearningRate η)',
  schema,
  create: (spec, context) => {
    const { name, serverMomentum, serverLearningRate } = spec as z.output<typeof schema>;
    return new ServerOptimizerStrategy(name, new MomentumOptimizer(serverLearningRate, serverMomentum), context);
  },
} satisfies StrategyEntry;
