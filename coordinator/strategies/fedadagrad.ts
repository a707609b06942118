/**
 * FedAdagrad (Reddi et al. 2021, Algorithm 2): Adagrad on the server, vₜ = vₜ₋₁ + Δ². Defaults
 * are Flower's (η 0.1, τ 1e-9, β₁ 0: no first-moment momentum, as in the paper's Adagrad runs).
 */
import { adaptiveOptions, adaptiveStrategy } from './server-optimizer-strategy.js';
import { SECOND_MOMENT_RULES } from './server-optimizers.js';
import type { StrategyEntry } from './strategy-entry.js';

export const FEDADAGRAD = {
  name: 'fedadagrad',
  description: 'FedAdagrad (Reddi et al. 2021): Adagrad on the server over the aggregate (serverLearningRate η, beta1, tau)',
  schema: adaptiveOptions('fedadagrad', { learningRate: 0.1, beta1: 0, beta2: 0, tau: 1e-9 }, false),
  create: (spec, context) => adaptiveStrategy(spec, SECOND_MOMENT_RULES.adagrad, context),
} satisfies StrategyEntry;
