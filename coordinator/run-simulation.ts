/**
 * `fedsim run`: one federated run from a validated scenario to a finished run folder. Sets up
 * backend, data, transport and workers, drives the coordinator, and writes the outputs.
 */
import { availableParallelism, endianness } from 'node:os';
import type { Logger } from 'pino';
import { selectBackend, type BackendPreference } from '../client/backend/select-backend.js';
import { Worker } from '../client/worker.js';
import { openTransport, type Transport } from '../shared/bus/open-transport.js';
import { loadFederatedData, type FederatedData } from '../shared/data/federated-data.js';
import type { DataShape } from '../shared/data/data-shape.js';
import { createLogger, type LogLevel } from '../shared/logging/logger.js';
import { initialWeights, setFlatWeights } from '../shared/models/parameters.js';
import { trainingFlopsPerSample } from '../shared/compute/training-flops.js';
import { formatPartitionSummary, summarizePartition } from '../shared/partition/index.js';
import { clientsPerRound } from '../shared/scenario/load-scenario.js';
import type { Scenario } from '../shared/scenario/schema.js';
import { Coordinator, type ClientEvent, type CoordinatorResult, type RoundMetrics, type WorkerInfo } from './coordinator.js';
import { TestSetEvaluator } from './evaluation/global-evaluator.js';
import type { DpPlan } from './privacy/dp-plan.js';
import { runMembershipInference, type MembershipInferenceReport } from './privacy/membership-inference.js';
import { createProgress } from './output/progress.js';
import { RunDirectory } from './output/run-directory.js';
import { writeReport } from './report/write-report.js';
import { saveModel } from './output/save-model.js';
import { WorkerProcesses } from './workers/worker-processes.js';

export interface RunOptions {
  logLevel: LogLevel;
  /** Show the progress bar / per-round lines on stderr. */
  progress: boolean;
  /** Overrides system.workers. */
  workers?: number;
  /** Called once workers are started (tests use it to kill one). */
  onWorkersStarted?: (pids: number[]) => void;
  onRound?: (metrics: RoundMetrics) => void;
  /** Receives the coordinator so a caller (SIGINT handler, API) can ask it to stop. */
  onCoordinator?: (coordinator: Coordinator) => void;
  /**
   * A sweep's transport and long-lived workers (`fedsim worker --keep-alive`), shared by its
   * runs: this run neither opens, starts nor closes them. The scenario's name must be the one
   * the workers were started for.
   */
  pool?: { transport: Transport; workers: number };
  /** The run folder's exact path (a sweep gives each variant its own); default runs/<name>-<time>. */
  runDir?: string;
  /** Shown before the progress figures, e.g. "[2/6 central-z1]". */
  progressLabel?: string;
  /** Live views: every client's progress, every worker that becomes ready, every log line (JSON). */
  onClientEvent?: (event: ClientEvent) => void;
  onWorkerReady?: (worker: WorkerInfo) => void;
  onLogLine?: (line: string) => void;
}

