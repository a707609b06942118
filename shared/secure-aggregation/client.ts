/**
 * One virtual client's side of one secure-aggregation round, as an explicit state machine
 * (Bonawitz et al., CCS 2017, Fig. 4, semi-honest variant; SecAgg+ neighbourhoods from Bell et
 * al., CCS 2020). Create one instance per client per round; it keeps the round's secrets (s^SK,
 * c^SK, the self-mask seed b and the shares it holds of its neighbours' secrets) in the process that
 * runs the client, and only ever emits messages that are safe for the server to see.
 *
 *   created ──advertiseKeys()──▶ advertised ──shareKeys(roster)──▶ shared
 *     ──maskedInput(delivery, x)──▶ masked ──unmask(request)──▶ done
 *   any phase ──abort()──▶ aborted
 *
 * Every step validates its input completely before touching state, so a bad frame throws a
 * SecAggError and leaves the client where it was; the caller decides whether to wait for a good
 * one or to abort. Secrets are zeroed once the client is done or aborted.
 */
import { randomBytes } from 'node:crypto';
import { SecAggError } from './errors.js';
import { agree, deriveKey, generateKeyPair, type SessionContext, type X25519KeyPair } from './key-agreement.js';
import { maskInput } from './masking.js';
import {
  validateSecAggMessage,
  type AdvertiseKeys,
  type EncryptedShares,
  type KeyRoster,
  type MaskedInput,
  type ShareDelivery,
  type UnmaskingShares,
  type UnmaskRequest,
} from './messages.js';
import { graphOf, parseRoundConfig, type RoundConfig } from './parameters.js';
import { SEED_BYTES } from './prg.js';
import { encodeShareValue, splitSecret } from './shamir.js';
import { openSharePair, sealSharePair, type SharePair } from './share-encryption.js';
import type { NeighbourGraph } from './neighbour-graph.js';

export type ClientPhase = 'created' | 'advertised' | 'shared' | 'masked' | 'done' | 'aborted';

interface PeerKeys {
  readonly cPublicKey: Uint8Array;
  readonly sPublicKey: Uint8Array;
}

export class SecAggClient {
  readonly config: RoundConfig;
  private readonly graph: NeighbourGraph;
  private readonly context: SessionContext;
  private state: ClientPhase = 'created';
  private cKeys: X25519KeyPair | null = null;
  private sKeys: X25519KeyPair | null = null;
  private selfMaskSeed: Uint8Array | null = null;
  private roster = new Map<number, PeerKeys>();
  /** Shares this client holds, by owner (itself included). */
  private held = new Map<number, SharePair>();
  /** Per-neighbour share-encryption keys, kept from Round 1 to open Round 2's deliveries. */
  private shareKeysByPeer = new Map<number, Uint8Array>();
  /** Neighbours whose shares arrived: exactly the clients this client masked with. */
  private peers: number[] = [];

  constructor(
    config: RoundConfig,
    readonly index: number,
  ) {
    this.config = parseRoundConfig(config);
    if (!Number.isInteger(index) || index < 0 || index >= this.config.clients) {
      throw new SecAggError('invalid-argument', `client index ${index} outside the cohort [0, ${this.config.clients})`);
    }
    this.graph = graphOf(this.config);
    this.context = { session: this.config.session, round: this.config.round };
  }

  get phase(): ClientPhase {
    return this.state;
  }

  /** Round 0: fresh key pairs for this round only. */
  advertiseKeys(): AdvertiseKeys {
    this.expectPhase('created', 'advertiseKeys');
    this.cKeys = generateKeyPair();
    this.sKeys = generateKeyPair();
    this.state = 'advertised';
    return { type: 'advertise-keys', ...this.context, from: this.index, cPublicKey: this.cKeys.publicKey, sPublicKey: this.sKeys.publicKey };
  }

