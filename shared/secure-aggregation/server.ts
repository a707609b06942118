/**
 * The server's side of one secure-aggregation round as an explicit state machine (Bonawitz et
 * al., CCS 2017, Fig. 4, semi-honest server; SecAgg+ per-neighbourhood thresholds and sparse graph
 * from Bell et al., CCS 2020).
 *
 *   collecting-keys ──closeAdvertiseKeys()──▶ collecting-shares ──closeShareKeys()──▶
 *   collecting-masked-inputs ──closeMaskedInputs()──▶ collecting-unmasking-shares ──finish()──▶ done
 *   (any close / finish may end in 'aborted')
 *
 * The transport feeds each received message to the matching receive*() and calls close*() when the
 * step's deadline passes (or awaiting() is empty); whoever has not spoken by then has dropped out.
 * A receive*() that throws refuses that one message and changes nothing.
 *
 * What the server holds: public keys, sealed share pairs it cannot open, the running mod-2^32 sum
 * of masked inputs (each masked vector is added on arrival and not kept), unmasking shares, and at
 * the end the unmasked sum. At every step it checks that each secret it may need still has t live
 * holders and, for SecAgg+, that the survivors' graph is connected; otherwise it aborts, wipes its
 * state and returns only the reason.
 *
 * Threat model: the server follows the protocol and is curious (semi-honest). The active-adversary
 * additions of Bonawitz et al. — signed keys and the consistency-check round that stops a server
 * from telling different clients different survivor lists — are not implemented; a client's own
 * checks in unmask() still refuse any single request that would reveal both secrets of one client.
 */
import { SecAggError } from './errors.js';
import { publicKeyOf, type SessionContext } from './key-agreement.js';
import { removePairwiseMask, removeSelfMask } from './masking.js';
import {
  maskedWords,
  validateSecAggMessage,
  type AdvertiseKeys,
  type EncryptedShares,
  type KeyRoster,
  type MaskedInput,
  type RoundAborted,
  type SecAggMessageOf,
  type SecAggMessageType,
  type SecAggStep,
  type ShareDelivery,
  type UnmaskingShares,
  type UnmaskRequest,
} from './messages.js';
import { componentsOf, type NeighbourGraph } from './neighbour-graph.js';
import { graphOf, parseRoundConfig, type RoundConfig } from './parameters.js';
import { SEED_BYTES } from './prg.js';
import { NONCE_BYTES, SHARE_CIPHERTEXT_BYTES } from './share-encryption.js';
import { combineShares, decodeShareValue, lagrangeCoefficientsAtZero, secretFromFieldElement, type Share } from './shamir.js';

export type ServerPhase = 'collecting-keys' | 'collecting-shares' | 'collecting-masked-inputs' | 'collecting-unmasking-shares' | 'done' | 'aborted';

export type StepOutcome<M> = { ok: true; messages: M[] } | { ok: false; abort: RoundAborted };
export type AggregationOutcome = { ok: true; sum: Uint32Array; survivors: number[] } | { ok: false; abort: RoundAborted };

interface Keys {
  cPublicKey: Uint8Array;
  sPublicKey: Uint8Array;
}

type SealedEntry = EncryptedShares['shares'][number];

export class SecAggServer {
  readonly config: RoundConfig;
  private readonly graph: NeighbourGraph;
  private readonly context: SessionContext;
  private state: ServerPhase = 'collecting-keys';
  private readonly keys = new Map<number, Keys>();
  /** Neighbours that advertised, per advertising client: who was sent whose keys (U1 ∩ N(u)). */
  private rosterOf = new Map<number, number[]>();
  private readonly sealed = new Map<number, SealedEntry[]>();
  private sum: Uint32Array | null = null;
  private readonly masked = new Set<number>();
  private readonly requests = new Map<number, { survivors: number[]; dropped: number[] }>();
  private readonly selfMaskShares = new Map<number, Share[]>();
  private readonly keyShares = new Map<number, Share[]>();
  private readonly responders = new Set<number>();

  constructor(config: RoundConfig) {
    this.config = parseRoundConfig(config);
    this.graph = graphOf(this.config);
    this.context = { session: this.config.session, round: this.config.round };
  }

  get phase(): ServerPhase {
    return this.state;
  }

  /** Clients whose message for the current step has not arrived yet (for early closing). */
  awaiting(): number[] {
    const all = Array.from({ length: this.config.clients }, (_, i) => i);
    switch (this.state) {
      case 'collecting-keys':
        return all.filter((i) => !this.keys.has(i));
      case 'collecting-shares':
        return [...this.keys.keys()].filter((i) => !this.sealed.has(i)).sort((a, b) => a - b);
      case 'collecting-masked-inputs':
        return [...this.sealed.keys()].filter((i) => !this.masked.has(i)).sort((a, b) => a - b);
      case 'collecting-unmasking-shares':
        return [...this.requests.keys()].filter((i) => !this.responders.has(i)).sort((a, b) => a - b);
      default:
        return [];
    }
  }