export interface RunSummary {
  name: string;
  runId: string;
  runDir: string;
  status: 'completed' | 'failed';
  error?: string;
  stopReason?: CoordinatorResult['stopReason'];
  roundsCompleted: number;
  roundsPlanned: number;
  clients: number;
  clientsPerRound: number;
  finalTestAccuracy: number | null;
  finalTestLoss: number | null;
  finalTestMse: number | null;
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
  /** What the federation spent: FLOPs always; simulated time, energy and emissions with system.devices. */
  compute: ComputeTotals;
  /** The same figures up to the round that reached the target (null when it was not reached). */
  costToTarget: (ComputeTotals & { rounds: number; bytes: number; wallMs: number }) | null;
  /** Secure-aggregation runs: the protocol's rounds, aborts, survivors and cost (null otherwise). */
  secureAggregation: SecureAggregationTotals | null;
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

const WORKER_READY_TIMEOUT_MS = 180_000;

export async function runSimulation(scenario: Scenario, options: RunOptions): Promise<RunSummary> {
  if (endianness() !== 'LE') throw new Error('fedsim sends float32 weights as little-endian bytes and needs a little-endian machine');
  const started = performance.now();
  const runDir = new RunDirectory(scenario, new Date(), options.runDir);
  runDir.create();
  runDir.writeScenario(scenario);
  const log = createLogger({
    name: 'coordinator',
    level: options.progress ? quietWhileProgress(options.logLevel) : options.logLevel,
    file: runDir.file('coordinator.log'),
    sink: options.onLogLine ? { level: 'info', write: options.onLogLine } : undefined,
  });
  log.info({ runDir: runDir.path }, `run ${runDir.runId}`);

  let transport: Transport | null = null;
  let processes: WorkerProcesses | null = null;
  const inProcessWorkers: Promise<unknown>[] = [];
  const rounds: RoundMetrics[] = [];
  const progress = createProgress(scenario.rounds, options.progress, options.progressLabel);
  let coordinator: Coordinator | null = null;
  let evaluator: TestSetEvaluator | null = null;
  let backendDetail = 'none';
  let parameters = 0;
  let result: CoordinatorResult | null = null;
  let failure: Error | null = null;
  let federatedData: FederatedData | null = null;

  // Everything that can fail happens inside the try, so a failed run still leaves a summary
  // that says why, and never leaves worker processes or a nats-server behind.
  try {
    const backend = await selectBackend(scenario.system.backend);
    backendDetail = backend.detail;
    log.info({ backend: backend.detail }, 'training backend');
    const data = await loadFederatedData(scenario);
    federatedData = data;
    const partition = summarizePartition(data.dataset, data.clients, scenario.partition.kind);
    runDir.writeJson('partition.json', partition);
    log.info(`${data.dataset.description}\n${formatPartitionSummary(partition)}`);

    const shape: DataShape = { task: data.dataset.task, featureShape: data.dataset.featureShape, numClasses: data.dataset.numClasses };
    evaluator = new TestSetEvaluator(scenario.model, shape, data.dataset.test);
    const initial = initialWeights(evaluator.model, scenario.seed);
    parameters = initial.length;

    transport = options.pool?.transport ?? (await openTransport(scenario.system, log));
    coordinator = new Coordinator({
      scenario,
      clientSizes: data.clients.map((indices) => indices.length),
      flopsPerSample: trainingFlopsPerSample(evaluator.model, log),
      bus: transport.bus,
      runId: runDir.runId,
      log,
      evaluator,
      initialWeights: initial,
      onRound: (metrics) => {
        rounds.push(metrics);
        runDir.appendMetrics(metrics);
        progress.round(metrics);
        log.debug(metrics, `round ${metrics.round} done`);
        options.onRound?.(metrics);
      },
      onClientEvent: options.onClientEvent,
      onWorkerReady: options.onWorkerReady,
    });
    if (coordinator.dpPlan) announceDpPlan(coordinator.dpPlan, log, options.progress);
    await coordinator.start();
    options.onCoordinator?.(coordinator);

    const workerCount = options.pool?.workers ?? options.workers ?? (scenario.system.workers === 'auto' ? defaultWorkerCount(transport) : scenario.system.workers);
    if (options.pool && transport.bus.kind !== 'in-process') {
      // The pool's workers re-join by themselves once the previous run has ended.
    } else if (transport.bus.kind === 'in-process') {
      // One process, one thread: extra in-process workers would only take turns.
      for (let i = 0; i < Math.max(workerCount, 1); i++) {
        const worker = new Worker({ bus: transport.bus, runName: scenario.name, log: log.child({ worker: i + 1 }), workerId: `in-process-${i + 1}` });
        inProcessWorkers.push(worker.run().catch((error: Error) => log.error({ err: error.message }, 'in-process worker failed')));
      }
    } else if (workerCount > 0) {
      processes = new WorkerProcesses({
        count: workerCount,
        natsUrl: transport.natsUrl!,
        runName: scenario.name,
        logFile: runDir.file('workers.log'),
        logLevel: 'info',
        backend: scenario.system.backend as BackendPreference,
      });
      processes.start();
      options.onWorkersStarted?.(processes.pids);
    }
    const expected = Math.max(workerCount, 1);
    if (workerCount === 0) {
      log.warn(`waiting for workers: start them with  npx fedsim worker --nats ${transport.natsUrl} --run ${scenario.name}`);
    }
    await coordinator.waitForWorkers(expected, workerCount === 0 ? scenario.system.roundTimeoutSeconds * 1000 : WORKER_READY_TIMEOUT_MS);
    result = await coordinator.run();
  } catch (error) {
    failure = error as Error;
    log.error({ err: failure.message }, 'run failed');
  } finally {
    progress.stop();
    await coordinator?.shutdown(failure ? `failed: ${failure.message}` : (result?.stopReason ?? 'ended'));
    await processes?.stop();
    await Promise.all(inProcessWorkers);
    if (!options.pool) await transport?.close();
  }

  if (result && evaluator && scenario.output.saveModel) {
    await saveModel(evaluator.model, result.finalWeights, runDir.file('model'));
  }
  let membershipInference: MembershipInferenceReport | null = null;
  if (result && evaluator && federatedData && scenario.privacy.membershipInference && rounds.length > 0) {
    membershipInference = await attackFinalModel(scenario, evaluator, federatedData, result.finalWeights, rounds, log);
  }
  const last = result?.finalEvaluation ?? null;
  const workers = coordinator ? [...coordinator.workers.values()] : [];
  const runSummary: RunSummary = {
    name: scenario.name,
    runId: runDir.runId,
    runDir: runDir.path,
    status: failure ? 'failed' : 'completed',
    error: failure?.message,
    stopReason: result?.stopReason,
    roundsCompleted: rounds.length,
    roundsPlanned: scenario.rounds,
    clients: scenario.partition.clients,
    clientsPerRound: clientsPerRound(scenario),
    finalTestAccuracy: last?.accuracy ?? null,
    finalTestLoss: last?.loss ?? null,
    finalTestMse: last?.mse ?? null,
    target: targetOf(scenario),
    roundsToTarget: result?.roundsToTarget ?? null,
    totalWallMs: performance.now() - started,
    meanRoundMs: rounds.length > 0 ? rounds.reduce((s, r) => s + r.wallMs, 0) / rounds.length : null,
    backend: backendDetail,
    transport: { kind: transport?.bus.kind ?? 'none', origin: transport?.origin ?? 'none', address: transport?.bus.address ?? 'none' },
    workers: { count: workers.length, backends: Object.fromEntries(workers.map((w) => [w.workerId, w.backendDetail ?? 'not ready'])) },
    bytesDown: rounds.reduce((s, r) => s + r.bytesDown, 0),
    bytesUp: rounds.reduce((s, r) => s + r.bytesUp, 0),
    parameters,
    clientsDropped: rounds.reduce((s, r) => s + r.dropped, 0),
    updatesRejected: rounds.reduce((s, r) => s + r.rejected, 0),
    privacy: coordinator?.dpPlan
      ? { ...coordinator.dpPlan, epsilon: result?.privacy?.epsilon ?? rounds.at(-1)?.privacy?.epsilon ?? null, epsilonPerRelease: rounds.at(-1)?.privacy?.epsilonPerRelease ?? null }
      : null,
    membershipInference,
    compute: computeTotals(rounds),
    costToTarget: costToTarget(rounds, result?.roundsToTarget ?? null),
    secureAggregation: secureAggregationTotals(rounds),
  };
  runDir.writeJson('summary.json', runSummary);
  try {
    await writeReport(runDir.path);
  } catch (error) {
    log.warn({ err: (error as Error).message }, 'report.html could not be written');
  }
  log.debug(summaryLine(runSummary));
  log.flush();
  return runSummary;
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

function announceDpPlan(plan: DpPlan, log: Logger, progress: boolean): void {
  const noise = plan.calibrated
    ? `noise multiplier z = ${plan.noiseMultiplier.toPrecision(4)}, calibrated for ε = ${plan.targetEpsilon} at δ = ${plan.delta} (${plan.conversion} conversion)`
    : `noise multiplier z = ${plan.noiseMultiplier}`;
  const line = `DP (${plan.mode}, ${plan.clipping} clipping from S = ${plan.initialClipNorm}): Poisson sampling q = ${plan.q.toPrecision(4)} (${plan.expectedClients} clients expected), ${noise}`;
  log.info({ dp: plan }, line);
  // Under a progress bar the log is quieted to warnings; the chosen noise must still be seen.
  if (progress && process.stderr.isTTY) process.stderr.write(`${line}\n`);
}

/**
 * Members are the training samples of clients that took part in some round; the attack sees
 * only the final model and held-out data, as an outsider would.
 */
async function attackFinalModel(
  scenario: Scenario,
  evaluator: TestSetEvaluator,
  data: FederatedData,
  weights: Float32Array,
  rounds: RoundMetrics[],
  log: Logger,
): Promise<MembershipInferenceReport | null> {
  const participants = [...new Set(rounds.flatMap((r) => r.selectedClients))].sort((a, b) => a - b);
  if (participants.length === 0) return null;
  try {
    setFlatWeights(evaluator.model, weights);
    const shape: DataShape = { task: data.dataset.task, featureShape: data.dataset.featureShape, numClasses: data.dataset.numClasses };
    const report = await runMembershipInference({ model: evaluator.model, shape, data, participants, seed: scenario.seed });
    log.info({ attacks: report.attacks }, 'membership inference on the final model');
    return report;
  } catch (error) {
    log.warn({ err: (error as Error).message }, 'membership inference skipped');
    return null;
  }
}

function defaultWorkerCount(transport: Transport): number {
  return transport.bus.kind === 'in-process' ? 1 : availableParallelism();
}

function targetOf(scenario: Scenario): RunSummary['target'] {
  const { targetAccuracy, targetMse } = scenario.evaluation;
  if (targetAccuracy === undefined && targetMse === undefined) return null;
  return { accuracy: targetAccuracy, mse: targetMse };
}

/** With a progress bar on screen, per-round info lines would only scroll it away. */
function quietWhileProgress(level: LogLevel): LogLevel {
  return level === 'info' && process.stderr.isTTY ? 'warn' : level;
}

export function summaryLine(s: RunSummary): string {
  const quality = s.finalTestAccuracy !== null ? `test accuracy ${(s.finalTestAccuracy * 100).toFixed(2)}%` : s.finalTestMse !== null ? `test MSE ${s.finalTestMse.toFixed(3)}` : 'no evaluation';
  const target = s.roundsToTarget !== null ? `, target reached in round ${s.roundsToTarget}` : '';
  const epsilon = s.privacy?.epsilon != null ? `, ε = ${s.privacy.epsilon.toFixed(3)} at δ = ${s.privacy.delta} (${s.privacy.conversion})` : '';
  const mia = s.membershipInference?.attacks[0] ? `, MIA AUC ${s.membershipInference.attacks.map((a) => a.auc.toFixed(3)).join('/')}` : '';
  return `${s.status === 'completed' ? 'finished' : 'FAILED'} ${s.runId}: ${s.roundsCompleted}/${s.roundsPlanned} rounds, ${quality}${target}${epsilon}${mia}, ${(s.totalWallMs / 1000).toFixed(1)} s, ${s.workers.count} workers (${s.backend}), ${s.transport.kind} → ${s.runDir}${s.error ? `\n  error: ${s.error}` : ''}`;
}
