/**
 * FedAvg's mean: Σₖ wₖ·Δₖ / Σₖ wₖ with wₖ the client's samples (scaled down for partial work),
 * streamed in O(model) memory through an order-independent double-double sum. Over a secure sum
 * the weights are unknown, so the mean is uniform over the survivors.
 */
import { z } from 'zod';
import type { AggregatorEntry } from './aggregator-entry.js';
import type { AggregateOutput, AggregatorFactory, RoundAggregator, RoundRules, SecureSumIn, UpdateIn } from './aggregator.js';
import { WeightedSum } from './weighted-sum.js';

export function weightedMean(): AggregatorFactory {
  return {
    name: 'weighted-mean',
    buffersUpdates: false,
    acceptsSecureSum: true,
    rules: (): RoundRules => ({}),
    create: (_round, parameterCount) => new WeightedMean(parameterCount),
    exportState: () => ({}),
    restoreState: () => {},
  };
}

class WeightedMean implements RoundAggregator {
  private readonly sum: WeightedSum;
  /** Secure aggregation: the survivors' count, the divisor of their uniform mean. */
  private secureClients = 0;

  constructor(parameterCount: number) {
    this.sum = new WeightedSum(parameterCount);
  }

  accept(update: UpdateIn): void {
    if (!(update.weight > 0)) throw new RangeError(`client ${update.clientId} has weight ${update.weight}`);
    if (this.secureClients > 0) throw new Error('weighted mean: a round takes either updates or one secure sum');
    this.sum.add(update.delta, update.weight);
  }

  acceptSecureSum(secure: SecureSumIn): void {
    if (this.sum.added > 0 || secure.clients === 0) throw new Error('weighted mean: a round takes either updates or one non-empty secure sum');
    this.sum.add(secure.sum, 1);
    this.secureClients = secure.clients;
  }

  finish(): AggregateOutput {
    if (this.sum.added === 0) return { delta: null, measurements: {} };
    return { delta: this.secureClients > 0 ? this.sum.result(this.secureClients) : this.sum.result(), measurements: {} };
  }
}

export const WEIGHTED_MEAN = {
  name: 'weighted-mean',
  description: "FedAvg's mean, weighted by each client's samples (uniform over a secure sum, whose weights stay hidden)",
  schema: z.strictObject({ name: z.literal('weighted-mean') }),
  create: () => weightedMean(),
} satisfies AggregatorEntry;
