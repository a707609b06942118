/**
 * Secure aggregation as the sum under the chain: the round's updates arrive only as the
 * protocol's unmasked sum of survivors, never one by one, so what wraps it must be able to work
 * from a sum (means, DP noise) and cannot need individual updates (a median, Krum).
 */
import type { AggregateOutput, AggregatorFactory, RoundAggregator, SecureSumIn, UpdateIn } from './aggregator.js';
import { WrappingFactory } from './aggregator.js';

export function secureSum(inner: AggregatorFactory): AggregatorFactory {
  if (!inner.acceptsSecureSum || inner.buffersUpdates) {
    throw new Error(`aggregator ${inner.name} needs individual updates, which secure aggregation never reveals to the coordinator`);
  }
  return new SecureSumFactory(inner);
}

class SecureSumFactory extends WrappingFactory {
  readonly name = 'secure-sum';

  create(round: number, parameterCount: number): RoundAggregator {
    return new SecureSum(this.inner.create(round, parameterCount));
  }
}

class SecureSum implements RoundAggregator {
  constructor(private readonly inner: RoundAggregator) {}

  accept(update: UpdateIn): void {
    throw new Error(`secure aggregation: client ${update.clientId}'s individual update reached the aggregator; only the protocol's sum may`);
  }

  acceptSecureSum(secure: SecureSumIn): void {
    this.inner.acceptSecureSum(secure);
  }

  finish(): AggregateOutput {
    return this.inner.finish();
  }
}
