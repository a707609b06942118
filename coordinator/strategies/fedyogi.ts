/**
 * FedYogi (Reddi et al. 2021, Algorithm 2): Yogi on the server, whose second moment moves
 * additively, vₜ = vₜ₋₁ − (1 − β₂)Δ²·sign(vₜ₋₁ − Δ²), so it forgets a large Δ more slowly than
 * Adam. Defaults are Flower's (η 0.01, β₁ 0.9, β₂ 0.99, τ 1e-3).
 */
import { adaptiveOptions, adaptiveStrategy } from './server-optimizer-strategy.js';
import { SECOND_MOMENT_RULES } from './server-optimizers.js';
import type { StrategyEntry } from './strategy-entry.js';

export const FEDYOGI = {
  name: 'fedyogi',
  description: 'FedYogi (Reddi et al. 2021): Yogi on the server over the aggregate (serverLearningRate η, beta1, beta2, tau)',
  schema: adaptiveOptions('fedyogi', { learningRate: 0.01, beta1: 0.9, beta2: 0.99, tau: 1e-3 }, true),
  create: (spec, context) => adaptiveStrategy(spec, SECOND_MOMENT_RULES.yogi, context),
} satisfies StrategyEntry;
