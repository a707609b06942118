import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../shared/random.js';
import {
  agree,
  chooseSecAggPlusParameters,
  componentsOf,
  decodeShareValue,
  decodeSecAggMessage,
  decodeSum,
  deriveKey,
  encodeFixedPoint,
  encodeSecAggMessage,
  encodeShareValue,
  expandMask,
  addMask,
  FIELD_PRIME,
  fixedPointSpec,
  generateKeyPair,
  hararyGraph,
  interpolateAtZero,
  openSharePair,
  parseRoundConfig,
  planRound,
  publicKeyOf,
  reconstructSecret,
  sealSharePair,
  SecAggError,
  splitSecret,
  sumMod32,
  validateSecAggMessage,
  type SecAggMessage,
} from '../../shared/secure-aggregation/index.js';

function combinations<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items;
  return [...combinations(rest, k - 1).map((c) => [first!, ...c]), ...combinations(rest, k)];
}

describe('Shamir secret sharing over GF(2^521 − 1)', () => {
  const secret = new Uint8Array(randomBytes(32));
  const xs = Array.from({ length: 9 }, (_, i) => i + 1);
  const t = 4;
  const shares = splitSecret(secret, t, xs);

  it('reconstructs from every subset of t shares, in any order', () => {
    const subsets = combinations(shares, t);
    expect(subsets).toHaveLength(126);
    for (const subset of subsets) {
      expect(reconstructSecret([...subset].reverse(), t, 32)).toEqual(secret);
    }
    // More than t shares: the first t are used.
    expect(reconstructSecret(shares, t, 32)).toEqual(secret);
  });

  it('refuses fewer than t shares, and t − 1 shares interpolate to garbage that is detected', () => {
    expect(() => reconstructSecret(shares.slice(0, t - 1), t, 32)).toThrow(/need 4 shares to reconstruct, got 3/);
    const secretValue = BigInt(`0x${Buffer.from(secret).toString('hex')}`);
    for (const subset of combinations(shares, t - 1)) {
      // The degree-(t−2) interpolant is a uniformly random field element, not the secret…
      expect(interpolateAtZero(subset)).not.toBe(secretValue);
      // …and lands outside the 32-byte range (prob. 1 − 2^−265), so lying about t is caught.
      expect(() => reconstructSecret(subset, t - 1, 32)).toThrow(/outside the 32-byte secret range/);
    }
  });

  it('detects a share replaced by another value (w.h.p.)', () => {
    // A random replacement shifts the result by a random field element; a structured one (say +1)
    // shifts it by the small Lagrange coefficient and is not caught here — the server checks
    // reconstructed s^SK against the advertised public key for that reason.
    for (let i = 0; i < 20; i++) {
      const forged = BigInt(`0x${randomBytes(64).toString('hex')}`) % FIELD_PRIME;
      const tampered = shares.slice(0, t).map((s, j) => (j === i % t ? { x: s.x, y: forged } : s));
      expect(() => reconstructSecret(tampered, t, 32)).toThrow(SecAggError);
    }
  });

  it('encodes share values at a fixed width and rejects non-field values', () => {
    for (const s of shares) expect(decodeShareValue(encodeShareValue(s.y))).toBe(s.y);
    expect(() => decodeShareValue(new Uint8Array(66).fill(0xff))).toThrow(/not a field element/);
    expect(() => decodeShareValue(new Uint8Array(65))).toThrow(/66 bytes/);
    expect(() => splitSecret(secret, t, [1, 2, 2])).toThrow(/duplicate/);
    expect(() => splitSecret(secret, t, [0, 1])).toThrow(/x = 0 is the secret/);
  });
});

describe('X25519 + HKDF', () => {
  it('agrees symmetrically and derives distinct keys per purpose and session', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    expect(agree(a.privateKey, b.publicKey)).toEqual(agree(b.privateKey, a.publicKey));
    expect(publicKeyOf(a.privateKey)).toEqual(a.publicKey);
    const shared = agree(a.privateKey, b.publicKey);
    const ctx = { session: 'run/3', round: 3 };
    const mask = deriveKey(shared, 'pairwise-mask-seed', ctx);
    expect(deriveKey(shared, 'share-encryption-key', ctx)).not.toEqual(mask);
    expect(deriveKey(shared, 'pairwise-mask-seed', { ...ctx, round: 4 })).not.toEqual(mask);
    expect(() => agree(a.privateKey, new Uint8Array(31))).toThrow(/32 bytes/);
  });
});

