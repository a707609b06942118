import { describe, expect, it } from 'vitest';
import { Rng } from '../../shared/random.js';
import {
  componentsOf,
  decodeSecAggMessage,
  decodeSum,
  encodeFixedPoint,
  encodeSecAggMessage,
  fixedPointSpec,
  graphOf,
  maskedWords,
  planRound,
  SecAggClient,
  SecAggError,
  SecAggServer,
  sumMod32,
  type EncryptedShares,
  type MaskedInput,
  type SecAggMessage,
  type UnmaskingShares,
} from '../../shared/secure-aggregation/index.js';
import { randomDropouts, runSecureAggregation, type DropoutPlan } from '../../shared/secure-aggregation/simulation.js';

const CLIP = 1;

/** Fixed-point encoded random clipped updates, and the floats they came from. */
function cohort(n: number, length: number, seed: number) {
  const rng = new Rng(seed);
  const spec = fixedPointSpec({ clip: CLIP, maxClients: n });
  const floats = Array.from({ length: n }, () => Float32Array.from({ length }, () => rng.uniform(-CLIP, CLIP)));
  return { spec, floats, inputs: floats.map((f) => encodeFixedPoint(f, spec)) };
}

function errorOf(fn: () => unknown): SecAggError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SecAggError) return error;
    throw error;
  }
  throw new Error('expected a SecAggError');
}

