/**
 * What a strategy's config record asks of the update itself before it leaves the client (the
 * loss-side half is local-objective.ts):
 *
 *   normalizeBySteps (FedNova, Wang et al. 2020), with stepMomentum ρ (0 for plain SGD): send
 *   Δ/‖a‖₁ (shared/training/local-work.ts), so that a client that ran more steps does not pull
 *   the average its way; the server rescales the mean by the cohort's effective ‖a‖₁.
 */
import type { ConfigRecord } from '../../shared/protocol/config-record.js';
import { localWorkNorm } from '../../shared/training/local-work.js';

/** The update as the strategy wants it sent; `delta` itself when nothing is asked (no copy). */
export function normalizedUpdate(delta: Float32Array, steps: number, config: ConfigRecord | undefined): Float32Array {
  const asked = config?.normalizeBySteps;
  if (asked === undefined || asked === false) return delta;
  if (asked !== true) throw new RangeError(`config.normalizeBySteps must be true or false (got ${JSON.stringify(asked)})`);
  const momentum = config?.stepMomentum ?? 0;
  if (typeof momentum !== 'number') throw new RangeError(`config.stepMomentum must be a number (got ${JSON.stringify(momentum)})`);
  if (steps < 1) throw new RangeError(`config.normalizeBySteps: the client took ${steps} local steps, nothing to normalise by`);
  const scale = 1 / localWorkNorm(steps, momentum);
  const normalized = new Float32Array(delta.length);
  for (let i = 0; i < delta.length; i++) normalized[i] = delta[i]! * scale;
  return normalized;
}
