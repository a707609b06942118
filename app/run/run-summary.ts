/**
 * summary.json: what a finished (or failed) run did, added up from its rounds.
 */
import type { CoordinatorResult, RoundMetrics } from '../../coordinator/coordinator.js';
import type { DpPlan } from '../../coordinator/privacy/dp-plan.js';
import type { MembershipInferenceReport } from '../../coordinator/privacy/membership-inference.js';
import type { UpdateAttacksReport } from '../../coordinator/privacy/update-attacks.js';
import type { Transport } from '../../shared/bus/open-transport.js';
import { clientsPerRound } from '../../shared/scenario/load-scenario.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import type { WorkerInfo } from '../../coordinator/coordinator.js';
import { adversariesSummary, type AdversariesSummary } from './adversaries-record.js';
import { dataShapeOf } from '../../shared/data/registry.js';
import { isBinaryClassification, predictsNextToken } from '../../shared/data/data-shape.js';
import type { Evaluation } from '../../coordinator/evaluation/global-evaluator.js';

export interface RunSummary {
  name: string;
  runId: string;
  runDir: string;
  /** `interrupted`: a second Ctrl-C ended the process before the run could finish its outputs. */
  status: 'completed' | 'failed' | 'interrupted';
  error?: string;
  stopReason?: CoordinatorResult['stopReason'];
  roundsCompleted: number;
  roundsPlanned: number;
  clients: number;
  clientsPerRound: number;
  finalTestAccuracy: number | null;
  finalTestLoss: number | null;
  finalTestMse: number | null;
  /** Text datasets (next-token prediction): e^(test loss), the language-modelling figure; absent otherwise. */
  finalTestPerplexity?: number | null;
  /** Ratings datasets (recommenders): √MSE, MAE and hit rate at 10 of the test set; absent otherwise. */
  finalTestRmse?: number | null;
  finalTestMae?: number | null;
  finalTestHitRate10?: number | null;
  /** Two-class data (sentiment, spam): area under the ROC curve of the test set; absent otherwise. */
  finalTestAuc?: number | null;
  target: { accuracy?: number; mse?: number } | null;
  roundsToTarget: number | null;
  totalWallMs: number;
  meanRoundMs: number | null;
  backend: string;
  transport: { kind: string; origin: string; address: string };
  workers: { count: number; backends: Record<string, string> };
  bytesDown: number;
  bytesUp: number;
  parameters: number;
  clientsDropped: number;
  updatesRejected: number;
  /** DP settings as run (calibrated z included) and the final ε; null without DP. */
  privacy: PrivacySummary | null;
  /** Membership inference on the final model (privacy.membershipInference). */
  membershipInference: MembershipInferenceReport | null;
  /** A curious coordinator's attacks on the individual updates it received (privacy.updateAttacks); null when not asked for, absent in older runs. */
  updateAttacks?: UpdateAttacksReport | null;
  /** What the federation spent: FLOPs always; simulated time, energy and emissions with system.devices. */
  compute: ComputeTotals;
  /** The same figures up to the round that reached the target (null when it was not reached). */
  costToTarget: (ComputeTotals & { rounds: number; bytes: number; wallMs: number }) | null;
  /** Secure-aggregation runs: the protocol's rounds, aborts, survivors and cost (null otherwise). */
  secureAggregation: SecureAggregationTotals | null;
  /** Runs with adversaries: the attack, the malicious clients, and the backdoor's final attack success rate (null otherwise). */
  adversaries?: AdversariesSummary | null;
  /** Rounds where a robust aggregator fell back (to the median), with the reason of the first. */
  aggregationFallbacks?: { rounds: number; reason: string } | null;
  /** evaluation.federated: the last evaluated round's summary across clients (null otherwise). */
  federatedEvaluation?: ({ round: number } & Record<string, number>) | null;
}

