/**
 * Secure aggregation cost: per-client compute and bytes sent, and server compute, for SecAgg
 * (Bonawitz et al., CCS 2017) and SecAgg+ (Bell et al., CCS 2020), next to plain aggregation
 * (summing float32 vectors) measured in the same run.
 *
 *   node --import tsx bench/secure-aggregation.ts [--quick] [--samples 2] [--full-budget-s 3]
 *                                                 [--n 100,1000] [--L 1e6] [--drop 0,0.3]
 *
 * Grid: n ∈ {10, 50, 100, 500, 1000} × L ∈ {10^4, 10^5, 10^6} × dropout ∈ {0, 10, 30 %}
 * (--quick: n ∈ {10, 100, 500}, L ∈ {10^4, 10^5}, dropout ∈ {0, 30 %}, one sampled client).
 * Dropouts happen after the share step — the server's worst case, since it must reconstruct each
 * dropped client's key and regenerate its masks with every surviving neighbour.
 *
 * Two modes per row:
 *  - full: the whole round runs in the in-memory simulation (every client and the server, messages
 *    through the wire codec); client figures are means over the clients that finished.
 *  - sampled: a whole round would take too long (SecAgg at n = 1000, L = 10^6 means each client
 *    expands ~1000 masks of 4 MB), so a few surviving clients run the real SecAggClient against a
 *    roster and share deliveries built with the same primitives (neighbours' share values are
 *    drawn uniformly, which is exactly the distribution of one Shamir share). The server time is
 *    estimated: the real SecAggServer processes synthetic messages of the right shapes for every
 *    step up to finish() (rosters, relaying sealed shares, summing masked vectors, validating
 *    unmasking shares), and finish() itself — which needs real secrets — is the count of each unit
 *    of its work times that unit's median time, timed through the very functions finish() calls.
 *    Full rows print the same estimate next to the measured server time so the two can be compared.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Rng } from '../shared/random.js';
import {
  agree,
  combineShares,
  deriveKey,
  encodeFixedPoint,
  encodeSecAggMessage,
  encodeShareValue,
  FIELD_PRIME,
  fixedPointSpec,
  generateKeyPair,
  graphOf,
  lagrangeCoefficientsAtZero,
  planRound,
  publicKeyOf,
  removePairwiseMask,
  removeSelfMask,
  sealSharePair,
  SecAggClient,
  SecAggServer,
  secretFromFieldElement,
  splitSecret,
  sumMod32,
  type RoundConfig,
  type ShareDelivery,
  type Variant,
  type X25519KeyPair,
} from '../shared/secure-aggregation/index.js';
import { runSecureAggregation } from '../shared/secure-aggregation/simulation.js';
import { report } from './report.js';

const argv = process.argv.slice(2);
const arg = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const quick = argv.includes('--quick');
const samples = Number(arg('--samples') ?? (quick ? 1 : 2));
const fullBudgetS = Number(arg('--full-budget-s') ?? (quick ? 1.5 : 3));
const list = (name: string) => arg(name)?.split(',').map(Number);
const sizes = list('--n') ?? (quick ? [10, 100, 500] : [10, 50, 100, 500, 1000]);
const lengths = list('--L') ?? (quick ? [1e4, 1e5] : [1e4, 1e5, 1e6]);
const rates = list('--drop') ?? (quick ? [0, 0.3] : [0, 0.1, 0.3]);
const THRESHOLD_FRACTION = 0.5;
const DESIGN_DROPOUT = 0.3;
const CLIP = 1;
const SESSION = 'bench';

type Row = Record<string, string | number | null>;
const rows: Row[] = [];
const breakdown: Record<string, unknown>[] = [];
const started = performance.now();
const loadAtStart = loadavg()[0]!;
const rng = new Rng(2024);
const keyPool = new Map<number, { c: X25519KeyPair; s: X25519KeyPair }[]>();
const floatPool = new Map<number, Float32Array[]>();

// Unit costs for deciding whether a whole round fits the budget.
calibrate();
const unit = calibrate();
process.stderr.write(
  `calibration: mask ${unit.maskWordNs.toFixed(2)} ns/word, agreement ${unit.agreeUs.toFixed(0)} µs, field mul ${unit.mulNs.toFixed(0)} ns\n`,
);

for (const L of lengths) {
  floatPool.set(
    L,
    Array.from({ length: 4 }, () => Float32Array.from({ length: L }, () => rng.uniform(-CLIP, CLIP))),
  );
}

for (const n of sizes) {
  const spec = fixedPointSpec({ clip: CLIP, maxClients: n });
  for (const L of lengths) {
    for (const rate of rates) {
      const dropped = new Set(rng.sampleWithoutReplacement(n, Math.floor(rate * n)));
      const plainMs = plainAggregation(n - dropped.size, L);
      rows.push(row(n, L, rate, 'plain', null, null, 'full', 0, 4 * L, plainMs, null));
      for (const variant of ['secagg', 'secagg+'] as Variant[]) {
        const config = planRound({
          variant,
          clients: n,
          vectorLength: L,
          session: SESSION,
          thresholdFraction: THRESHOLD_FRACTION,
          dropoutRate: DESIGN_DROPOUT,
          graphSeed: rng.nextUint32(),
        });
        const model = serverEstimate(config, dropped);
        const result = estimateFullSeconds(config, dropped) <= fullBudgetS ? fullRound(config, dropped, spec) : sampledRound(config, dropped, spec);
        rows.push(
          row(n, L, rate, variant, config.degree, config.threshold, result.mode, result.clientMs, result.clientBytes, result.serverMs ?? model.ms, model.ms),
        );
        const last = rows[rows.length - 1]!;
        breakdown.push({
          n,
          L,
          'drop %': rate * 100,
          protocol: variant,
          'steps ms': round(model.stepsMs),
          'finish model ms': round(model.finishMs),
          work: model.work,
          units: Object.fromEntries(Object.entries(model.units).map(([k, v]) => [k, round(v, 3)])),
        });
        process.stderr.write(
          `n=${n} L=${L} drop=${rate * 100}% ${variant} k=${config.degree} t=${config.threshold} ${result.mode}: client ${last['client ms']} ms, ` +
            `server ${last['server ms']} ms (est. ${round(model.stepsMs)} ms steps + ${round(model.finishMs)} ms finish: ${model.work.pairwise} pairwise masks × ` +
            `${round(model.units.pairwiseMaskMs, 2)} ms) (${((performance.now() - started) / 1000).toFixed(0)} s elapsed)\n`,
        );
      }
    }
  }
}

const reference = rows.find((r) => r.n === 1000 && r.L === 1e6 && r['drop %'] === 0 && r.protocol === 'secagg');
const notes: Record<string, unknown> = {
  quick,
  definitions: {
    'client ms':
      'compute inside one client per round: fixed-point encoding + advertiseKeys + shareKeys + maskedInput + unmask (codec excluded); mean over measured clients',
    'client KB sent': 'bytes one surviving client sends over the round (wire codec): keys + sealed shares + masked vector + unmasking shares',
    '× f32': 'client bytes sent / 4L (the plain float32 update)',
    '× 16-bit': 'client bytes sent / 2L (plain 16-bit inputs, the baseline of Bonawitz et al.)',
    'server ms': 'full: measured inside SecAggServer during the simulated round; sampled: the estimate in "server est. ms"',
    'server est. ms':
      'real SecAggServer fed synthetic messages for every step up to finish() (key rosters, relaying sealed shares, summing masked vectors, validating unmasking shares), plus finish() modelled as Σ count × median time of: removing one self mask, removing one pairwise mask (X25519 + HKDF + PRG), one set of Lagrange coefficients, one reconstruction, one public-key check',
    mode: 'full = every party simulated; sampled Nc = N surviving clients run the real client code, server estimated',
    dropout: 'fraction of the cohort that drops after sending shares (before the masked input)',
    parameters: `threshold fraction τ = ${THRESHOLD_FRACTION}; SecAgg+ degree from the Bell et al. bounds with design dropout δ = ${DESIGN_DROPOUT}, σ = 40, η = 20`,
  },
  fixedPoint: 'b = 32 − ⌈log2 n⌉ bits per value; masked words are 32 bits',
  bonawitzComparison: reference
    ? comparison(reference)
    : 'run the full grid for the n = 1000, L = 10^6 row (closest to Bonawitz et al.’s 2^10 users, 2^20-dim vectors, 1.73×)',
  wallSeconds: Math.round((performance.now() - started) / 1000),
  // Timings on a shared machine move with its load; record it so runs can be compared.
  loadAverage1m: { start: round(loadAtStart, 2), end: round(loadavg()[0]!, 2) },
  samplesPerSampledRow: samples,
  serverEstimateBreakdown: breakdown,
};
const partial = ['--n', '--L', '--drop'].some((a) => argv.includes(a));
report(quick ? 'secure-aggregation-quick' : partial ? 'secure-aggregation-partial' : 'secure-aggregation', rows, notes);

// ---------------------------------------------------------------------------------------------

function row(
  n: number,
  L: number,
  rate: number,
  protocol: string,
  k: number | null,
  t: number | null,
  mode: string,
  clientMs: number | null,
  clientBytes: number,
  serverMs: number,
  modelMs: number | null,
): Row {
  return {
    n,
    L,
    'drop %': rate * 100,
    protocol,
    k,
    t,
    mode,
    'client ms': clientMs === null ? null : round(clientMs),
    'client KB sent': round(clientBytes / 1024),
    '× f32': round(clientBytes / (4 * L), 3),
    '× 16-bit': round(clientBytes / (2 * L), 3),
    'server ms': round(serverMs),
    'server est. ms': modelMs === null ? null : round(modelMs),
  };
}

function comparison(r: Row): string {
  const n = r.n as number;
  const L = r.L as number;
  const bytes = (r['client KB sent'] as number) * 1024;
  const packedBits = 16 + Math.ceil(Math.log2(n));
  const packed = bytes - 4 * L + (L * packedBits) / 8;
  return (
    `n = ${n}, L = ${L}: a client sends ${(bytes / 2 / L).toFixed(2)}× the bytes of its 16-bit input in the clear with 32-bit masked words; ` +
    `packing masked entries in ${packedBits} bits as Bonawitz et al. do would give ${(packed / 2 / L).toFixed(2)}× (they report 1.73× for 2^10 users, 2^20 entries)`
  );
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Sum of `count` float32 vectors of length L into one accumulator (what FedAvg's server does). */
function plainAggregation(count: number, L: number): number {
  const pool = floatPool.get(L)!;
  const acc = new Float32Array(L);
  const start = performance.now();
  for (let c = 0; c < count; c++) {
    const v = pool[c % pool.length]!;
    for (let i = 0; i < L; i++) acc[i]! += v[i]!;
  }
  return performance.now() - start;
}

