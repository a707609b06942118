/**
 * FLTrust (Cao, Fang, Liu & Gong 2021): the server holds a small clean root dataset and trains
 * on it each round as a client would, giving a server update g₀. Each client update gᵢ scores
 * trust TSᵢ = ReLU(cos(gᵢ, g₀)) and is rescaled to g₀'s norm, so neither its direction (against
 * the server's) nor its length (a boosted one) buys influence; the aggregate is
 * Σ TSᵢ · (‖g₀‖/‖gᵢ‖) gᵢ / Σ TSᵢ. A round where every score is 0 leaves the model as it was.
 *
 * The server update comes from the run (the application trains the coordinator's root sample,
 * see app/run/root-training.ts), started when the round is dispatched so it trains alongside
 * the clients. Unweighted and order-independent like the other buffering aggregators; needs
 * individual updates, so it is refused with secure aggregation and DP.
 */
import { z } from 'zod';
import type { AggregatorContext, AggregatorEntry } from './aggregator-entry.js';
import type { AggregatorFactory, RoundAggregator, RoundRules } from './aggregator.js';
import { BufferedUpdates, type BufferedUpdate, type FallbackUpdate } from './buffered-updates.js';

export interface TrustedAggregate {
  delta: Float32Array;
  /** TSᵢ per update, in the updates' order. */
  trust: number[];
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** The FLTrust aggregate of `updates` against the server update. */
export function fltrustAggregate(updates: readonly BufferedUpdate[], server: Float32Array): TrustedAggregate {
  const serverNorm = Math.sqrt(dot(server, server));
  const sum = new Float64Array(server.length);
  let totalTrust = 0;
  const trust = updates.map(({ delta }) => {
    const norm = Math.sqrt(dot(delta, delta));
    if (norm === 0 || serverNorm === 0) return 0;
    const score = Math.max(0, dot(delta, server) / (norm * serverNorm));
    const scale = (score * serverNorm) / norm;
    for (let i = 0; i < sum.length; i++) sum[i]! += scale * delta[i]!;
    totalTrust += score;
    return score;
  });
  return { delta: Float32Array.from(sum, (v) => (totalTrust > 0 ? v / totalTrust : 0)), trust };
}

class FltrustFactory implements AggregatorFactory {
  readonly name = 'fltrust';
  readonly buffersUpdates = true;
  readonly acceptsSecureSum = false;
  private server: { round: number; update: Float32Array } | null = null;

  constructor(
    private readonly rootSamples: number,
    private readonly context: AggregatorContext,
  ) {}

  rules(): RoundRules {
    return {};
  }

  async prepareRound(round: number, global: Float32Array): Promise<void> {
    const train = this.context.trainOnRootData;
    if (!train) throw new Error('strategy.aggregator: fltrust needs the server to train on its root dataset, and this run gave the coordinator none');
    this.server = { round, update: await train(round, global, this.rootSamples) };
  }

  create(round: number): RoundAggregator {
    return new BufferedUpdates(this.name, (updates) => {
      if (this.server?.round !== round) throw new Error(`fltrust: no server update for round ${round} (prepareRound was not awaited)`);
      const { delta, trust } = fltrustAggregate(updates, this.server.update);
      return trust.every((t) => t === 0) ? noUpdate(delta, updates.length) : delta;
    });
  }

  exportState(): Record<string, unknown> {
    return {};
  }

  restoreState(): void {}
}

function noUpdate(zero: Float32Array, arrivals: number): FallbackUpdate {
  return { delta: zero, fallback: { fallback: 'no update', reason: `every one of ${arrivals} updates points away from the server update (trust 0)` } };
}

const schema = z.strictObject({
  name: z.literal('fltrust'),
  rootSamples: z.number().int().min(1).describe('the root dataset: a seeded sample of this many training examples, on the server').default(100),
});

export const FLTRUST = {
  name: 'fltrust',
  description: 'weights each update by ReLU(cosine) to the server’s own update on a small root dataset, rescaled to its norm (Cao et al. 2021)',
  schema,
  create: (spec, context = {}) => new FltrustFactory(schema.parse(spec).rootSamples, context),
} satisfies AggregatorEntry;