describe('AES-256-GCM share encryption', () => {
  const key = new Uint8Array(randomBytes(32));
  const address = { session: 'run', round: 7, from: 2, to: 5 };
  const pair = { keyShare: 12345678901234567890n, selfMaskShare: FIELD_PRIME - 1n };
  const sealed = sealSharePair(key, pair, address);

  it('round-trips, with a fresh nonce each time', () => {
    expect(openSharePair(key, sealed, address)).toEqual(pair);
    expect(sealSharePair(key, pair, address).nonce).not.toEqual(sealed.nonce);
  });

  it('rejects tampered ciphertext, tag or nonce', () => {
    for (const position of [0, 70, sealed.ciphertext.length - 1]) {
      const ciphertext = Uint8Array.from(sealed.ciphertext);
      ciphertext[position]! ^= 0x01;
      expect(() => openSharePair(key, { nonce: sealed.nonce, ciphertext }, address)).toThrow(/from client 2 to client 5 .* failed authentication/);
    }
    const nonce = Uint8Array.from(sealed.nonce);
    nonce[0]! ^= 0x80;
    expect(() => openSharePair(key, { nonce, ciphertext: sealed.ciphertext }, address)).toThrow(/failed authentication/);
  });

  it('binds sender, receiver, round and session as associated data', () => {
    for (const other of [
      { ...address, from: 3 },
      { ...address, to: 6 },
      { ...address, from: 5, to: 2 }, // same pair, other direction (same key)
      { ...address, round: 8 },
      { ...address, session: 'other-run' },
    ]) {
      const error = (() => {
        try {
          openSharePair(key, sealed, other);
        } catch (e) {
          return e as SecAggError;
        }
        return null;
      })();
      expect(error?.code).toBe('decrypt-failed');
    }
  });

  it('rejects truncated ciphertexts before decrypting', () => {
    expect(() => openSharePair(key, { nonce: sealed.nonce, ciphertext: sealed.ciphertext.subarray(0, 100) }, address)).toThrow(/truncated or padded/);
    expect(() => openSharePair(key, { nonce: sealed.nonce.subarray(0, 8), ciphertext: sealed.ciphertext }, address)).toThrow(/nonce is 8 bytes/);
  });
});

describe('PRG mask expansion', () => {
  it('is deterministic per seed, consistent across slice boundaries, and cancels', () => {
    const seed = new Uint8Array(randomBytes(32));
    const long = expandMask(seed, 40_003);
    expect(expandMask(seed, 40_003)).toEqual(long);
    expect(Array.from(expandMask(seed, 17))).toEqual(Array.from(long.subarray(0, 17)));
    expect(expandMask(new Uint8Array(randomBytes(32)), 8)).not.toEqual(long.subarray(0, 8));
    const acc = Uint32Array.from({ length: 40_003 }, (_, i) => i * 7);
    const before = Uint32Array.from(acc);
    addMask(acc, seed, 1);
    expect(acc).not.toEqual(before);
    addMask(acc, seed, -1);
    expect(acc).toEqual(before);
  });
});

describe('fixed-point encoding', () => {
  it('uses b = 32 − ⌈log2 nMax⌉ bits by default and never wraps at the extremes', () => {
    const spec = fixedPointSpec({ clip: 0.5, maxClients: 1000 });
    expect(spec.bits).toBe(22);
    expect(spec.scale).toBe((2 ** 21 - 1) / 0.5);
    for (const extreme of [0.5, -0.5]) {
      const encoded = encodeFixedPoint(new Float32Array([extreme, 0]), spec);
      const sum = sumMod32(Array.from({ length: 1000 }, () => encoded));
      expect(decodeSum(sum, spec, 1000)[0]).toBeCloseTo(1000 * extreme, 3);
    }
  });

  it('decodes sums within n / (2·scale) of the float sum', () => {
    const rng = new Rng(5);
    const spec = fixedPointSpec({ clip: 1, maxClients: 64, bits: 16 });
    const floats = Array.from({ length: 50 }, () => Float32Array.from({ length: 100 }, () => rng.uniform(-1, 1)));
    const decoded = decodeSum(sumMod32(floats.map((f) => encodeFixedPoint(f, spec))), spec, 50);
    for (let i = 0; i < 100; i++) {
      const exact = floats.reduce((s, f) => s + f[i]!, 0);
      expect(Math.abs(decoded[i]! - exact)).toBeLessThanOrEqual(50 / (2 * spec.scale) + 1e-4);
    }
  });

  it('names n and the precision when the cohort needs more than 32 bits', () => {
    expect(() => fixedPointSpec({ clip: 1, maxClients: 2000, bits: 24 })).toThrow(
      /24 bits of precision for a sum over n = 2000 clients needs .* 35 bits.* at most 21 bits/,
    );
    expect(() => fixedPointSpec({ clip: 1, maxClients: 2 ** 31 })).toThrow(/at least 2/);
  });

  it('refuses values outside the clip range and non-finite values', () => {
    const spec = fixedPointSpec({ clip: 1, maxClients: 10 });
    expect(() => encodeFixedPoint([0, 1.5], spec)).toThrow(/value 1.5 at index 1 is outside/);
    expect(() => encodeFixedPoint([Number.NaN], spec)).toThrow(/outside/);
    expect(() => decodeSum(new Uint32Array(1), spec, 11)).toThrow(/at most 10/);
  });
});