interface RoundCost {
  mode: string;
  clientMs: number;
  clientBytes: number;
  serverMs: number | null;
}

function encodedInputs(n: number, L: number, spec: ReturnType<typeof fixedPointSpec>): { inputs: Uint32Array[]; encodeMs: number } {
  const pool = floatPool.get(L)!;
  const start = performance.now();
  const inputs = Array.from({ length: n }, (_, i) => encodeFixedPoint(pool[i % pool.length]!, spec));
  return { inputs, encodeMs: (performance.now() - start) / n };
}

function fullRound(config: RoundConfig, dropped: Set<number>, spec: ReturnType<typeof fixedPointSpec>): RoundCost {
  const { inputs, encodeMs } = encodedInputs(config.clients, config.vectorLength, spec);
  const result = runSecureAggregation({ inputs, variant: config.variant, config, dropouts: { afterShareKeys: [...dropped] } });
  if (!result.outcome.ok) throw new Error(`bench round aborted: ${result.outcome.abort.reason}`);
  const expected = sumMod32(result.outcome.survivors.map((i) => inputs[i]!));
  if (!Buffer.from(expected.buffer).equals(Buffer.from(result.outcome.sum.buffer))) throw new Error('bench round: wrong sum');
  const finished = result.clients.filter((c) => !dropped.has(c.index));
  const mean = (f: (c: (typeof finished)[number]) => number) => finished.reduce((s, c) => s + f(c), 0) / finished.length;
  return { mode: 'full', clientMs: encodeMs + mean((c) => c.computeMs), clientBytes: mean((c) => c.bytesSent), serverMs: result.serverMs };
}