  // ---- Round 0: keys ----

  receiveAdvertiseKeys(message: AdvertiseKeys): void {
    const m = this.accept(message, 'advertise-keys', 'collecting-keys');
    if (this.keys.has(m.from)) throw this.error('duplicate', `client ${m.from} advertised keys twice`);
    // Copies, so a transport may reuse its receive buffers (decoded fields are views into them).
    this.keys.set(m.from, { cPublicKey: m.cPublicKey.slice(), sPublicKey: m.sPublicKey.slice() });
  }

  /** Ends Round 0: sends every advertising client its advertising neighbours' keys. */
  closeAdvertiseKeys(): StepOutcome<KeyRoster> {
    this.expectPhase('collecting-keys', 'closeAdvertiseKeys');
    const live = new Set(this.keys.keys());
    for (const u of live)
      this.rosterOf.set(
        u,
        this.graph.neighbours(u).filter((v) => live.has(v)),
      );
    const short = this.shortOfHolders([...live], (u) => [u, ...this.rosterOf.get(u)!], live);
    const reason = this.thresholdFailure(`${live.size} of ${this.config.clients} clients advertised keys`, live.size, short);
    if (reason) return this.fail('advertise-keys', reason);
    this.state = 'collecting-shares';
    const messages = [...live]
      .sort((a, b) => a - b)
      .map((u) => ({
        type: 'key-roster' as const,
        ...this.context,
        to: u,
        keys: this.rosterOf.get(u)!.map((v) => ({ index: v, ...this.keys.get(v)! })),
      }));
    return { ok: true, messages };
  }

  // ---- Round 1: encrypted shares ----

  receiveEncryptedShares(message: EncryptedShares): void {
    const m = this.accept(message, 'encrypted-shares', 'collecting-shares');
    const roster = this.rosterOf.get(m.from);
    if (!roster) throw this.error('unexpected-sender', `client ${m.from} sent shares but did not advertise keys in time`);
    if (this.sealed.has(m.from)) throw this.error('duplicate', `client ${m.from} sent its shares twice`);
    const expected = new Set(roster);
    const got = new Set(m.shares.map((s) => s.to));
    if (got.size !== expected.size || [...got].some((to) => !expected.has(to))) {
      throw this.error(
        'protocol-violation',
        `client ${m.from} must send exactly one share pair to each of its ${expected.size} roster neighbours; got ${m.shares.length} addressed to other clients or missing some`,
      );
    }
    // One copy per message, not two per entry: at n = 1000 a SecAgg server holds ~10^6 entries
    // and per-entry buffers made garbage collection the dominant cost.
    const entryBytes = NONCE_BYTES + SHARE_CIPHERTEXT_BYTES;
    const store = new Uint8Array(m.shares.length * entryBytes);
    this.sealed.set(
      m.from,
      m.shares.map((s, i) => {
        const at = i * entryBytes;
        store.set(s.nonce, at);
        store.set(s.ciphertext, at + NONCE_BYTES);
        return { to: s.to, nonce: store.subarray(at, at + NONCE_BYTES), ciphertext: store.subarray(at + NONCE_BYTES, at + entryBytes) };
      }),
    );
  }

  /** Ends Round 1: relays to every client that shared the pairs addressed to it by others that shared. */
  closeShareKeys(): StepOutcome<ShareDelivery> {
    this.expectPhase('collecting-shares', 'closeShareKeys');
    const live = new Set(this.sealed.keys());
    const short = this.shortOfHolders([...live], (u) => [u, ...this.rosterOf.get(u)!], live);
    const reason = this.thresholdFailure(`${live.size} clients sent their encrypted shares`, live.size, short);
    if (reason) return this.fail('share-keys', reason);
    const inbox = new Map<number, ShareDelivery['shares']>([...live].map((u) => [u, []]));
    for (const [from, entries] of this.sealed) {
      for (const e of entries) inbox.get(e.to)?.push({ from, nonce: e.nonce, ciphertext: e.ciphertext });
    }
    this.sealed.forEach((_, from) => this.sealed.set(from, [])); // relayed; only membership is needed now
    this.state = 'collecting-masked-inputs';
    const messages = [...inbox.entries()]
      .sort(([a], [b]) => a - b)
      .map(([to, shares]) => ({ type: 'share-delivery' as const, ...this.context, to, shares: shares.sort((a, b) => a.from - b.from) }));
    return { ok: true, messages };
  }

  // ---- Round 2: masked inputs ----

