/**
 * Key agreement and key derivation for secure aggregation.
 *
 * Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine Learning",
 * CCS 2017, §3–4: every client holds two Diffie–Hellman key pairs per round, (c^PK, c^SK) to
 * encrypt the Shamir shares it sends to its peers and (s^PK, s^SK) whose pairwise agreement seeds
 * the cancelling masks. We use X25519 (RFC 7748) for KA.gen / KA.agree and HKDF-SHA256 (RFC 5869)
 * to turn one agreement into keys for one purpose each, so the mask seed and the share-encryption
 * key of a pair can never coincide even if a caller mixed the two key pairs up.
 *
 * Keys travel and are secret-shared as raw 32-byte strings; node:crypto wants DER, so the fixed
 * RFC 8410 prefixes are added here and nowhere else.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';
import { SecAggError } from './errors.js';

export const X25519_KEY_BYTES = 32;

const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export interface X25519KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

/** Identifies one run of the protocol; bound into every derived key and every ciphertext. */
export interface SessionContext {
  /** Unique per aggregation instance, e.g. `${runId}/${round}`. */
  readonly session: string;
  readonly round: number;
}

export function generateKeyPair(): X25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKey: rawPublic(publicKey), privateKey: rawPrivate(privateKey) };
}

/** Recomputes the public key of a (reconstructed) private key, to check it against the advertised one. */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  return rawPublic(createPublicKey(privateKeyObject(privateKey)));
}

/** X25519(sk, pk): the 32-byte shared secret, identical from both ends of the pair. */
export function agree(privateKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  if (peerPublicKey.length !== X25519_KEY_BYTES) {
    throw new SecAggError('malformed-message', `X25519 public key must be ${X25519_KEY_BYTES} bytes, got ${peerPublicKey.length}`);
  }
  // JWK import measured ~6× faster than SPKI DER in Node 20, and a client imports up to 2(n−1) keys.
  const x = Buffer.from(peerPublicKey.buffer, peerPublicKey.byteOffset, peerPublicKey.byteLength).toString('base64url');
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
  try {
    return new Uint8Array(diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey }));
  } catch (error) {
    // OpenSSL refuses small-order points (all-zero shared secret); such a key can only come from a
    // broken or malicious peer.
    throw new SecAggError('protocol-violation', `X25519 agreement failed: ${(error as Error).message}`);
  }
}

export type KeyPurpose = 'pairwise-mask-seed' | 'share-encryption-key';

/**
 * HKDF-SHA256(ikm = agreement, salt = session context, info = purpose). The salt binds the key to
 * the session so that a key pair accidentally reused across rounds still yields fresh masks.
 */
export function deriveKey(sharedSecret: Uint8Array, purpose: KeyPurpose, context: SessionContext): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', sharedSecret, contextBytes(context), `fedsim/secagg/v1/${purpose}`, 32));
}

/** The canonical byte string of a session context; also the prefix of share associated data. */
export function contextBytes(context: SessionContext): Buffer {
  if (!Number.isInteger(context.round) || context.round < 0 || context.round > 0xffffffff) {
    throw new SecAggError('invalid-argument', `round must be a 32-bit unsigned integer, got ${context.round}`);
  }
  const session = Buffer.from(context.session, 'utf8');
  const out = Buffer.alloc(4 + session.length + 4);
  out.writeUInt32BE(session.length, 0);
  session.copy(out, 4);
  out.writeUInt32BE(context.round, 4 + session.length);
  return out;
}

// Importing the same private key for every peer costs more than the agreement itself; a client
// agrees with up to n−1 peers per key, so the KeyObject is cached for the life of the raw bytes.
const privateKeyCache = new WeakMap<Uint8Array, KeyObject>();

function privateKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== X25519_KEY_BYTES) {
    throw new SecAggError('invalid-argument', `X25519 private key must be ${X25519_KEY_BYTES} bytes, got ${raw.length}`);
  }
  let key = privateKeyCache.get(raw);
  if (!key) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
    privateKeyCache.set(raw, key);
  }
  return key;
}

function rawPublic(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
}

function rawPrivate(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length));
}
