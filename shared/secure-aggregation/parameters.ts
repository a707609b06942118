/**
 * Round parameters: the public configuration every party of one aggregation instance shares, and
 * the choice of SecAgg+ graph degree k and Shamir threshold t.
 *
 * Threshold. Each client Shamir-shares its secrets among its holders = itself plus its neighbours
 * (all n clients in SecAgg, k + 1 in SecAgg+; Bonawitz et al., CCS 2017, Fig. 4 includes the
 * owner itself). t = max(2, ⌈τ · holders⌉) for a threshold fraction τ; t applies per neighbourhood.
 * t ≥ 2 because t = 1 would hand every neighbour the secret in the clear.
 *
 * Degree. Following Bell et al., "Secure Single-Server Aggregation with (Poly)Logarithmic
 * Overhead", CCS 2020 (§3–4, Harary graphs with a random relabelling), we take the smallest even
 * k < n − 1 for which three union bounds hold, with n clients, at most δ·n dropouts and γ·n
 * clients colluding with the server (γ = 0 for a curious server alone), dropouts and collusion
 * fixed independently of the random graph:
 *
 *  (security)    P[the surviving honest clients' graph is disconnected]
 *                  ≤ (n²/2) · C(B, 2r) / C(n, 2r),   r = ⌊k/2⌋, B = ⌊(δ+γ)n⌋
 *                In the ring H(k, n) the remaining clients stay connected unless the removed ones
 *                cover two disjoint runs of r consecutive ring positions (one run leaves the ring
 *                connected the other way round); fewer than n²/2 ways to place the two runs, and
 *                C(B, 2r)/C(n, 2r) is the chance that 2r given positions all hold removed clients
 *                under a uniform relabelling. A disconnected survivor graph would let the server
 *                unmask the sum of each component separately.
 *              + n · P[Hyp(n−1, ⌊γn⌋, k) ≥ t]   (some client has t colluding holders)
 *                  ≤ 2^−σ
 *  (correctness) n · P[Hyp(n−1, n−1−⌊δn⌋, k) ≤ t − 1] ≤ 2^−η
 *                (some neighbourhood keeps fewer than t live neighbours, not even counting the
 *                owner, and the round must abort).
 * Hyp(N, K, k) is the hypergeometric law of the bad (resp. good) neighbours among k drawn from
 * N = n − 1 others; its tails are summed exactly in log space. Each neighbourhood is a uniform
 * k-subset, so the bounds grow like n·e^{−Θ(k)} and k = O(log n + σ) — Bell et al.'s
 * polylogarithmic overhead. Defaults σ = 40, η = 20 are the security and correctness parameters
 * of Google's reference SecAgg+ parameter finder (federated-compute,
 * fcp/secagg/server/graph_parameter_finder.cc). If no k < n − 1 satisfies them the complete graph
 * is used (SecAgg+ then is SecAgg).
 */
import { z } from 'zod';
import { SecAggError } from './errors.js';
import { completeGraph, hararyGraph, type NeighbourGraph } from './neighbour-graph.js';

export type Variant = 'secagg' | 'secagg+';

/** Upper bound on cohort size, so indices and counts always fit the wire format comfortably. */
export const MAX_CLIENTS = 1 << 20;
/** Upper bound on vector length (4 GiB of masked words is far beyond any bus message). */
export const MAX_VECTOR_LENGTH = 1 << 28;

const u32 = z.number().int().min(0).max(0xffffffff);

export const RoundConfigSchema = z
  .strictObject({
    version: z.literal(1),
    /** Unique per aggregation instance; bound into every derived key and ciphertext. */
    session: z.string().min(1).max(200),
    round: u32,
    variant: z.enum(['secagg', 'secagg+']),
    /** Cohort size n; clients are the indices 0 … n − 1 (the transport maps them to client ids). */
    clients: z.number().int().min(2).max(MAX_CLIENTS),
    /** Neighbours per client k (n − 1 for SecAgg). */
    degree: z.number().int().min(1),
    /** Shares needed to reconstruct one client's secret t (per neighbourhood). */
    threshold: z.number().int().min(2),
    /** Public seed of the SecAgg+ relabelling permutation. */
    graphSeed: u32,
    vectorLength: z.number().int().min(1).max(MAX_VECTOR_LENGTH),
  })
  .superRefine((c, ctx) => {
    if (c.degree > c.clients - 1) ctx.addIssue({ code: 'custom', message: `degree ${c.degree} exceeds clients − 1 = ${c.clients - 1}`, path: ['degree'] });
    if (c.variant === 'secagg' && c.degree !== c.clients - 1) {
      ctx.addIssue({ code: 'custom', message: `SecAgg uses the complete graph: degree must be clients − 1 = ${c.clients - 1}`, path: ['degree'] });
    }
    if (c.degree < c.clients - 1 && c.degree % 2 === 1 && c.clients % 2 === 1) {
      ctx.addIssue({ code: 'custom', message: `odd degree ${c.degree} needs an even number of clients`, path: ['degree'] });
    }
    if (c.threshold > Math.min(c.degree, c.clients - 1) + 1) {
      ctx.addIssue({ code: 'custom', message: `threshold ${c.threshold} exceeds the ${c.degree + 1} holders of each secret`, path: ['threshold'] });
    }
  });