  /** Adds the masked vector to the running sum at once; the server never keeps it. */
  receiveMaskedInput(message: MaskedInput): void {
    const m = this.accept(message, 'masked-input', 'collecting-masked-inputs');
    if (!this.sealed.has(m.from)) throw this.error('unexpected-sender', `client ${m.from} sent a masked input but did not complete the share step`);
    if (this.masked.has(m.from)) throw this.error('duplicate', `client ${m.from} sent its masked input twice`);
    if (m.masked.length !== 4 * this.config.vectorLength) {
      throw this.error('malformed-message', `client ${m.from}'s masked input has ${m.masked.length / 4} words, expected ${this.config.vectorLength}`);
    }
    const words = maskedWords(m);
    const sum = (this.sum ??= new Uint32Array(this.config.vectorLength));
    for (let i = 0; i < sum.length; i++) sum[i] = (sum[i]! + words[i]!) >>> 0;
    this.masked.add(m.from);
  }

  /** Ends Round 2: tells each survivor which of its peers survived and which dropped. */
  closeMaskedInputs(): StepOutcome<UnmaskRequest> {
    this.expectPhase('collecting-masked-inputs', 'closeMaskedInputs');
    const survivors = this.masked;
    const dropped = [...this.sealed.keys()].filter((v) => !survivors.has(v));
    const peersOf = (u: number) => this.rosterOf.get(u)!.filter((v) => this.sealed.has(v));
    const droppedWithLiveNeighbour = dropped.filter((v) => peersOf(v).some((u) => survivors.has(u)));
    const owners = [...survivors, ...droppedWithLiveNeighbour];
    const short = this.shortOfHolders(owners, (u) => [u, ...peersOf(u)], survivors);
    const reason = this.thresholdFailure(`${survivors.size} clients sent masked inputs`, survivors.size, short);
    if (reason) return this.fail('masked-input', reason);
    if (!this.graph.complete) {
      const components = componentsOf(this.graph, survivors);
      if (components.length > 1) {
        return this.fail(
          'masked-input',
          `the survivors' graph fell apart into ${components.length} components (sizes ${components.map((c) => c.length).join(', ')}); unmasking would reveal each component's partial sum`,
        );
      }
    }
    this.state = 'collecting-unmasking-shares';
    const messages = [...survivors]
      .sort((a, b) => a - b)
      .map((u) => {
        const peers = peersOf(u);
        const request = { survivors: [u, ...peers.filter((v) => survivors.has(v))].sort((a, b) => a - b), dropped: peers.filter((v) => !survivors.has(v)) };
        this.requests.set(u, request);
        return { type: 'unmask-request' as const, ...this.context, to: u, ...request };
      });
    return { ok: true, messages };
  }

  // ---- Round 4: unmasking ----

  receiveUnmaskingShares(message: UnmaskingShares): void {
    const m = this.accept(message, 'unmasking-shares', 'collecting-unmasking-shares');
    const request = this.requests.get(m.from);
    if (!request) throw this.error('unexpected-sender', `client ${m.from} sent unmasking shares but was not asked for any`);
    if (this.responders.has(m.from)) throw this.error('duplicate', `client ${m.from} sent its unmasking shares twice`);
    const sameOwners = (shares: { owner: number }[], owners: number[]) => {
      const expected = new Set(owners);
      return shares.length === expected.size && shares.every((s) => expected.has(s.owner));
    };
    if (!sameOwners(m.selfMaskShares, request.survivors) || !sameOwners(m.keyShares, request.dropped)) {
      throw this.error('protocol-violation', `client ${m.from}'s unmasking shares do not match what it was asked for`);
    }
    const x = m.from + 1;
    const decoded = {
      self: m.selfMaskShares.map((s) => ({ owner: s.owner, y: decodeShareValue(s.share) })),
      key: m.keyShares.map((s) => ({ owner: s.owner, y: decodeShareValue(s.share) })),
    };
    for (const s of decoded.self) push(this.selfMaskShares, s.owner, { x, y: s.y });
    for (const s of decoded.key) push(this.keyShares, s.owner, { x, y: s.y });
    this.responders.add(m.from);
  }