describe('secure aggregation: exact sums under dropouts', () => {
  // 30 % per step compounds: 0.7³ ≈ 34 % of the cohort is left to unmask, so thresholds are set
  // low enough to survive that (t = 9 of 30 for SecAgg; t = 4 of 21 holders for SecAgg+ with k = 20).
  const cases = [
    { variant: 'secagg' as const, n: 30, options: { thresholdFraction: 0.3 } },
    { variant: 'secagg+' as const, n: 40, options: { degree: 20, thresholdFraction: 0.15 } },
  ];
  for (const { variant, n, options } of cases) {
    for (const rate of [0, 0.1, 0.3]) {
      it(`${variant}, ${rate * 100} % dropouts at each step: the sum of the survivors' inputs, bit for bit`, () => {
        const { spec, floats, inputs } = cohort(n, 300, 11);
        const dropouts = randomDropouts(n, rate, 3);
        const result = runSecureAggregation({ inputs, variant, ...options, dropouts, graphSeed: 5 });
        if (!result.outcome.ok) throw new Error(`round aborted: ${result.outcome.abort.reason}`);
        const gone = new Set([...(dropouts.afterAdvertiseKeys ?? []), ...(dropouts.afterShareKeys ?? [])]);
        const expectedSurvivors = Array.from({ length: n }, (_, i) => i).filter((i) => !gone.has(i));
        expect(result.outcome.survivors).toEqual(expectedSurvivors);
        if (rate > 0) expect(dropouts.afterMaskedInput!.length).toBeGreaterThan(0);
        const expected = sumMod32(expectedSurvivors.map((i) => inputs[i]!));
        expect(Buffer.from(result.outcome.sum.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
        expect(result.serverRefused).toEqual([]);
        expect(result.clients.filter((c) => c.error)).toEqual([]);
        // And the decoded sum is the float sum up to the rounding bound n / (2·scale).
        const decoded = decodeSum(result.outcome.sum, spec, expectedSurvivors.length);
        for (let j = 0; j < 300; j += 37) {
          const exact = expectedSurvivors.reduce((s, i) => s + floats[i]![j]!, 0);
          expect(Math.abs(decoded[j]! - exact)).toBeLessThanOrEqual(expectedSurvivors.length / (2 * spec.scale) + 1e-5);
        }
      });
    }
  }

  it('secagg+ with k chosen from the bounds (n = 60, δ = 0.1) sums exactly', () => {
    const { inputs } = cohort(60, 100, 12);
    const dropouts = randomDropouts(60, 0.03, 4);
    const result = runSecureAggregation({ inputs, variant: 'secagg+', dropoutRate: 0.1, dropouts, graphSeed: 77 });
    expect(result.config.degree).toBeLessThan(59);
    if (!result.outcome.ok) throw new Error(result.outcome.abort.reason);
    expect(result.outcome.sum).toEqual(sumMod32(result.outcome.survivors.map((i) => inputs[i]!)));
  });
});

describe('secure aggregation: below-threshold rounds abort and disclose nothing', () => {
  const n = 10;
  const { inputs } = cohort(n, 50, 13);
  const run = (dropouts: DropoutPlan) => runSecureAggregation({ inputs, variant: 'secagg', thresholdFraction: 0.6, dropouts });
  const some = (k: number) => Array.from({ length: k }, (_, i) => i);

  it.each([
    ['advertise-keys', { beforeAdvertiseKeys: some(5) }, /only 5 of 10 clients advertised keys.*threshold is 6/],
    ['share-keys', { afterAdvertiseKeys: some(5) }, /only 5 clients sent their encrypted shares.*threshold is 6/],
    ['masked-input', { afterShareKeys: some(5) }, /only 5 clients sent masked inputs.*threshold is 6/],
    [
      'unmasking',
      { afterMaskedInput: some(5) },
      /only 5 survivors sent unmasking shares; below the threshold of 6 shares for client 0's self mask \(5 shares\)/,
    ],
  ] as const)('aborts at %s with the reason', (step, dropouts, reason) => {
    const result = run(dropouts);
    expect(result.outcome.ok).toBe(false);
    if (result.outcome.ok) return;
    expect(result.outcome.abort.step).toBe(step);
    expect(result.outcome.abort.reason).toMatch(reason);
    expect(Object.keys(result.outcome)).toEqual(['ok', 'abort']); // no sum, no survivor list
  });

  it('an aborted server refuses every further step', () => {
    const config = planRound({ variant: 'secagg', clients: 3, vectorLength: 4, session: 's' });
    const server = new SecAggServer(config);
    const outcome = server.closeAdvertiseKeys();
    expect(outcome.ok).toBe(false);
    expect(server.phase).toBe('aborted');
    expect(() => server.finish()).toThrow(/finish\(\) called in phase 'aborted'/);
    const client = new SecAggClient(config, 0);
    expect(() => server.receiveAdvertiseKeys(client.advertiseKeys())).toThrow(/phase 'aborted'/);
  });
});

describe('secure aggregation: what the server sees', () => {
  it('receives only keys, sealed shares, masked vectors and one secret per client', () => {
    const n = 12;
    const { inputs } = cohort(n, 256, 14);
    const received: SecAggMessage[] = [];
    const dropouts: DropoutPlan = { afterShareKeys: [3, 7], afterMaskedInput: [5] };
    const result = runSecureAggregation({ inputs, variant: 'secagg', thresholdFraction: 0.5, dropouts, onServerReceive: (m) => received.push(m) });
    expect(result.outcome.ok).toBe(true);

    expect(new Set(received.map((m) => m.type))).toEqual(new Set(['advertise-keys', 'encrypted-shares', 'masked-input', 'unmasking-shares']));
    const masked = received.filter((m): m is MaskedInput => m.type === 'masked-input');
    expect(masked.map((m) => m.from).sort((a, b) => a - b)).toEqual([0, 1, 2, 4, 5, 6, 8, 9, 10, 11]);
    for (const m of masked) {
      const y = maskedWords(m);
      const x = inputs[m.from]!;
      let same = 0;
      for (let i = 0; i < x.length; i++) if (y[i] === x[i]) same++;
      expect(same).toBeLessThanOrEqual(1); // P[y_i = x_i] = 2^−32 per word
    }
    // No received byte string contains any client's encoded input (first 64 bytes as a probe).
    const probes = inputs.map((x) => Buffer.from(x.buffer, x.byteOffset, 64));
    const binaries = received.flatMap((m) => binaryFields(m));
    for (const b of binaries) for (const p of probes) expect(Buffer.from(b).indexOf(p)).toBe(-1);
    // The server never gets both secrets of one client: b-shares only of survivors, s^SK-shares only of dropped.
    const unmasking = received.filter((m): m is UnmaskingShares => m.type === 'unmasking-shares');
    const selfOwners = new Set(unmasking.flatMap((m) => m.selfMaskShares.map((s) => s.owner)));
    const keyOwners = new Set(unmasking.flatMap((m) => m.keyShares.map((s) => s.owner)));
    expect([...keyOwners].sort()).toEqual([3, 7]);
    expect([...selfOwners].filter((o) => keyOwners.has(o))).toEqual([]);
  });

  it("a single client's masked vector is uniform mod 2^32 and uncorrelated with its input", () => {
    // Fixed design: L = 2^16 words, the top 8 bits in 256 bins (expected 256 each), χ² with 255
    // degrees of freedom; reject outside [161, 378], the two-sided 10^−6 quantiles (Wilson–Hilferty).
    // Correlation: under independence r ≈ N(0, 1/L), sd = 1/256; |r| < 6/√L has false-alarm
    // probability ≈ 2·10^−9.
    const L = 1 << 16;
    const n = 4;
    // Deliberately structured inputs: a ramp, a constant, a square wave, a sparse spike train.
    const inputs = [
      Uint32Array.from({ length: L }, (_, i) => (i * 4096) >>> 0),
      new Uint32Array(L).fill(7),
      Uint32Array.from({ length: L }, (_, i) => ((i >> 6) & 1 ? 0x7fff : 0xffff8001) >>> 0),
      Uint32Array.from({ length: L }, (_, i) => (i % 97 === 0 ? 1 << 20 : 0)),
    ];
    const masked = new Map<number, Uint32Array>();
    const result = runSecureAggregation({
      inputs,
      variant: 'secagg',
      thresholdFraction: 0.5,
      onServerReceive: (m) => m.type === 'masked-input' && masked.set(m.from, Uint32Array.from(maskedWords(m))),
    });
    expect(result.outcome.ok).toBe(true);
    for (let c = 0; c < n; c++) {
      const y = masked.get(c)!;
      const bins = new Float64Array(256);
      for (const w of y) bins[w >>> 24]!++;
      const expected = L / 256;
      const chi2 = bins.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
      expect(chi2).toBeGreaterThan(161);
      expect(chi2).toBeLessThan(378);
      const x = Float64Array.from(inputs[c]!, (v) => v | 0);
      if (c !== 1) expect(Math.abs(pearson(x, Float64Array.from(y)))).toBeLessThan(6 / Math.sqrt(L));
      // The test has power: the same statistics on the unmasked input fail loudly.
      const rawBins = new Float64Array(256);
      for (const w of inputs[c]!) rawBins[w >>> 24]!++;
      expect(rawBins.reduce((s, o) => s + (o - expected) ** 2 / expected, 0)).toBeGreaterThan(10_000);
    }
  });
});

describe('secure aggregation: tampered and malformed input', () => {
  /** Drives a 4-client round up to the share deliveries. */
  function upToDeliveries() {
    const config = planRound({ variant: 'secagg', clients: 4, vectorLength: 8, session: 'tamper', round: 2 });
    const server = new SecAggServer(config);
    const clients = [0, 1, 2, 3].map((i) => new SecAggClient(config, i));
    clients.forEach((c) => server.receiveAdvertiseKeys(c.advertiseKeys()));
    const rosters = server.closeAdvertiseKeys();
    if (!rosters.ok) throw new Error('unexpected abort');
    rosters.messages.forEach((r) => server.receiveEncryptedShares(clients[r.to]!.shareKeys(r)));
    const deliveries = server.closeShareKeys();
    if (!deliveries.ok) throw new Error('unexpected abort');
    return { config, server, clients, deliveries: deliveries.messages };
  }

  it('a client rejects a tampered share ciphertext, naming the sender, and stays usable', () => {
    const { clients, deliveries } = upToDeliveries();
    const good = deliveries[0]!;
    const tampered = structuredClone(good);
    tampered.shares[1]!.ciphertext[10]! ^= 0xff;
    const error = errorOf(() => clients[0]!.maskedInput(tampered, new Uint32Array(8)));
    expect(error.code).toBe('decrypt-failed');
    expect(error.message).toMatch(/share ciphertext from client 2 to client 0 .* failed authentication/);
    expect(clients[0]!.phase).toBe('shared');
    expect(clients[0]!.maskedInput(good, new Uint32Array(8)).type).toBe('masked-input');
  });

  it('a share pair relayed to the wrong client, or from another round, fails authentication', () => {
    const { clients, deliveries } = upToDeliveries();
    // The server relays client 1's pair for client 0 to client 2 instead, claiming it is for 2.
    const misrouted = structuredClone(deliveries[2]!);
    const forZero = deliveries[0]!.shares.find((s) => s.from === 1)!;
    misrouted.shares = misrouted.shares.map((s) => (s.from === 1 ? { ...forZero } : s));
    expect(errorOf(() => clients[2]!.maskedInput(misrouted, new Uint32Array(8))).code).toBe('decrypt-failed');
    const otherRound = { ...deliveries[0]!, round: 3 };
    expect(errorOf(() => clients[0]!.maskedInput(otherRound, new Uint32Array(8))).code).toBe('wrong-round');
  });

  it('truncated or padded frames of every step are rejected by the decoder', () => {
    const { clients, deliveries } = upToDeliveries();
    const frame = encodeSecAggMessage(clients[1]!.maskedInput(deliveries[1]!, new Uint32Array(8)));
    expect(() => decodeSecAggMessage(frame.subarray(0, frame.length - 1))).toThrow(/truncated masked-input message: masked needs 32 bytes .* only 31 left/);
    const shareFrame = encodeSecAggMessage(deliveries[0]!);
    expect(() => decodeSecAggMessage(shareFrame.subarray(0, shareFrame.length - 16))).toThrow(/truncated share-delivery message/);
  });

  it('the server refuses wrong lengths, duplicates, strangers and late messages', () => {
    const { server, clients, deliveries } = upToDeliveries();
    const m0 = clients[0]!.maskedInput(deliveries[0]!, new Uint32Array(8));
    expect(() => server.receiveMaskedInput({ ...m0, masked: m0.masked.subarray(0, 28) })).toThrow(/has 7 words, expected 8/);
    server.receiveMaskedInput(m0);
    expect(errorOf(() => server.receiveMaskedInput(m0)).code).toBe('duplicate');
    expect(() => server.receiveMaskedInput({ ...m0, from: 9 })).toThrow(/outside the cohort/);
    expect(() => server.receiveMaskedInput({ ...m0, session: 'other' })).toThrow(/session "other"/);
    for (const i of [1, 2, 3]) server.receiveMaskedInput(clients[i]!.maskedInput(deliveries[i]!, new Uint32Array(8)));
    server.closeMaskedInputs();
    expect(() => server.receiveMaskedInput(m0)).toThrow(/arrived in phase 'collecting-unmasking-shares'/);
  });

  it('the server refuses share lists that skip or add a receiver', () => {
    const config = planRound({ variant: 'secagg', clients: 3, vectorLength: 4, session: 's' });
    const server = new SecAggServer(config);
    const clients = [0, 1, 2].map((i) => new SecAggClient(config, i));
    clients.forEach((c) => server.receiveAdvertiseKeys(c.advertiseKeys()));
    const rosters = server.closeAdvertiseKeys();
    if (!rosters.ok) throw new Error('abort');
    const shares: EncryptedShares = clients[0]!.shareKeys(rosters.messages[0]!);
    expect(() => server.receiveEncryptedShares({ ...shares, shares: shares.shares.slice(1) })).toThrow(
      /exactly one share pair to each of its 2 roster neighbours/,
    );
  });
});

describe('secure aggregation: clients refuse requests that would expose an input', () => {
  function masked() {
    const config = planRound({ variant: 'secagg', clients: 5, vectorLength: 4, session: 'refuse', thresholdFraction: 0.6 });
    const server = new SecAggServer(config);
    const clients = [0, 1, 2, 3, 4].map((i) => new SecAggClient(config, i));
    clients.forEach((c) => server.receiveAdvertiseKeys(c.advertiseKeys()));
    const rosters = server.closeAdvertiseKeys();
    if (!rosters.ok) throw new Error('abort');
    rosters.messages.forEach((r) => server.receiveEncryptedShares(clients[r.to]!.shareKeys(r)));
    const deliveries = server.closeShareKeys();
    if (!deliveries.ok) throw new Error('abort');
    deliveries.messages.forEach((d) => clients[d.to]!.maskedInput(d, new Uint32Array(4)));
    return clients[0]!;
  }
  const base = { type: 'unmask-request' as const, session: 'refuse', round: 0, to: 0 };

  it('refuses to reveal both shares of one client', () => {
    const error = errorOf(() => masked().unmask({ ...base, survivors: [0, 1, 2, 3, 4], dropped: [3] }));
    expect(error.code).toBe('refused');
    expect(error.message).toMatch(/client\(s\) 3 as both survivor and dropped/);
  });

  it('refuses to be called dropped, to skip a peer, or to unmask too few survivors', () => {
    expect(errorOf(() => masked().unmask({ ...base, survivors: [1, 2, 3, 4], dropped: [0] })).message).toMatch(/lists this client.* as dropped/);
    expect(errorOf(() => masked().unmask({ ...base, survivors: [0, 1, 2, 3], dropped: [] })).message).toMatch(/says nothing about peer\(s\) 4/);
    const few = errorOf(() => masked().unmask({ ...base, survivors: [0, 1], dropped: [2, 3, 4] }));
    expect(few.code).toBe('below-threshold');
    expect(few.message).toMatch(/only 2 survivors .* below the threshold 3/);
    // A legitimate request is answered: one secret per client.
    const answer = masked().unmask({ ...base, survivors: [0, 1, 2], dropped: [3, 4] });
    expect(answer.selfMaskShares.map((s) => s.owner)).toEqual([0, 1, 2]);
    expect(answer.keyShares.map((s) => s.owner)).toEqual([3, 4]);
  });

  it('refuses out-of-order calls', () => {
    const config = planRound({ variant: 'secagg', clients: 3, vectorLength: 4, session: 's' });
    const client = new SecAggClient(config, 0);
    expect(() => client.unmask({ ...base, session: 's', survivors: [0], dropped: [] })).toThrow(/unmask\(\) called in phase 'created', expected 'masked'/);
  });
});

describe('SecAgg+: sparse neighbourhoods', () => {
  it('uses a k-regular connected graph and per-client traffic that grows with k, not n', () => {
    const k = 8;
    const perClient = (variant: 'secagg' | 'secagg+', n: number) => {
      const shares = new Map<number, number>();
      const bytes = new Map<number, number>();
      const { inputs } = cohort(n, 16, 15);
      const result = runSecureAggregation({
        inputs,
        variant,
        degree: k,
        thresholdFraction: 0.5,
        graphSeed: 8,
        onServerReceive: (m, size) => {
          if (m.type === 'encrypted-shares') shares.set(m.from, m.shares.length);
          if (m.type !== 'masked-input') bytes.set((m as { from: number }).from, (bytes.get((m as { from: number }).from) ?? 0) + size);
        },
      });
      expect(result.outcome.ok).toBe(true);
      if (variant === 'secagg+') {
        const graph = graphOf(result.config);
        for (let i = 0; i < n; i++) expect(graph.neighbours(i)).toHaveLength(k);
        expect(
          componentsOf(
            graph,
            Array.from({ length: n }, (_, i) => i),
          ),
        ).toHaveLength(1);
      }
      return { shares: new Set(shares.values()), maxBytes: Math.max(...bytes.values()) };
    };
    const small = perClient('secagg+', 24);
    const large = perClient('secagg+', 48);
    expect(small.shares).toEqual(new Set([k]));
    expect(large.shares).toEqual(new Set([k]));
    expect(large.maxBytes).toBe(small.maxBytes); // protocol traffic besides the vector: same k, same bytes
    const full = perClient('secagg', 48);
    expect(full.shares).toEqual(new Set([47]));
    expect(full.maxBytes).toBeGreaterThan(4 * large.maxBytes);
  });
});

function binaryFields(value: unknown): Uint8Array[] {
  if (value instanceof Uint8Array) return [value];
  if (Array.isArray(value)) return value.flatMap(binaryFields);
  if (value && typeof value === 'object') return Object.values(value).flatMap(binaryFields);
  return [];
}

function pearson(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}