describe('neighbour graphs', () => {
  it('builds k-regular, symmetric, connected Harary graphs with a seed-dependent labelling', () => {
    for (const [n, k] of [
      [10, 4],
      [50, 8],
      [101, 10],
      [64, 7],
      [500, 20],
    ] as const) {
      const g = hararyGraph(n, k, 42);
      for (let i = 0; i < n; i++) {
        const nb = g.neighbours(i);
        expect(nb).toHaveLength(k);
        expect(new Set(nb).size).toBe(k);
        expect(nb).not.toContain(i);
        for (const j of nb) {
          expect(g.neighbours(j)).toContain(i);
          expect(g.areNeighbours(i, j)).toBe(true);
        }
      }
      let edges = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (g.areNeighbours(i, j)) edges++;
      expect(edges).toBe(n * k);
      expect(
        componentsOf(
          g,
          Array.from({ length: n }, (_, i) => i),
        ),
      ).toHaveLength(1);
    }
    expect(hararyGraph(50, 8, 1).neighbours(0)).not.toEqual(hararyGraph(50, 8, 2).neighbours(0));
    expect(hararyGraph(10, 9, 1).complete).toBe(true);
    expect(() => hararyGraph(11, 3, 1)).toThrow(/even number of clients/);
  });
});

describe('SecAgg+ parameters', () => {
  it('picks k = O(log n): growing n a thousandfold less than doubles k', () => {
    const pick = (n: number) => chooseSecAggPlusParameters({ clients: n, thresholdFraction: 0.5, dropoutRate: 0.3 });
    const small = pick(1000);
    const large = pick(1_000_000);
    expect(small.complete).toBe(false);
    expect(small.degree).toBeLessThan(1000 / 4);
    expect(large.degree).toBeGreaterThan(small.degree);
    expect(large.degree).toBeLessThan(2 * small.degree);
    expect(small.bounds!.disconnectedLog2).toBeLessThanOrEqual(-40);
    expect(small.bounds!.belowThresholdLog2).toBeLessThanOrEqual(-20);
    expect(small.threshold).toBe(Math.ceil(0.5 * (small.degree + 1)));
    // Colluding clients need a larger t, hence a larger k.
    expect(chooseSecAggPlusParameters({ clients: 1000, thresholdFraction: 0.5, dropoutRate: 0.3, corruptRate: 0.2 }).degree).toBeGreaterThanOrEqual(
      small.degree,
    );
  });

  it('holds up empirically: random δn dropouts leave every neighbourhood ≥ t live and the graph connected', () => {
    const n = 300;
    const delta = 0.2;
    const { degree, threshold } = chooseSecAggPlusParameters({ clients: n, thresholdFraction: 0.5, dropoutRate: delta, securityLog2: 20, correctnessLog2: 10 });
    const rng = new Rng(9);
    for (let trial = 0; trial < 50; trial++) {
      const g = hararyGraph(n, degree, trial);
      const dropped = new Set(rng.sampleWithoutReplacement(n, Math.floor(delta * n)));
      const live = Array.from({ length: n }, (_, i) => i).filter((i) => !dropped.has(i));
      expect(componentsOf(g, live)).toHaveLength(1);
      for (const i of live) expect(g.neighbours(i).filter((j) => !dropped.has(j)).length).toBeGreaterThanOrEqual(threshold);
    }
  });

  it('validates round configs', () => {
    const config = planRound({ variant: 'secagg', clients: 10, vectorLength: 4, session: 's' });
    expect(config.degree).toBe(9);
    expect(config.threshold).toBe(5);
    expect(() => parseRoundConfig({ ...config, degree: 4 })).toThrow(/SecAgg uses the complete graph/);
    expect(() => parseRoundConfig({ ...config, threshold: 11 })).toThrow(/exceeds the 10 holders/);
    expect(() => parseRoundConfig({ ...config, variant: 'secagg+', degree: 3, clients: 11 })).toThrow(/odd degree/);
    expect(() => parseRoundConfig({ ...config, threshold: 1 })).toThrow(/threshold/);
  });
});

