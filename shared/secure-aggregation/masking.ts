/**
 * The masks of Bonawitz et al., CCS 2017, §3–4 (Round 2 of Fig. 4), in Z_{2^32}:
 *
 *   y_u = x_u + PRG(b_u) + Σ_{v ∈ peers, v > u} PRG(s_{u,v}) − Σ_{v ∈ peers, v < u} PRG(s_{u,v})
 *
 * with s_{u,v} = HKDF(X25519(s_u^SK, s_v^PK)) shared by u and v, so each pairwise term appears once
 * with each sign in Σ_u y_u and cancels; the server removes what does not cancel — the self masks
 * of survivors (from reconstructed b) and the pairwise masks between survivors and dropped clients
 * (from a dropped client's reconstructed s^SK). Client and server both call these functions so the
 * sign convention lives in one place.
 */
import { agree, deriveKey, type SessionContext } from './key-agreement.js';
import { addMask } from './prg.js';

/** Sign of the pairwise mask s_{u,v} in u's masked input: + when the peer has the larger index. */
export function pairwiseSign(self: number, peer: number): 1 | -1 {
  return peer > self ? 1 : -1;
}

export function pairwiseMaskSeed(sPrivateKey: Uint8Array, peerSPublicKey: Uint8Array, context: SessionContext): Uint8Array {
  return deriveKey(agree(sPrivateKey, peerSPublicKey), 'pairwise-mask-seed', context);
}

/** Client side: y = x + PRG(b) ± PRG(s_{u,v}) for every peer v. Returns a new vector. */
export function maskInput(
  input: Uint32Array,
  self: number,
  selfMaskSeed: Uint8Array,
  sPrivateKey: Uint8Array,
  peers: ReadonlyArray<{ index: number; sPublicKey: Uint8Array }>,
  context: SessionContext,
): Uint32Array {
  const y = Uint32Array.from(input);
  addMask(y, selfMaskSeed, 1);
  for (const peer of peers) addMask(y, pairwiseMaskSeed(sPrivateKey, peer.sPublicKey, context), pairwiseSign(self, peer.index));
  return y;
}

/** Server side: removes a survivor's self mask from the running sum. */
export function removeSelfMask(sum: Uint32Array, selfMaskSeed: Uint8Array): void {
  addMask(sum, selfMaskSeed, -1);
}

/**
 * Server side: removes the mask that `survivor` added for its pair with `dropped`, using the
 * dropped client's reconstructed s^SK (the survivor's s^SK stays secret).
 */
export function removePairwiseMask(
  sum: Uint32Array,
  survivor: number,
  survivorSPublicKey: Uint8Array,
  dropped: number,
  droppedSPrivateKey: Uint8Array,
  context: SessionContext,
): void {
  const sign = pairwiseSign(survivor, dropped);
  addMask(sum, pairwiseMaskSeed(droppedSPrivateKey, survivorSPublicKey, context), sign === 1 ? -1 : 1);
}