export interface SecureAggregationTotals {
  variant: string;
  rounds: number;
  aborted: number;
  /** The distinct reasons rounds aborted for. */
  abortReasons: string[];
  meanCohort: number;
  meanSurvivors: number;
  refusedMessages: number;
  /** Coordinator CPU and protocol wall time over the run, and the protocol's bytes both ways. */
  serverMs: number;
  protocolMs: number;
  bytes: number;
}

export interface ComputeTotals {
  /** Null when the model's FLOPs are unknown (a layer FLOP counting does not know). */
  flops: number | null;
  wastedFlops: number | null;
  simulatedSeconds: number | null;
  energyJoules: number | null;
  emissionsGrams: number | null;
  stragglers: number;
}

export interface PrivacySummary extends DpPlan {
  /** ε at delta after the last completed round (the worst client's under local DP). */
  epsilon: number | null;
  /** Local DP: ε of one client's single release. */
  epsilonPerRelease: number | null;
}

/** What summarizeRun needs to know beyond the rounds; absent parts of a run that failed early are null. */
export interface RunFacts {
  scenario: Scenario;
  runId: string;
  runDir: string;
  startedAt: number;
  rounds: readonly RoundMetrics[];
  result: CoordinatorResult | null;
  failure: Error | null;
  backendDetail: string;
  transport: Transport | null;
  workers: readonly WorkerInfo[];
  parameters: number;
  dpPlan: DpPlan | null;
  membershipInference: MembershipInferenceReport | null;
  updateAttacks?: UpdateAttacksReport | null;
  /** The process is exiting mid-run (a second Ctrl-C): what is here is all there will be. */
  abandoned?: boolean;
}

export function summarizeRun(run: RunFacts): RunSummary {
  const { scenario, rounds, result, transport } = run;
  const last = result?.finalEvaluation ?? null;
  const total = (pick: (r: RoundMetrics) => number) => rounds.reduce((s, r) => s + pick(r), 0);
  return {
    name: scenario.name,
    runId: run.runId,
    runDir: run.runDir,
    status: run.abandoned ? 'interrupted' : run.failure ? 'failed' : 'completed',
    error: run.failure?.message,
    stopReason: result?.stopReason,
    roundsCompleted: rounds.length,
    roundsPlanned: scenario.rounds,
    clients: scenario.partition.clients,
    clientsPerRound: clientsPerRound(scenario),
    finalTestAccuracy: last?.accuracy ?? null,
    finalTestLoss: last?.loss ?? null,
    finalTestMse: last?.mse ?? null,
    ...taskFigures(scenario, last),
    target: targetOf(scenario),
    roundsToTarget: result?.roundsToTarget ?? null,
    totalWallMs: performance.now() - run.startedAt,
    meanRoundMs: rounds.length > 0 ? total((r) => r.wallMs) / rounds.length : null,
    backend: run.backendDetail,
    transport: { kind: transport?.bus.kind ?? 'none', origin: transport?.origin ?? 'none', address: transport?.bus.address ?? 'none' },
    workers: { count: run.workers.length, backends: Object.fromEntries(run.workers.map((w) => [w.workerId, w.backendDetail ?? 'not ready'])) },
    bytesDown: total((r) => r.bytesDown),
    bytesUp: total((r) => r.bytesUp),
    parameters: run.parameters,
    clientsDropped: total((r) => r.dropped),
    updatesRejected: total((r) => r.rejected),
    privacy: run.dpPlan
      ? {
          ...run.dpPlan,
          epsilon: result?.privacy?.epsilon ?? rounds.at(-1)?.privacy?.epsilon ?? null,
          epsilonPerRelease: rounds.at(-1)?.privacy?.epsilonPerRelease ?? null,
        }
      : null,
    membershipInference: run.membershipInference,
    updateAttacks: run.updateAttacks ?? null,
    compute: computeTotals(rounds),
    costToTarget: costToTarget(rounds, result?.roundsToTarget ?? null),
    secureAggregation: secureAggregationTotals(rounds),
    adversaries: adversariesSummary(scenario, rounds),
    aggregationFallbacks: aggregationFallbacks(rounds),
    federatedEvaluation: lastFederatedEvaluation(rounds),
  };
}