  /**
   * Ends Round 4: reconstructs b for every survivor and s^SK for every dropped client that masked
   * with a survivor, strips the masks, and returns the sum of the survivors' inputs mod 2^32.
   */
  finish(): AggregationOutcome {
    this.expectPhase('collecting-unmasking-shares', 'finish');
    const t = this.config.threshold;
    const missing: string[] = [];
    for (const u of this.masked) {
      const got = this.selfMaskShares.get(u)?.length ?? 0;
      if (got < t) missing.push(`client ${u}'s self mask (${got} shares)`);
    }
    const droppedOwners = [...new Set([...this.requests.values()].flatMap((r) => r.dropped))].sort((a, b) => a - b);
    for (const v of droppedOwners) {
      const got = this.keyShares.get(v)?.length ?? 0;
      if (got < t) missing.push(`dropped client ${v}'s mask key (${got} shares)`);
    }
    if (missing.length > 0) {
      return this.fail(
        'unmasking',
        `only ${this.responders.size} survivors sent unmasking shares; below the threshold of ${t} shares for ${listSome(missing)}`,
      );
    }
    const sum = this.sum!;
    const coefficientCache = new Map<string, bigint[]>();
    const reconstruct = (shares: Share[]) => {
      const used = [...shares].sort((a, b) => a.x - b.x).slice(0, t);
      const key = used.map((s) => s.x).join(',');
      let coefficients = coefficientCache.get(key);
      if (!coefficients) coefficientCache.set(key, (coefficients = lagrangeCoefficientsAtZero(used.map((s) => s.x))));
      return secretFromFieldElement(
        combineShares(
          coefficients,
          used.map((s) => s.y),
        ),
        SEED_BYTES,
      );
    };
    try {
      for (const v of droppedOwners) {
        const sPrivateKey = reconstruct(this.keyShares.get(v)!);
        if (!equal(publicKeyOf(sPrivateKey), this.keys.get(v)!.sPublicKey)) {
          throw this.error('protocol-violation', `the reconstructed mask key of dropped client ${v} does not match its advertised public key`);
        }
        for (const u of this.rosterOf.get(v)!) {
          if (this.masked.has(u)) removePairwiseMask(sum, u, this.keys.get(u)!.sPublicKey, v, sPrivateKey, this.context);
        }
        sPrivateKey.fill(0);
      }
      for (const u of this.masked) {
        const b = reconstruct(this.selfMaskShares.get(u)!);
        removeSelfMask(sum, b);
        b.fill(0);
      }
    } catch (error) {
      if (error instanceof SecAggError) return this.fail('unmasking', error.message);
      throw error;
    }
    const survivors = [...this.masked].sort((a, b) => a - b);
    this.sum = null;
    this.clearSecrets();
    this.state = 'done';
    return { ok: true, sum, survivors };
  }

  /** Stops the round from outside (e.g. the coordinator gives up); wipes everything. */
  abort(step: SecAggStep, reason: string): RoundAborted {
    const message: RoundAborted = { type: 'round-aborted', ...this.context, step, reason };
    this.sum?.fill(0);
    this.sum = null;
    this.clearSecrets();
    this.state = 'aborted';
    return message;
  }

  private fail(step: SecAggStep, reason: string): { ok: false; abort: RoundAborted } {
    return { ok: false, abort: this.abort(step, reason) };
  }

  private clearSecrets(): void {
    this.sealed.clear();
    this.selfMaskShares.clear();
    this.keyShares.clear();
  }

  private thresholdFailure(what: string, count: number, short: string | null): string | null {
    const t = this.config.threshold;
    if (count < t) return `only ${what}; threshold is ${t}`;
    if (short) return `${what}, but some secrets would have fewer than t = ${t} live holders: ${short}`;
    return null;
  }

  /**
   * Describes the owners whose secrets have fewer than t holders among `live`, or null. Holders of
   * u's secret are u and the neighbours that were sent u's shares.
   */
  private shortOfHolders(owners: number[], holdersOf: (u: number) => number[], live: ReadonlySet<number>): string | null {
    const short: string[] = [];
    for (const u of owners) {
      const count = holdersOf(u).filter((h) => live.has(h)).length;
      if (count < this.config.threshold) short.push(`client ${u} has ${count} live holders`);
    }
    return short.length === 0 ? null : listSome(short);
  }

  private accept<T extends SecAggMessageType>(message: unknown, type: T, phase: ServerPhase): SecAggMessageOf<T> {
    const m = validateSecAggMessage(message, type);
    if (m.session !== this.config.session || m.round !== this.config.round) {
      throw this.error(
        'wrong-round',
        `${type} message for session ${JSON.stringify(m.session)} round ${m.round}, this round is ${JSON.stringify(this.config.session)} round ${this.config.round}`,
      );
    }
    const from = (m as { from: number }).from;
    if (from >= this.config.clients) throw this.error('unexpected-sender', `${type} message from client ${from}, outside the cohort of ${this.config.clients}`);
    if (this.state !== phase)
      throw this.error('wrong-phase', `${type} message from client ${from} arrived in phase '${this.state}' (step closed or not open yet)`);
    return m;
  }

  private expectPhase(expected: ServerPhase, step: string): void {
    if (this.state !== expected) throw this.error('wrong-phase', `${step}() called in phase '${this.state}', expected '${expected}'`);
  }

  private error(code: ConstructorParameters<typeof SecAggError>[0], message: string): SecAggError {
    return new SecAggError(code, `secagg server: ${message}`);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function listSome(items: string[], max = 5): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