  /**
   * Round 1: Shamir-shares s^SK and a fresh self-mask seed b among itself and the neighbours that
   * advertised keys, and seals each neighbour's pair of shares under the c-key agreement.
   */
  shareKeys(rosterMessage: KeyRoster): EncryptedShares {
    this.expectPhase('advertised', 'shareKeys');
    const roster = this.checkAddressed(validateSecAggMessage(rosterMessage, 'key-roster'));
    const entries = [...roster.keys].sort((a, b) => a.index - b.index);
    for (const e of entries) {
      if (e.index === this.index) throw this.error('malformed-message', 'the key roster lists this client as its own neighbour');
      if (!this.graph.areNeighbours(this.index, e.index)) {
        throw this.error('unexpected-sender', `the key roster lists client ${e.index}, which is not a neighbour in this round's graph`);
      }
      if (equal(e.cPublicKey, e.sPublicKey)) throw this.error('malformed-message', `client ${e.index} advertised the same key as c^PK and s^PK`);
    }
    const holders = entries.length + 1;
    if (holders < this.config.threshold) {
      throw this.error(
        'below-threshold',
        `only ${entries.length} neighbours advertised keys; with this client that is ${holders} holders, below the threshold ${this.config.threshold}`,
      );
    }
    const cKeys = this.cKeys!;
    const sKeys = this.sKeys!;
    const b = new Uint8Array(randomBytes(SEED_BYTES));
    const xs = [this.index, ...entries.map((e) => e.index)].map((i) => i + 1);
    const keyShares = splitSecret(sKeys.privateKey, this.config.threshold, xs);
    const selfMaskShares = splitSecret(b, this.config.threshold, xs);
    const keysByPeer = new Map<number, Uint8Array>();
    const shares = entries.map((e, i) => {
      const key = deriveKey(agree(cKeys.privateKey, e.cPublicKey), 'share-encryption-key', this.context);
      keysByPeer.set(e.index, key);
      const pair = { keyShare: keyShares[i + 1]!.y, selfMaskShare: selfMaskShares[i + 1]!.y };
      const sealed = sealSharePair(key, pair, { ...this.context, from: this.index, to: e.index });
      return { to: e.index, nonce: sealed.nonce, ciphertext: sealed.ciphertext };
    });
    this.shareKeysByPeer = keysByPeer;
    this.selfMaskSeed = b;
    // Copies: decoded fields are views into the transport's receive buffer, which it may reuse.
    this.roster = new Map(entries.map((e) => [e.index, { cPublicKey: e.cPublicKey.slice(), sPublicKey: e.sPublicKey.slice() }]));
    this.held.set(this.index, { keyShare: keyShares[0]!.y, selfMaskShare: selfMaskShares[0]!.y });
    this.state = 'shared';
    return { type: 'encrypted-shares', ...this.context, from: this.index, shares };
  }

  /**
   * Round 2: opens the share pairs relayed from the neighbours that completed Round 1 (a tampered
   * or misaddressed one throws), and masks the encoded input against exactly those neighbours.
   */
  maskedInput(deliveryMessage: ShareDelivery, input: Uint32Array): MaskedInput {
    this.expectPhase('shared', 'maskedInput');
    const delivery = this.checkAddressed(validateSecAggMessage(deliveryMessage, 'share-delivery'));
    if (!(input instanceof Uint32Array) || input.length !== this.config.vectorLength) {
      throw this.error('invalid-argument', `the encoded input must be a Uint32Array of length ${this.config.vectorLength}`);
    }
    const opened = new Map<number, SharePair>();
    for (const s of delivery.shares) {
      const key = this.shareKeysByPeer.get(s.from);
      if (!key) throw this.error('unexpected-sender', `share pair from client ${s.from}, which was not in this client's key roster`);
      opened.set(s.from, openSharePair(key, s, { ...this.context, from: s.from, to: this.index }));
    }
    const peers = [...opened.keys()].sort((a, b) => a - b);
    if (peers.length + 1 < this.config.threshold) {
      throw this.error(
        'below-threshold',
        `only ${peers.length} neighbours completed the share step; with this client that is ${peers.length + 1} holders, below the threshold ${this.config.threshold}`,
      );
    }
    const masked = maskInput(
      input,
      this.index,
      this.selfMaskSeed!,
      this.sKeys!.privateKey,
      peers.map((p) => ({ index: p, sPublicKey: this.roster.get(p)!.sPublicKey })),
      this.context,
    );
    for (const [owner, pair] of opened) this.held.set(owner, pair);
    this.peers = peers;
    // The c-keys only protected Round 1's shares; nothing else is ever encrypted under them.
    this.shareKeysByPeer.forEach((k) => k.fill(0));
    this.shareKeysByPeer.clear();
    this.cKeys!.privateKey.fill(0);
    this.cKeys = null;
    this.state = 'masked';
    return { type: 'masked-input', ...this.context, from: this.index, masked: new Uint8Array(masked.buffer, masked.byteOffset, masked.byteLength) };
  }