export type RoundConfig = z.output<typeof RoundConfigSchema>;

export function parseRoundConfig(value: unknown): RoundConfig {
  const parsed = RoundConfigSchema.safeParse(value);
  if (!parsed.success) {
    throw new SecAggError(
      'invalid-argument',
      `invalid secure-aggregation round config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

const graphs = new WeakMap<RoundConfig, NeighbourGraph>();

/** The round's neighbour graph (cached per config object). */
export function graphOf(config: RoundConfig): NeighbourGraph {
  let graph = graphs.get(config);
  if (!graph) {
    graph = config.degree >= config.clients - 1 ? completeGraph(config.clients) : hararyGraph(config.clients, config.degree, config.graphSeed);
    graphs.set(config, graph);
  }
  return graph;
}

export function thresholdFor(holders: number, fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new SecAggError('invalid-argument', `threshold fraction must be in (0, 1], got ${fraction}`);
  return Math.min(holders, Math.max(2, Math.ceil(fraction * holders - 1e-9)));
}

export interface ThreatModel {
  /** Fraction δ of the cohort that may drop out during the round. */
  dropoutRate: number;
  /** Fraction γ of clients that may collude with the server (0: curious server alone). */
  corruptRate?: number;
  /** σ: security failure probability ≤ 2^−σ. */
  securityLog2?: number;
  /** η: probability that dropouts within the design rate still abort the round ≤ 2^−η. */
  correctnessLog2?: number;
}

export interface FailureBounds {
  /** log2 of the bound on the survivor graph disconnecting. */
  disconnectedLog2: number;
  /** log2 of the bound on some client having ≥ t colluding holders (−∞ when γ = 0). */
  corruptHoldersLog2: number;
  /** log2 of the bound on some neighbourhood keeping < t live neighbours. */
  belowThresholdLog2: number;
}

export function secAggPlusBounds(n: number, degree: number, threshold: number, model: ThreatModel): FailureBounds {
  const { dropoutRate: delta, corruptRate: gamma = 0 } = model;
  if (!(delta >= 0 && delta < 1)) throw new SecAggError('invalid-argument', `dropout rate must be in [0, 1), got ${delta}`);
  if (!(gamma >= 0 && gamma < 1)) throw new SecAggError('invalid-argument', `corrupt rate must be in [0, 1), got ${gamma}`);
  const others = n - 1;
  const dropouts = Math.min(others, Math.floor(delta * n + 1e-9));
  const corrupt = Math.min(others, Math.floor(gamma * n + 1e-9));
  const removed = Math.min(n, dropouts + corrupt);
  const run = 2 * Math.floor(degree / 2);
  const disconnected = run > removed ? -Infinity : Math.log((n * n) / 2) + lnChoose(removed, run) - lnChoose(n, run);
  const corruptHolders = corrupt === 0 ? -Infinity : Math.log(n) + hypergeometricUpperTail(others, corrupt, degree, threshold);
  const belowThreshold = Math.log(n) + hypergeometricLowerTail(others, others - dropouts, degree, threshold - 1);
  return {
    disconnectedLog2: disconnected / Math.LN2,
    corruptHoldersLog2: corruptHolders / Math.LN2,
    belowThresholdLog2: belowThreshold / Math.LN2,
  };
}

export interface GraphParameters {
  degree: number;
  threshold: number;
  complete: boolean;
  bounds: FailureBounds | null;
}

/** The smallest even SecAgg+ degree meeting the bounds above; the complete graph if none does. */
export function chooseSecAggPlusParameters(options: { clients: number; thresholdFraction: number } & ThreatModel): GraphParameters {
  const { clients: n, thresholdFraction } = options;
  const sigma = options.securityLog2 ?? 40;
  const eta = options.correctnessLog2 ?? 20;
  for (let k = 2; k < n - 1; k += 2) {
    const t = thresholdFor(k + 1, thresholdFraction);
    const bounds = secAggPlusBounds(n, k, t, options);
    if (log2Sum(bounds.disconnectedLog2, bounds.corruptHoldersLog2) <= -sigma && bounds.belowThresholdLog2 <= -eta) {
      return { degree: k, threshold: t, complete: false, bounds };
    }
  }
  return { degree: n - 1, threshold: thresholdFor(n, thresholdFraction), complete: true, bounds: null };
}

/** Threat-model fields are optional here; the design dropout rate δ defaults to 0.1. */
export interface PlanOptions extends Partial<ThreatModel> {
  variant: Variant;
  clients: number;
  vectorLength: number;
  session: string;
  round?: number;
  /** τ, default 0.5. */
  thresholdFraction?: number;
  /** Absolute t, overriding τ. */
  threshold?: number;
  /** SecAgg+ degree, overriding the bound-driven choice. */
  degree?: number;
  graphSeed?: number;
}

/** A validated RoundConfig; SecAgg+ picks k from the threat model unless `degree` is given. */
export function planRound(options: PlanOptions): RoundConfig {
  const n = options.clients;
  const fraction = options.thresholdFraction ?? 0.5;
  let degree: number;
  let threshold: number;
  if (options.variant === 'secagg') {
    degree = n - 1;
    threshold = thresholdFor(n, fraction);
  } else if (options.degree !== undefined) {
    degree = Math.min(options.degree, n - 1);
    threshold = thresholdFor(degree + 1, fraction);
  } else {
    ({ degree, threshold } = chooseSecAggPlusParameters({
      clients: n,
      thresholdFraction: fraction,
      dropoutRate: options.dropoutRate ?? 0.1,
      ...pickModel(options),
    }));
  }
  return parseRoundConfig({
    version: 1,
    session: options.session,
    round: options.round ?? 0,
    variant: options.variant,
    clients: n,
    degree,
    threshold: options.threshold ?? threshold,
    graphSeed: (options.graphSeed ?? 0) >>> 0,
    vectorLength: options.vectorLength,
  });
}

function pickModel(o: Partial<ThreatModel>): Partial<ThreatModel> {
  const out: Partial<ThreatModel> = {};
  if (o.corruptRate !== undefined) out.corruptRate = o.corruptRate;
  if (o.securityLog2 !== undefined) out.securityLog2 = o.securityLog2;
  if (o.correctnessLog2 !== undefined) out.correctnessLog2 = o.correctnessLog2;
  return out;
}

// ---- exact hypergeometric tails in log space ----

const SMALL = 2048;
const lnFactTable = (() => {
  const t = new Float64Array(SMALL);
  for (let i = 2; i < SMALL; i++) t[i] = t[i - 1]! + Math.log(i);
  return t;
})();

/** ln m!, exact sums below 2048 and the Stirling series (error < 1e-16 relative) above. */
function lnFactorial(m: number): number {
  if (m < SMALL) return lnFactTable[m]!;
  const inv = 1 / m;
  const inv2 = inv * inv;
  return m * Math.log(m) - m + 0.5 * Math.log(2 * Math.PI * m) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260));
}

function lnChoose(a: number, b: number): number {
  if (b < 0 || b > a) return -Infinity;
  return lnFactorial(a) - lnFactorial(b) - lnFactorial(a - b);
}

/** ln P[X = x] for X ~ Hyp(population N, K marked, k drawn). */
function lnHypergeometric(N: number, K: number, k: number, x: number): number {
  return lnChoose(K, x) + lnChoose(N - K, k - x) - lnChoose(N, k);
}

/** ln P[X ≥ x]. */
function hypergeometricUpperTail(N: number, K: number, k: number, x: number): number {
  const hi = Math.min(k, K);
  const terms: number[] = [];
  for (let i = Math.max(x, 0, k - (N - K)); i <= hi; i++) terms.push(lnHypergeometric(N, K, k, i));
  return logSumExp(terms);
}

/** ln P[X ≤ x]. */
function hypergeometricLowerTail(N: number, K: number, k: number, x: number): number {
  const lo = Math.max(0, k - (N - K));
  const terms: number[] = [];
  for (let i = lo; i <= Math.min(x, k, K); i++) terms.push(lnHypergeometric(N, K, k, i));
  return logSumExp(terms);
}

function logSumExp(terms: number[]): number {
  if (terms.length === 0) return -Infinity;
  const max = Math.max(...terms);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const t of terms) sum += Math.exp(t - max);
  return max + Math.log(sum);
}

function log2Sum(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log2(2 ** (a - m) + 2 ** (b - m));
}