function lastFederatedEvaluation(rounds: readonly RoundMetrics[]): RunSummary['federatedEvaluation'] {
  const last = [...rounds].reverse().find((r) => r.federatedEvaluation !== undefined);
  return last ? { round: last.round, ...last.federatedEvaluation! } : null;
}

function aggregationFallbacks(rounds: readonly RoundMetrics[]): RunSummary['aggregationFallbacks'] {
  const fellBack = rounds.filter((r) => r.aggregation !== undefined);
  return fellBack.length > 0 ? { rounds: fellBack.length, reason: `${fellBack[0]!.aggregation!.fallback}: ${fellBack[0]!.aggregation!.reason}` } : null;
}

function secureAggregationTotals(rounds: readonly RoundMetrics[]): SecureAggregationTotals | null {
  const secure = rounds.map((r) => r.secureAggregation).filter((m): m is NonNullable<typeof m> => m !== undefined);
  if (secure.length === 0) return null;
  const sum = (pick: (m: (typeof secure)[number]) => number) => secure.reduce((s, m) => s + pick(m), 0);
  return {
    variant: secure[0]!.variant,
    rounds: secure.length,
    aborted: secure.filter((m) => m.aborted).length,
    abortReasons: [...new Set(secure.map((m) => m.abortReason).filter((r): r is string => r !== null))],
    meanCohort: sum((m) => m.cohort) / secure.length,
    meanSurvivors: sum((m) => m.survivors) / secure.length,
    refusedMessages: sum((m) => m.refused),
    serverMs: sum((m) => m.serverMs),
    protocolMs: sum((m) => m.protocolMs),
    bytes: sum((m) => m.bytesDown + m.bytesUp),
  };
}

function computeTotals(rounds: readonly RoundMetrics[]): ComputeTotals {
  const last = rounds.at(-1);
  return {
    flops: last ? last.flopsTotal : 0,
    wastedFlops: rounds.reduce<number | null>((s, r) => (s === null || r.wastedFlops === null ? null : s + r.wastedFlops), 0),
    simulatedSeconds: last?.simulatedSecondsTotal ?? null,
    energyJoules: last?.energyJoulesTotal ?? null,
    emissionsGrams: last?.emissionsGramsTotal ?? null,
    stragglers: rounds.reduce((s, r) => s + r.stragglers, 0),
  };
}

function costToTarget(rounds: readonly RoundMetrics[], roundsToTarget: number | null): RunSummary['costToTarget'] {
  if (roundsToTarget === null) return null;
  const upTo = rounds.filter((r) => r.round <= roundsToTarget);
  return { rounds: roundsToTarget, bytes: upTo.at(-1)?.bytesTotal ?? 0, wallMs: upTo.reduce((s, r) => s + r.wallMs, 0), ...computeTotals(upTo) };
}

function targetOf(scenario: Scenario): RunSummary['target'] {
  const { targetAccuracy, targetMse } = scenario.evaluation;
  if (targetAccuracy === undefined && targetMse === undefined) return null;
  return { accuracy: targetAccuracy, mse: targetMse };
}

/** The figures a task's field reads besides loss and accuracy: perplexity for language models, AUC for two classes, RMSE, MAE and HR@10 for ratings. */
function taskFigures(scenario: Scenario, last: Evaluation | null | undefined): Partial<RunSummary> {
  const shape = dataShapeOf(scenario.dataset, { clients: scenario.partition.clients });
  if (predictsNextToken(shape)) return { finalTestPerplexity: last?.perplexity ?? null };
  if (isBinaryClassification(shape)) return { finalTestAuc: last?.auc ?? null };
  if (shape.categories?.length === 2) {
    return {
      finalTestRmse: last?.mse !== undefined ? Math.sqrt(last.mse) : null,
      finalTestMae: last?.mae ?? null,
      finalTestHitRate10: last?.hitRate10 ?? null,
    };
  }
  return {};
}
