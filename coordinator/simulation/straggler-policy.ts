/**
 * Applies a straggler policy (shared/compute/straggler-spec.ts) to one round's selected clients,
 * given each one's simulated time: who is kept, how much of its local work counts, when each
 * finishes, how long the round takes and what the dropped clients' work cost for nothing.
 *
 * Assumptions, stated because the wasted figures depend on them:
 * - Under deadline and over-select, a client does not know it will be dropped: it trains and
 *   uploads in full, and the server ignores the late report (Bonawitz et al. 2019). Its whole
 *   FLOPs and energy are wasted.
 * - Under partial-work, a client knows its budget before it starts (FedProx's premise), so a
 *   client that cannot fit a single step declines at check-in: it costs one round trip of time
 *   and nothing else.
 * Ties in finish time are broken by client id, so outcomes are deterministic.
 */
import type { StragglerSpec } from '../../shared/compute/straggler-spec.js';
import type { EnergyBreakdown, TimeBreakdown } from './simulated-clock.js';

export interface StragglerCandidate {
  clientId: number;
  time: TimeBreakdown;
  /** FLOPs of the client's full local work (all planned steps). */
  trainingFlops: number;
  energy: EnergyBreakdown;
  /** Planned local steps; when given, partial-work rounds the fraction down to whole steps. */
  localSteps?: number;
}

export interface ClientOutcome {
  clientId: number;
  kept: boolean;
  /** Fraction of the planned local steps in the update the aggregate receives (0 if dropped): the FedProx-style weight. */
  stepsFraction: number;
  /** Simulated seconds from round start until the client reports (or would have reported). */
  finishSeconds: number;
  /** FLOPs and energy the client actually spent this round. */
  flops: number;
  joules: number;
}

export interface RoundOutcome {
  policy: StragglerSpec['policy'];
  /** In the order of the candidates. */
  clients: ClientOutcome[];
  keptIds: number[];
  droppedIds: number[];
  /** Simulated seconds until the server closes the round. */
  roundSeconds: number;
  /** FLOPs and energy of dropped clients, whose work reached no aggregate. */
  wastedFlops: number;
  wastedJoules: number;
}

/** How many clients to select to end up with `target` (⌈r·K⌉ for over-select), at most `available`. */
export function clientsToSelect(target: number, spec: StragglerSpec, available = Infinity): number {
  if (!(Number.isInteger(target) && target >= 0)) throw new RangeError(`clientsToSelect: target must be a whole number ≥ 0 (got ${target})`);
  // Rounded to 12 digits first: 1.3 · 10 is 13.000000000000002 in binary, whose ceiling is 14.
  const wanted = spec.policy === 'over-select' ? Math.ceil(Number((spec.overSelect * target).toPrecision(12))) : target;
  return Math.min(wanted, available);
}

/**
 * `target` is K, the clients the round wants; it matters only to over-select, whose candidates
 * are the ⌈r·K⌉ selected.
 */
export function applyStragglerPolicy(candidates: readonly StragglerCandidate[], spec: StragglerSpec, target = candidates.length): RoundOutcome {
  const ids = new Set<number>();
  for (const c of candidates) {
    if (ids.has(c.clientId)) throw new Error(`straggler policy: client ${c.clientId} appears twice among the candidates`);
    ids.add(c.clientId);
  }
  switch (spec.policy) {
    case 'wait-all':
      return summarise(spec.policy, candidates.map(complete), null);
    case 'deadline': {
      const clients = candidates.map((c) => (c.time.totalSeconds <= spec.deadlineSeconds ? complete(c) : late(c)));
      return summarise(spec.policy, clients, spec.deadlineSeconds);
    }
    case 'over-select':
      return overSelect(candidates, target, spec.deadlineSeconds);
    case 'partial-work':
      return summarise(
        spec.policy,
        candidates.map((c) => partialWork(c, spec.deadlineSeconds)),
        null,
      );
  }
}

function overSelect(candidates: readonly StragglerCandidate[], target: number, deadline: number | undefined): RoundOutcome {
  const order = [...candidates].sort((a, b) => a.time.totalSeconds - b.time.totalSeconds || a.clientId - b.clientId);
  const keep = new Set(
    order
      .filter((c) => deadline === undefined || c.time.totalSeconds <= deadline)
      .slice(0, target)
      .map((c) => c.clientId),
  );
  const clients = candidates.map((c) => (keep.has(c.clientId) ? complete(c) : late(c)));
  const outcome = summarise('over-select', clients, deadline ?? null);
  // The round closes as soon as the K-th report arrives; only when fewer than K arrive does it
  // run to the deadline (or, without one, to the last report).
  if (keep.size === target && target > 0) {
    outcome.roundSeconds = Math.max(...clients.filter((c) => c.kept).map((c) => c.finishSeconds));
  }
  return outcome;
}

function partialWork(c: StragglerCandidate, deadline: number): ClientOutcome {
  const t = c.time;
  const fixed = t.latencySeconds + t.downloadSeconds + t.uploadSeconds;
  let fraction = t.computeSeconds === 0 ? (fixed <= deadline ? 1 : 0) : clamp01((deadline - fixed) / t.computeSeconds);
  if (c.localSteps !== undefined && c.localSteps > 0) fraction = Math.floor(fraction * c.localSteps + 1e-9) / c.localSteps;
  if (fraction <= 0) {
    return { clientId: c.clientId, kept: false, stepsFraction: 0, finishSeconds: t.latencySeconds, flops: 0, joules: 0 };
  }
  return {
    clientId: c.clientId,
    kept: true,
    stepsFraction: fraction,
    finishSeconds: fixed + fraction * t.computeSeconds,
    flops: fraction * c.trainingFlops,
    joules: fraction * c.energy.computeJoules + c.energy.radioJoules,
  };
}

function complete(c: StragglerCandidate): ClientOutcome {
  return { clientId: c.clientId, kept: true, stepsFraction: 1, finishSeconds: c.time.totalSeconds, flops: c.trainingFlops, joules: c.energy.totalJoules };
}

function late(c: StragglerCandidate): ClientOutcome {
  return { ...complete(c), kept: false, stepsFraction: 0 };
}

/**
 * Round time: the last kept report, or, when a deadline dropped someone, the deadline itself
 * (the server cannot know a late client will not report, so it waits out the window).
 */
function summarise(policy: StragglerSpec['policy'], clients: ClientOutcome[], deadline: number | null): RoundOutcome {
  const kept = clients.filter((c) => c.kept);
  const dropped = clients.filter((c) => !c.kept);
  const lastKept = Math.max(0, ...kept.map((c) => c.finishSeconds));
  let roundSeconds: number;
  if (policy === 'partial-work') roundSeconds = Math.max(0, ...clients.map((c) => c.finishSeconds));
  else if (dropped.length > 0 && deadline !== null) roundSeconds = deadline;
  else roundSeconds = Math.max(lastKept, ...dropped.map((c) => c.finishSeconds));
  return {
    policy,
    clients,
    keptIds: kept.map((c) => c.clientId),
    droppedIds: dropped.map((c) => c.clientId),
    roundSeconds,
    wastedFlops: dropped.reduce((s, c) => s + c.flops, 0),
    wastedJoules: dropped.reduce((s, c) => s + c.joules, 0),
  };
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
