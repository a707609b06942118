/**
 * Authenticated encryption of the Shamir shares one client sends another through the server
 * (AE.enc / AE.dec in Bonawitz et al., CCS 2017, §3 and Round 1 of Fig. 4).
 *
 * AES-256-GCM with a fresh random 12-byte nonce per message. The paper puts u‖v inside the
 * plaintext and checks them after decryption; binding (session, round, sender, receiver) as GCM
 * associated data gives the same guarantee with nothing to forget to check: a ciphertext replayed
 * to another pair, in the other direction, or in another round fails authentication. The key of a
 * pair is the same in both directions (it comes from one agreement), which is why the direction
 * has to be in the associated data.
 *
 * Plaintext: share of s^SK ‖ share of b, each SHARE_BYTES big-endian (see shamir.ts).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecAggError } from './errors.js';
import { contextBytes, type SessionContext } from './key-agreement.js';
import { decodeShareValue, encodeShareValue, SHARE_BYTES } from './shamir.js';

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
const PLAINTEXT_BYTES = 2 * SHARE_BYTES;
/** Ciphertext length of one share pair, tag included. */
export const SHARE_CIPHERTEXT_BYTES = PLAINTEXT_BYTES + TAG_BYTES;

export interface ShareAddress extends SessionContext {
  readonly from: number;
  readonly to: number;
}

export interface SealedSharePair {
  readonly nonce: Uint8Array;
  /** GCM ciphertext followed by the 16-byte tag. */
  readonly ciphertext: Uint8Array;
}

/** The two shares one client holds of another's secrets. */
export interface SharePair {
  /** Share of the owner's mask key s^SK (revealed only if the owner drops out). */
  readonly keyShare: bigint;
  /** Share of the owner's self-mask seed b (revealed only if the owner survives). */
  readonly selfMaskShare: bigint;
}

export function shareAssociatedData(address: ShareAddress): Buffer {
  for (const [name, v] of [
    ['from', address.from],
    ['to', address.to],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new SecAggError('invalid-argument', `${name} must be a 32-bit index, got ${v}`);
  }
  const ctx = contextBytes(address);
  const out = Buffer.alloc(ctx.length + 8);
  ctx.copy(out, 0);
  out.writeUInt32BE(address.from, ctx.length);
  out.writeUInt32BE(address.to, ctx.length + 4);
  return out;
}

export function sealSharePair(key: Uint8Array, shares: SharePair, address: ShareAddress): SealedSharePair {
  checkKey(key);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(shareAssociatedData(address));
  const plaintext = Buffer.concat([encodeShareValue(shares.keyShare), encodeShareValue(shares.selfMaskShare)]);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  plaintext.fill(0);
  return { nonce: new Uint8Array(nonce), ciphertext: new Uint8Array(body) };
}

export function openSharePair(key: Uint8Array, sealed: SealedSharePair, address: ShareAddress): SharePair {
  checkKey(key);
  const where = `share ciphertext from client ${address.from} to client ${address.to} (session ${JSON.stringify(address.session)}, round ${address.round})`;
  if (sealed.nonce.length !== NONCE_BYTES) {
    throw new SecAggError('malformed-message', `${where}: nonce is ${sealed.nonce.length} bytes, expected ${NONCE_BYTES}`);
  }
  if (sealed.ciphertext.length !== SHARE_CIPHERTEXT_BYTES) {
    throw new SecAggError('malformed-message', `${where}: ${sealed.ciphertext.length} bytes, expected ${SHARE_CIPHERTEXT_BYTES} (truncated or padded)`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(shareAssociatedData(address));
  decipher.setAuthTag(sealed.ciphertext.subarray(PLAINTEXT_BYTES));
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(sealed.ciphertext.subarray(0, PLAINTEXT_BYTES)), decipher.final()]);
  } catch {
    throw new SecAggError(
      'decrypt-failed',
      `${where} failed authentication: it was tampered with, or it belongs to another sender, receiver, session or round`,
    );
  }
  const pair = {
    keyShare: decodeShareValue(plaintext.subarray(0, SHARE_BYTES)),
    selfMaskShare: decodeShareValue(plaintext.subarray(SHARE_BYTES)),
  };
  plaintext.fill(0);
  return pair;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 32) throw new SecAggError('invalid-argument', `AES-256-GCM key must be 32 bytes, got ${key.length}`);
}
