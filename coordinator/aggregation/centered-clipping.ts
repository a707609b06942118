/**
 * Centered clipping (Karimireddy, He & Jaggi 2021): starting from a centre v (the previous
 * round's aggregate, or zero), L times set v ← v + (1/n) Σᵢ clip_τ(Δᵢ − v), where clip_τ scales a
 * vector longer than τ down to length τ. An outlier then moves the aggregate by at most τ/n per
 * iteration, wherever it lies. The centre is the state that outlives a round; it is exported for
 * checkpoints as base64 float32.
 *
 * Unweighted (see buffered-updates.ts); sums in float64 over updates sorted by client id, so the
 * result is independent of arrival order. Any number of arrivals works.
 */
import { z } from 'zod';
import type { AggregatorEntry } from './aggregator-entry.js';
import type { AggregatorFactory, RoundAggregator, RoundRules } from './aggregator.js';
import { BufferedUpdates, type BufferedUpdate } from './buffered-updates.js';

export interface CenteredClippingOptions {
  tau: number;
  iterations: number;
  start: 'previous' | 'zero';
}

/** L centered-clipping steps from `centre` over the updates. */
export function centeredClip(updates: readonly BufferedUpdate[], centre: Float64Array, tau: number, iterations: number): Float64Array {
  const v = Float64Array.from(centre);
  const step = new Float64Array(v.length);
  for (let l = 0; l < iterations; l++) {
    step.fill(0);
    for (const { delta } of updates) addClippedDifference(step, delta, v, tau);
    for (let i = 0; i < v.length; i++) v[i]! += step[i]! / updates.length;
  }
  return v;
}

/** step += clip_τ(x − v). */
function addClippedDifference(step: Float64Array, x: Float32Array, v: Float64Array, tau: number): void {
  let squared = 0;
  for (let i = 0; i < v.length; i++) squared += (x[i]! - v[i]!) ** 2;
  const scale = Math.min(1, tau / Math.sqrt(squared));
  for (let i = 0; i < v.length; i++) step[i]! += (x[i]! - v[i]!) * scale;
}

export function centeredClipping(options: CenteredClippingOptions): AggregatorFactory {
  return new CenteredClippingFactory(options);
}

class CenteredClippingFactory implements AggregatorFactory {
  readonly name = 'centered-clipping';
  readonly buffersUpdates = true;
  readonly acceptsSecureSum = false;
  /** The previous round's aggregate (start: previous); null before the first round. */
  private previous: Float32Array | null = null;

  constructor(private readonly options: CenteredClippingOptions) {}

  rules(): RoundRules {
    return {};
  }

  create(_round: number, parameterCount: number): RoundAggregator {
    return new BufferedUpdates(this.name, (updates) => {
      const { tau, iterations, start } = this.options;
      const centre = start === 'previous' && this.previous?.length === parameterCount ? Float64Array.from(this.previous) : new Float64Array(parameterCount);
      this.previous = Float32Array.from(centeredClip(updates, centre, tau, iterations));
      return this.previous;
    });
  }

  exportState(): Record<string, unknown> {
    return { previous: this.previous ? Buffer.from(this.previous.buffer, this.previous.byteOffset, this.previous.byteLength).toString('base64') : null };
  }

  restoreState(state: Record<string, unknown>): void {
    const encoded = state.previous;
    if (typeof encoded !== 'string') {
      this.previous = null;
      return;
    }
    const bytes = Buffer.from(encoded, 'base64');
    this.previous = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
}

const schema = z.strictObject({
  name: z.literal('centered-clipping'),
  tau: z.number().positive().describe('τ: the clip radius around the centre, in L2 norm').default(1),
  iterations: z.number().int().min(1).max(100).describe('L: clipping iterations per round').default(3),
  start: z.enum(['previous', 'zero']).describe("the centre: the previous round's aggregate, or zero").default('previous'),
});

export const CENTERED_CLIPPING = {
  name: 'centered-clipping',
  description: "iteratively clips each update's distance to a centre (the previous aggregate) to τ and averages (Karimireddy et al. 2021)",
  schema,
  create: (spec) => centeredClipping(schema.parse(spec)),
} satisfies AggregatorEntry;