function neighbourKeys(n: number) {
  let pool = keyPool.get(n);
  if (!pool) keyPool.set(n, (pool = Array.from({ length: n }, () => ({ c: generateKeyPair(), s: generateKeyPair() }))));
  return pool;
}

function randomShare(): bigint {
  return BigInt(`0x${randomBytes(66).toString('hex')}`) % FIELD_PRIME;
}

function sampledRound(config: RoundConfig, dropped: Set<number>, spec: ReturnType<typeof fixedPointSpec>): RoundCost {
  const graph = graphOf(config);
  const pool = neighbourKeys(config.clients);
  const survivors = Array.from({ length: config.clients }, (_, i) => i).filter((i) => !dropped.has(i));
  const chosen = rng.shuffle([...survivors]).slice(0, samples);
  const context = { session: config.session, round: config.round };
  let clientMs = 0;
  let clientBytes = 0;
  for (const r of chosen) {
    const neighbours = graph.neighbours(r);
    const client = new SecAggClient(config, r);
    let ms = 0;
    const timed = <T>(fn: () => T): T => {
      const start = performance.now();
      const out = fn();
      ms += performance.now() - start;
      return out;
    };
    const advert = timed(() => client.advertiseKeys());
    const shares = timed(() =>
      client.shareKeys({
        type: 'key-roster',
        ...context,
        to: r,
        keys: neighbours.map((v) => ({ index: v, cPublicKey: pool[v]!.c.publicKey, sPublicKey: pool[v]!.s.publicKey })),
      }),
    );
    const delivery: ShareDelivery = {
      type: 'share-delivery',
      ...context,
      to: r,
      shares: neighbours.map((v) => {
        const key = deriveKey(agree(pool[v]!.c.privateKey, advert.cPublicKey), 'share-encryption-key', context);
        const sealed = sealSharePair(key, { keyShare: randomShare(), selfMaskShare: randomShare() }, { ...context, from: v, to: r });
        return { from: v, ...sealed };
      }),
    };
    const input = timed(() => encodeFixedPoint(floatPool.get(config.vectorLength)![r % 4]!, spec));
    const masked = timed(() => client.maskedInput(delivery, input));
    const unmasking = timed(() =>
      client.unmask({
        type: 'unmask-request',
        ...context,
        to: r,
        survivors: [r, ...neighbours.filter((v) => !dropped.has(v))].sort((a, b) => a - b),
        dropped: neighbours.filter((v) => dropped.has(v)),
      }),
    );
    clientMs += ms;
    clientBytes += [advert, shares, masked, unmasking].reduce((s, m) => s + encodeSecAggMessage(m).length, 0);
  }
  return { mode: `sampled ${chosen.length}c`, clientMs: clientMs / chosen.length, clientBytes: clientBytes / chosen.length, serverMs: null };
}

