/**
 * Server-side norm bounding: updates longer than a bound are refused and counted as rejected,
 * never averaged in (a guard against broken or hostile clients, not a privacy clip).
 */
import type { AggregatorFactory, RoundAggregator, RoundRules } from './aggregator.js';
import { WrappingFactory } from './aggregator.js';

export function normBound(maxNorm: number, inner: AggregatorFactory): AggregatorFactory {
  return new NormBoundFactory(maxNorm, inner);
}

class NormBoundFactory extends WrappingFactory {
  readonly name = 'norm-bound';

  constructor(
    private readonly maxNorm: number,
    inner: AggregatorFactory,
  ) {
    super(inner);
  }

  override rules(round: number): RoundRules {
    const inner = this.inner.rules(round);
    return { ...inner, maxNorm: Math.min(this.maxNorm, inner.maxNorm ?? Infinity) };
  }

  create(round: number, parameterCount: number): RoundAggregator {
    return this.inner.create(round, parameterCount);
  }
}
