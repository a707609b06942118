/**
 * The unweighted mean of the round's updates, Σₖ Δₖ / n: every client counts once whatever its
 * size (local DP's post-processing, where a client's sample count must not matter).
 */
import { z } from 'zod';
import type { AggregatorEntry } from './aggregator-entry.js';
import type { AggregateOutput, AggregatorFactory, RoundAggregator, RoundRules, SecureSumIn, UpdateIn } from './aggregator.js';
import { WeightedSum } from './weighted-sum.js';

export function uniformMean(): AggregatorFactory {
  return {
    name: 'uniform-mean',
    buffersUpdates: false,
    acceptsSecureSum: true,
    rules: (): RoundRules => ({}),
    create: (_round, parameterCount) => new UniformMean(parameterCount),
    exportState: () => ({}),
    restoreState: () => {},
  };
}

class UniformMean implements RoundAggregator {
  private readonly sum: WeightedSum;
  private clients = 0;

  constructor(parameterCount: number) {
    this.sum = new WeightedSum(parameterCount);
  }

  accept(update: UpdateIn): void {
    this.sum.add(update.delta, 1);
    this.clients += 1;
  }

  acceptSecureSum(secure: SecureSumIn): void {
    this.sum.add(secure.sum, 1);
    this.clients += secure.clients;
  }

  finish(): AggregateOutput {
    return { delta: this.clients > 0 ? this.sum.result(this.clients) : null, measurements: {} };
  }
}

export const UNIFORM_MEAN = {
  name: 'uniform-mean',
  description: 'every client counts once, whatever its size',
  schema: z.strictObject({ name: z.literal('uniform-mean') }),
  create: () => uniformMean(),
} satisfies AggregatorEntry;
