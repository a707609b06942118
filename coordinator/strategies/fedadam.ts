/**
 * FedAdam (Reddi et al. 2021, Algorithm 2): Adam on the server, the aggregate Δ its
 * pseudo-gradient: vₜ = β₂vₜ₋₁ + (1 − β₂)Δ². Defaults are Flower's (η 0.1, β₁ 0.9, β₂ 0.99, τ 1e-9).
 */
import { adaptiveOptions, adaptiveStrategy } from './server-optimizer-strategy.js';
import { SECOND_MOMENT_RULES } from './server-optimizers.js';
import type { StrategyEntry } from './strategy-entry.js';

export const FEDADAM = {
  name: 'fedadam',
  description: 'FedAdam (Reddi et al. 2021): Adam on the server over the aggregate (serverLearningRate η, beta1, beta2, tau)',
  schema: adaptiveOptions('fedadam', { learningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-9 }, true),
  create: (spec, context) => adaptiveStrategy(spec, SECOND_MOMENT_RULES.adam, context),
} satisfies StrategyEntry;
