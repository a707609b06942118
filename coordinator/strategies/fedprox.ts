/**
 * FedProx (Li et al. 2020, "Federated Optimization in Heterogeneous Networks"): FedAvg whose
 * clients minimise their loss plus a proximal term μ/2‖w − w_t‖², which keeps local models near
 * the global one under heterogeneous data and variable local work. With `system.stragglers:
 * partial-work` (stragglers send what they managed) this is the paper's setting. The server
 * side is FedAvg's; the term is applied in local training (client/training/local-objective.ts),
 * reached through the config record.
 */
import { z } from 'zod';
import { FedAvg } from './fedavg.js';
import type { ClientPool, TrainInstructions } from './strategy.js';
import { strategyOptions, type StrategyContext, type StrategyEntry } from './strategy-entry.js';

export class FedProx extends FedAvg {
  override readonly name: string = 'fedprox';

  constructor(
    private readonly mu: number,
    context?: StrategyContext,
  ) {
    super(context);
  }

  override configureTrain(round: number, eligible: ClientPool): TrainInstructions {
    return { ...super.configureTrain(round, eligible), config: { proximalMu: this.mu } };
  }
}

const schema = strategyOptions('fedprox', {
  /** μ ≥ 0; the paper tries 0.001, 0.01, 0.1 and 1 (μ = 0 is FedAvg). */
  mu: z.number().min(0).max(1e4),
});

export const FEDPROX = {
  name: 'fedprox',
  description: 'FedProx (Li et al. 2020): FedAvg with the proximal term μ/2‖w − w_t‖² in local training',
  schema,
  create: (spec, context) => new FedProx((spec as z.output<typeof schema>).mu, context),
} satisfies StrategyEntry;