/** What SecAggServer.finish() does, as counts of work units. */
function finishWork(config: RoundConfig, dropped: Set<number>) {
  const graph = graphOf(config);
  const survivors = config.clients - dropped.size;
  let pairwise = 0;
  let droppedWithLiveNeighbour = 0;
  for (const v of dropped) {
    const live = graph.neighbours(v).filter((u) => !dropped.has(u)).length;
    pairwise += live;
    if (live > 0) droppedWithLiveNeighbour++;
  }
  const reconstructions = survivors + droppedWithLiveNeighbour;
  // SecAgg: every responder holds every share, so one responder set serves all reconstructions.
  const coefficientSets = graph.complete ? 1 : reconstructions;
  return { survivors, pairwise, droppedWithLiveNeighbour, reconstructions, coefficientSets };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median of `reps` timed calls after one warm-up call. */
function timeUnit(reps: number, fn: () => void): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

/**
 * Server time without running every client: the real SecAggServer processes synthetic messages of
 * the right shapes for every step it can take without secrets (keys, sealed shares it only relays,
 * masked vectors it sums, unmasking shares it validates), and finish() — reconstructions and mask
 * regeneration, the part that needs real secrets — is modelled from its units, timed through the
 * functions finish() calls.
 */
function serverEstimate(config: RoundConfig, dropped: Set<number>) {
  const n = config.clients;
  const L = config.vectorLength;
  const t = config.threshold;
  const context = { session: config.session, round: config.round };

  // Units first: timing them right after the synthetic run below put its garbage collection
  // into the measurements.
  const sum = new Uint32Array(L);
  const seed = new Uint8Array(randomBytes(32));
  const reps = L >= 1e6 ? 5 : 9;
  const a = generateKeyPair();
  const b = generateKeyPair();
  const xs = Array.from({ length: t }, (_, i) => i + 1);
  const shares = splitSecret(new Uint8Array(randomBytes(32)), t, xs);
  const coefficients = lagrangeCoefficientsAtZero(xs);
  const units = {
    selfMaskMs: timeUnit(reps, () => removeSelfMask(sum, seed)),
    pairwiseMaskMs: timeUnit(reps, () => removePairwiseMask(sum, 1, a.publicKey, 0, b.privateKey, context)),
    coefficientsMs: timeUnit(t > 200 ? 3 : 9, () => lagrangeCoefficientsAtZero(xs)),
    reconstructMs: timeUnit(9, () =>
      secretFromFieldElement(
        combineShares(
          coefficients,
          shares.map((s) => s.y),
        ),
        32,
      ),
    ),
    keyCheckMs: timeUnit(9, () => publicKeyOf(b.privateKey)),
  };
  const work = finishWork(config, dropped);
  const finishMs =
    work.survivors * units.selfMaskMs +
    work.pairwise * units.pairwiseMaskMs +
    work.coefficientSets * units.coefficientsMs +
    work.reconstructions * units.reconstructMs +
    work.droppedWithLiveNeighbour * units.keyCheckMs;

  const pool = neighbourKeys(n);
  const server = new SecAggServer(config);
  const nonce = new Uint8Array(12);
  const ciphertext = new Uint8Array(randomBytes(148));
  const masked = new Uint8Array(randomBytes(4 * L));
  const share = encodeShareValue(randomShare());
  let stepsMs = 0;
  const timed = <T>(fn: () => T): T => {
    const start = performance.now();
    const out = fn();
    stepsMs += performance.now() - start;
    return out;
  };
  for (let i = 0; i < n; i++) {
    const m = { type: 'advertise-keys' as const, ...context, from: i, cPublicKey: pool[i]!.c.publicKey, sPublicKey: pool[i]!.s.publicKey };
    timed(() => server.receiveAdvertiseKeys(m));
  }
  const rosters = timed(() => server.closeAdvertiseKeys());
  if (!rosters.ok) throw new Error(rosters.abort.reason);
  for (const r of rosters.messages) {
    const m = { type: 'encrypted-shares' as const, ...context, from: r.to, shares: r.keys.map((k) => ({ to: k.index, nonce, ciphertext })) };
    timed(() => server.receiveEncryptedShares(m));
  }
  const deliveries = timed(() => server.closeShareKeys());
  if (!deliveries.ok) throw new Error(deliveries.abort.reason);
  for (let i = 0; i < n; i++) {
    if (dropped.has(i)) continue;
    const m = { type: 'masked-input' as const, ...context, from: i, masked };
    timed(() => server.receiveMaskedInput(m));
  }
  const requests = timed(() => server.closeMaskedInputs());
  if (!requests.ok) throw new Error(requests.abort.reason);
  for (const r of requests.messages) {
    const m = {
      type: 'unmasking-shares' as const,
      ...context,
      from: r.to,
      selfMaskShares: r.survivors.map((owner) => ({ owner, share })),
      keyShares: r.dropped.map((owner) => ({ owner, share })),
    };
    timed(() => server.receiveUnmaskingShares(m));
  }
  server.abort('unmasking', 'bench: synthetic shares are not reconstructed');
  return { ms: stepsMs + finishMs, stepsMs, finishMs, work, units };
}

function estimateFullSeconds(config: RoundConfig, dropped: Set<number>): number {
  const n = config.clients;
  const L = config.vectorLength;
  const k = config.degree;
  const t = config.threshold;
  const work = finishWork(config, dropped);
  const maskWords = n * (k + 1) * L + (2 * work.survivors + work.pairwise) * L;
  const agreements = 2 * n * k + work.pairwise;
  const fieldMuls = 2 * n * (k + 1) * t + work.coefficientSets * t * t + work.reconstructions * t;
  return (maskWords * unit.maskWordNs * 1e-9 + agreements * unit.agreeUs * 1e-6 + fieldMuls * unit.mulNs * 1e-9) * 1.5;
}

function calibrate() {
  const acc = new Uint32Array(1 << 18);
  const seed = new Uint8Array(randomBytes(32));
  let start = performance.now();
  for (let i = 0; i < 8; i++) removeSelfMask(acc, seed);
  const maskWordNs = ((performance.now() - start) * 1e6) / (8 * acc.length);
  const a = generateKeyPair();
  const b = generateKeyPair();
  start = performance.now();
  for (let i = 0; i < 200; i++) deriveKey(agree(a.privateKey, b.publicKey), 'pairwise-mask-seed', { session: SESSION, round: 0 });
  const agreeUs = ((performance.now() - start) * 1e3) / 200;
  start = performance.now();
  splitSecret(
    new Uint8Array(32),
    100,
    Array.from({ length: 200 }, (_, i) => i + 1),
  );
  const mulNs = ((performance.now() - start) * 1e6) / (100 * 200);
  return { maskWordNs, agreeUs, mulNs };
}
