/**
 * SCAFFOLD's client half (Karimireddy et al. 2020, Algorithm 1, option II). Local steps are
 * corrected by c − cᵢ (local-objective.ts); afterwards the client's control variate becomes
 *
 *   cᵢ⁺ = cᵢ − c + (x − y) / (K·η)
 *
 * with x the global model, y the local one, K local steps and η the local learning rate: the
 * mean gradient along the client's path. Under heavy-ball momentum K is the local work ‖a‖₁
 * (shared/training/local-work.ts), which keeps cᵢ⁺ that mean. The client sends [Δy, Δc] as one
 * vector, Δy = y − x and Δc = cᵢ⁺ − cᵢ, so both pass the same path (compression, masking,
 * checks) and the server's mean of the two halves is one aggregate.
 */
import type { ConfigRecord } from '../../shared/protocol/config-record.js';
import { localWorkNorm } from '../../shared/training/local-work.js';

export { SERVER_CONTROL_VECTOR } from '../../shared/protocol/messages.js';
/** The client's own cᵢ as local training sees it (from the client state store; never on the wire). */
export const CLIENT_CONTROL_VECTOR = 'clientControl';

export function usesControlVariates(config: ConfigRecord | undefined): boolean {
  const asked = config?.controlVariates;
  if (asked === undefined || asked === false) return false;
  if (asked !== true) throw new RangeError(`config.controlVariates must be true or false (got ${JSON.stringify(asked)})`);
  return true;
}

export interface ControlVariateStep {
  /** cᵢ⁺, kept in the client state store. */
  next: Float32Array;
  /** [Δy, Δc]: what the client sends. */
  sent: Float32Array;
}

/** `delta` = y − x; `clientControl` null before the client's first round (cᵢ = 0). */
export function controlVariateStep(
  delta: Float32Array,
  serverControl: Float32Array,
  clientControl: Float32Array | null,
  work: { steps: number; learningRate: number; momentum: number },
): ControlVariateStep {
  const length = delta.length;
  if (serverControl.length !== length || (clientControl && clientControl.length !== length)) {
    throw new RangeError(
      `SCAFFOLD: update, server and client control variates differ in length (${length}, ${serverControl.length}, ${clientControl?.length})`,
    );
  }
  if (work.steps < 1) throw new RangeError(`SCAFFOLD: the client took ${work.steps} local steps, no control variate to estimate`);
  const scale = 1 / (work.learningRate * localWorkNorm(work.steps, work.momentum));
  const next = new Float32Array(length);
  const sent = new Float32Array(2 * length);
  for (let i = 0; i < length; i++) {
    const own = clientControl ? clientControl[i]! : 0;
    next[i] = own - serverControl[i]! - delta[i]! * scale;
    sent[i] = delta[i]!;
    sent[length + i] = next[i]! - own;
  }
  return { next, sent };
}