  /**
   * Round 4: reveals, for each client it holds shares of, the b-share if the server says that
   * client survived or the s^SK-share if it dropped — never both for one client, since b and s^SK
   * together strip every mask from that client's input. Refuses a request that lists a client in
   * both lists, calls this client dropped, leaves out one of its peers, names a client it holds no
   * shares of, or counts fewer survivors than the threshold (too small a sum to hide in).
   */
  unmask(requestMessage: UnmaskRequest): UnmaskingShares {
    this.expectPhase('masked', 'unmask');
    const request = this.checkAddressed(validateSecAggMessage(requestMessage, 'unmask-request'));
    const survivors = new Set(request.survivors);
    const dropped = new Set(request.dropped);
    const both = request.dropped.filter((d) => survivors.has(d));
    if (both.length > 0) {
      throw this.error(
        'refused',
        `refuses to unmask: the request lists client(s) ${both.join(', ')} as both survivor and dropped; revealing both shares would expose their individual inputs`,
      );
    }
    if (dropped.has(this.index)) {
      throw this.error('refused', 'refuses to unmask: the request lists this client, which sent its masked input, as dropped');
    }
    if (!survivors.has(this.index)) throw this.error('refused', 'refuses to unmask: the request does not list this client among the survivors');
    for (const owner of [...request.survivors, ...request.dropped]) {
      if (!this.held.has(owner)) throw this.error('refused', `refuses to unmask: the request names client ${owner}, whose shares this client does not hold`);
    }
    const unclassified = this.peers.filter((p) => !survivors.has(p) && !dropped.has(p));
    if (unclassified.length > 0) {
      throw this.error('refused', `refuses to unmask: the request says nothing about peer(s) ${unclassified.join(', ')}`);
    }
    if (request.survivors.length < this.config.threshold) {
      throw this.error(
        'below-threshold',
        `refuses to unmask: only ${request.survivors.length} survivors among its holders, below the threshold ${this.config.threshold}`,
      );
    }
    const response: UnmaskingShares = {
      type: 'unmasking-shares',
      ...this.context,
      from: this.index,
      selfMaskShares: [...request.survivors].sort((a, b) => a - b).map((owner) => ({ owner, share: encodeShareValue(this.held.get(owner)!.selfMaskShare) })),
      keyShares: [...request.dropped].sort((a, b) => a - b).map((owner) => ({ owner, share: encodeShareValue(this.held.get(owner)!.keyShare) })),
    };
    this.wipe();
    this.state = 'done';
    return response;
  }

  /** The round ended without a result (server abort, timeout): forget every secret. */
  abort(): void {
    this.wipe();
    this.state = 'aborted';
  }

  private wipe(): void {
    this.cKeys?.privateKey.fill(0);
    this.sKeys?.privateKey.fill(0);
    this.shareKeysByPeer.forEach((k) => k.fill(0));
    this.shareKeysByPeer.clear();
    this.selfMaskSeed?.fill(0);
    this.cKeys = null;
    this.sKeys = null;
    this.selfMaskSeed = null;
    this.held.clear();
  }

  private expectPhase(expected: ClientPhase, step: string): void {
    if (this.state !== expected) throw this.error('wrong-phase', `${step}() called in phase '${this.state}', expected '${expected}'`);
  }

  private checkAddressed<M extends { session: string; round: number; to: number }>(message: M): M {
    if (message.session !== this.config.session || message.round !== this.config.round) {
      throw this.error(
        'wrong-round',
        `message for session ${JSON.stringify(message.session)} round ${message.round}, this round is ${JSON.stringify(this.config.session)} round ${this.config.round}`,
      );
    }
    if (message.to !== this.index) throw this.error('unexpected-sender', `message addressed to client ${message.to}`);
    return message;
  }

  private error(code: ConstructorParameters<typeof SecAggError>[0], message: string): SecAggError {
    return new SecAggError(code, `secagg client ${this.index}: ${message}`);
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