describe('message codec', () => {
  const key = () => new Uint8Array(randomBytes(32));
  const messages: SecAggMessage[] = [
    { type: 'advertise-keys', session: 's', round: 1, from: 3, cPublicKey: key(), sPublicKey: key() },
    { type: 'key-roster', session: 's', round: 1, to: 3, keys: [{ index: 4, cPublicKey: key(), sPublicKey: key() }] },
    { type: 'encrypted-shares', session: 's', round: 1, from: 3, shares: [{ to: 4, nonce: new Uint8Array(12), ciphertext: new Uint8Array(148) }] },
    { type: 'share-delivery', session: 's', round: 1, to: 4, shares: [{ from: 3, nonce: new Uint8Array(12), ciphertext: new Uint8Array(148) }] },
    { type: 'masked-input', session: 's', round: 1, from: 3, masked: new Uint8Array(randomBytes(40)) },
    { type: 'unmask-request', session: 's', round: 1, to: 3, survivors: [3, 4], dropped: [5] },
    {
      type: 'unmasking-shares',
      session: 's',
      round: 1,
      from: 3,
      selfMaskShares: [{ owner: 4, share: new Uint8Array(66) }],
      keyShares: [{ owner: 5, share: new Uint8Array(66) }],
    },
    { type: 'round-aborted', session: 's', round: 1, step: 'unmasking', reason: 'only 2 survivors' },
  ];

  it('round-trips every message type', () => {
    for (const m of messages) {
      const decoded = decodeSecAggMessage(encodeSecAggMessage(m));
      expect(decoded).toEqual(m);
    }
  });

  it('rejects every truncation with a clear error', () => {
    for (const m of messages) {
      const bytes = encodeSecAggMessage(m);
      for (let cut = 0; cut < bytes.length; cut++) {
        expect(() => decodeSecAggMessage(bytes.subarray(0, cut))).toThrow(cut < 6 ? /too short/ : new RegExp(`truncated ${m.type} message`));
      }
    }
  });

  it('rejects padding, bad headers, forged lengths and schema violations', () => {
    const bytes = encodeSecAggMessage(messages[0]!);
    expect(() => decodeSecAggMessage(Uint8Array.from([...bytes, 0]))).toThrow(/1 trailing bytes/);
    expect(() => decodeSecAggMessage(Uint8Array.from(bytes, (b, i) => (i === 0 ? 0 : b)))).toThrow(/bad magic/);
    expect(() => decodeSecAggMessage(Uint8Array.from(bytes, (b, i) => (i === 4 ? 9 : b)))).toThrow(/wire version 9/);
    expect(() => decodeSecAggMessage(Uint8Array.from(bytes, (b, i) => (i === 5 ? 99 : b)))).toThrow(/unknown secure-aggregation message code 99/);
    expect(() => decodeSecAggMessage(bytes, 'masked-input')).toThrow(/expected a masked-input message, got advertise-keys/);
    // Layout: magic 4, version 1, code 1, session (u16 + 1 byte), round u32, from u32, c^PK (u32 + 32)…
    const forgedLength = Buffer.from(bytes);
    forgedLength.writeUInt32LE(0x100000, 6 + 3 + 4 + 4);
    expect(() => decodeSecAggMessage(forgedLength)).toThrow(/truncated advertise-keys message: cPublicKey needs 1048576 bytes/);
    // A frame that parses but whose values break the schema.
    const forgedIndex = Buffer.from(bytes);
    forgedIndex.writeUInt32LE(0xffffffff, 6 + 3 + 4);
    expect(() => decodeSecAggMessage(forgedIndex)).toThrow(/invalid advertise-keys message: from: /);
    expect(() => validateSecAggMessage({ ...messages[0]!, cPublicKey: new Uint8Array(31) })).toThrow(/cPublicKey: c public key must be 32 bytes/);
    expect(() => validateSecAggMessage({ ...messages[0]!, extra: 1 })).toThrow(/invalid advertise-keys message/);
    expect(() => validateSecAggMessage({ ...messages[6]!, keyShares: [{ owner: 4, share: new Uint8Array(66) }] })).toThrow(/appears twice/);
    expect(() => validateSecAggMessage({ type: 'nope' })).toThrow(/unknown type "nope"/);
  });
});
