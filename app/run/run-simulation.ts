/**
 * `fedsim run`: one federated run from a validated scenario to a finished run folder: prepare
 * the federation (backend, data, model), connect the coordinator, host the workers, run the
 * rounds, then save the model, attack it for membership, and write the summary and report.
 * Whatever fails, the run folder says why and no worker process or nats-server is left behind.
 */
import { endianness } from 'node:os';
import type { Logger } from 'pino';
import { selectBackend } from '../../client/backend/select-backend.js';
import { Coordinator, type ClientEvent, type CoordinatorResult, type RoundMetrics, type WorkerInfo } from '../../coordinator/coordinator.js';
import { TestSetEvaluator } from '../../coordinator/evaluation/global-evaluator.js';
import type { DpPlan } from '../../coordinator/privacy/dp-plan.js';
import { runMembershipInference, type MembershipInferenceReport } from '../../coordinator/privacy/membership-inference.js';
import { runUpdateAttacks, updateAttacksNotApplicable, observedUpdates, type UpdateAttacksReport } from '../../coordinator/privacy/update-attacks.js';
import { openTransport, type Transport } from '../../shared/bus/open-transport.js';
import { trainingFlopsPerSample } from '../../shared/compute/training-flops.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import { shapeOfDataset } from '../../shared/data/dataset.js';
import { loadFederatedData, type FederatedData } from '../../shared/data/federated-data.js';
import { createLogger, type LogLevel } from '../../shared/logging/logger.js';
import { triggeredTestSplit } from '../../shared/adversaries/backdoor-trigger.js';
import { initialWeights, layoutOf, setFlatWeights } from '../../shared/models/parameters.js';
import { formatPartitionSummary, summarizePartition } from '../../shared/partition/index.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import { createProgress, type Progress } from '../output/progress.js';
import { RECONSTRUCTIONS_FILE, reconstructionFile } from '../output/reconstruction-file.js';
import { RunDirectory } from '../output/run-directory.js';
import { saveModel } from '../output/save-model.js';
import { summaryLine } from '../output/summary-line.js';
import { writeReport } from '../report/write-report.js';
import { startWorkers, workerProcessCount, type StartedWorkers } from '../workers/start-workers.js';
import type { RunInterrupts } from './run-interrupts.js';
import { backdoorOf, maliciousOf, recordMalicious } from './adversaries-record.js';
import { rootTraining } from './root-training.js';
import { summarizeRun, type RunSummary } from './run-summary.js';

export type { ComputeTotals, PrivacySummary, RunSummary, SecureAggregationTotals } from './run-summary.js';

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
  /** Ctrl-C: the first press ends the run now (the round in progress is discarded), the second writes summary.json for the caller to exit on. */
  interrupts?: RunInterrupts;
}

/** A run in progress; what is still null did not get that far. */
interface Run {
  scenario: Scenario;
  options: RunOptions;
  runDir: RunDirectory;
  log: Logger;
  progress: Progress;
  rounds: RoundMetrics[];
  backendDetail: string;
  federation: { data: FederatedData; evaluator: TestSetEvaluator; initial: Float32Array } | null;
  transport: Transport | null;
  coordinator: Coordinator | null;
  workers: StartedWorkers | null;
  result: CoordinatorResult | null;
  failure: Error | null;
  /** Ctrl-C came before the coordinator existed: it is interrupted as soon as it does. */
  interrupted: boolean;
}

export async function runSimulation(scenario: Scenario, options: RunOptions): Promise<RunSummary> {
  if (endianness() !== 'LE') throw new Error('fedsim sends float32 weights as little-endian bytes and needs a little-endian machine');
  const startedAt = performance.now();
  const run = openRun(scenario, options);
  const stopListening = options.interrupts?.listen((presses) => (presses === 1 ? interruptRun(run) : abandonRun(run, startedAt)));
  try {
    await prepareFederation(run);
    await connectCoordinator(run);
    run.workers = startWorkers({
      scenario,
      transport: run.transport!,
      log: run.log,
      workersLogFile: run.runDir.file('workers.log'),
      count: options.pool?.workers ?? options.workers,
      pooled: options.pool !== undefined,
      onProcessesStarted: options.onWorkersStarted,
    });
    await run.coordinator!.waitForWorkers(run.workers.expected, run.workers.readyTimeoutMs);
    run.result = await run.coordinator!.run();
  } catch (error) {
    run.failure = error as Error;
    run.log.error({ err: run.failure.message }, 'run failed');
  } finally {
    await closeRun(run);
  }
  const membershipInference = await afterRun(run);
  const updateAttacks = await attackUpdates(run);
  const summary = summaryOf(run, startedAt, membershipInference, updateAttacks);
  await writeOutputs(run, summary);
  // Only now: a second Ctrl-C while the model, report or summary are being written must still leave a summary.json.
  stopListening?.();
  return summary;
}

function summaryOf(
  run: Run,
  startedAt: number,
  membershipInference: MembershipInferenceReport | null,
  updateAttacks: UpdateAttacksReport | null,
  abandoned = false,
): RunSummary {
  return summarizeRun({
    scenario: run.scenario,
    runId: run.runDir.runId,
    runDir: run.runDir.path,
    startedAt,
    rounds: run.rounds,
    result: run.result,
    failure: run.failure,
    backendDetail: run.backendDetail,
    transport: run.transport,
    workers: run.coordinator ? [...run.coordinator.workers.values()] : [],
    parameters: run.federation?.initial.length ?? 0,
    dpPlan: run.coordinator?.dpPlan ?? null,
    membershipInference,
    updateAttacks,
    abandoned,
  });
}

function interruptRun(run: Run): void {
  run.log.warn('interrupted: ending the run now; the round in progress is discarded');
  run.interrupted = true;
  run.coordinator?.interrupt();
}

/** The second Ctrl-C: the caller exits right after this, so summary.json is written synchronously. */
function abandonRun(run: Run, startedAt: number): void {
  run.log.warn('interrupted again: exiting with the rounds so far');
  run.runDir.writeJson('summary.json', summaryOf(run, startedAt, null, null, true));
  run.log.flush();
}

function openRun(scenario: Scenario, options: RunOptions): Run {
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
  const progress = createProgress(scenario.rounds, options.progress, options.progressLabel);
  return {
    scenario,
    options,
    runDir,
    log,
    progress,
    rounds: [],
    backendDetail: 'none',
    federation: null,
    transport: null,
    coordinator: null,
    workers: null,
    result: null,
    failure: null,
    interrupted: false,
  };
}

/** Backend, data and partition (written to partition.json), the evaluator's model and the initial weights. */
async function prepareFederation(run: Run): Promise<void> {
  const { scenario, log } = run;
  const backend = await selectBackend(scenario.system.backend);
  run.backendDetail = backend.detail;
  log.info({ backend: backend.detail }, 'training backend');
  const data = await loadFederatedData(scenario);
  const partition = summarizePartition(data.dataset, data.clients, scenario.partition.kind);
  run.runDir.writeJson('partition.json', partition);
  log.info(`${data.dataset.description}\n${formatPartitionSummary(partition)}`);
  const backdoor = backdoorOf(scenario);
  const triggered = backdoor ? triggeredTestSplit(data.dataset.test, data.dataset.featureShape, backdoor) : null;
  const rated = data.dataset.categories?.length === 2 ? data.dataset.train : null;
  const evaluator = new TestSetEvaluator(scenario.model, shapeOf(data), data.dataset.test, triggered, rated);
  if (scenario.adversaries) log.info({ attack: scenario.adversaries.attack.name, maliciousClients: maliciousOf(scenario) }, 'adversaries');
  run.federation = { data, evaluator, initial: initialWeights(evaluator.model, scenario.seed) };
}

async function connectCoordinator(run: Run): Promise<void> {
  const { scenario, options, log, runDir } = run;
  const { data, evaluator, initial } = run.federation!;
  run.transport =
    options.pool?.transport ??
    (await openTransport(scenario.system, log, { name: scenario.name, workers: workerProcessCount(scenario.system, options.workers) }));
  const coordinator = new Coordinator({
    scenario,
    clientSizes: data.clients.map((indices) => indices.length),
    heldOutSizes: data.heldOut.map((indices) => indices.length),
    flopsPerSample: trainingFlopsPerSample(evaluator.model, log),
    bus: run.transport.bus,
    runId: runDir.runId,
    log,
    evaluator,
    initialWeights: initial,
    layout: layoutOf(evaluator.model),
    trainOnRootData: rootTraining(scenario, data, shapeOf(data)),
    onRound: (metrics) => {
      recordMalicious(scenario, metrics);
      run.rounds.push(metrics);
      runDir.appendMetrics(metrics);
      run.progress.round(metrics);
      log.debug(metrics, `round ${metrics.round} done`);
      options.onRound?.(metrics);
    },
    onClientEvaluations: (clients) => runDir.appendLines('clients.jsonl', clients),
    onClientEvent: (event) => {
      run.progress.client(event);
      options.onClientEvent?.(event);
    },
    onWorkerReady: options.onWorkerReady,
  });
  run.coordinator = coordinator;
  if (run.interrupted) coordinator.interrupt();
  if (coordinator.dpPlan) announceDpPlan(coordinator.dpPlan, log, options.progress);
  await coordinator.start();
  options.onCoordinator?.(coordinator);
}

async function closeRun(run: Run): Promise<void> {
  run.progress.stop();
  await run.coordinator?.shutdown(run.failure ? `failed: ${run.failure.message}` : (run.result?.stopReason ?? 'ended'));
  await run.workers?.stop();
  if (!run.options.pool) await run.transport?.close();
}

/** The final model: saved, and attacked for membership (privacy.membershipInference). */
async function afterRun(run: Run): Promise<MembershipInferenceReport | null> {
  const { scenario, result, federation } = run;
  if (!result || !federation) return null;
  if (scenario.output.saveModel) await saveModel(federation.evaluator.model, result.finalWeights, run.runDir.file('model'));
  if (!scenario.privacy.membershipInference || run.rounds.length === 0) return null;
  return attackFinalModel(scenario, federation.evaluator, federation.data, result.finalWeights, run.rounds, run.log);
}

/**
 * privacy.updateAttacks: the curious coordinator attacks the individual updates it kept; under
 * secure aggregation it kept none, and the summary says why instead of a score.
 */
async function attackUpdates(run: Run): Promise<UpdateAttacksReport | null> {
  const { scenario, result, federation, coordinator, log } = run;
  const spec = scenario.privacy.updateAttacks;
  if (!spec || !result || !federation || !coordinator) return null;
  const notApplicable = updateAttacksNotApplicable(scenario);
  if (notApplicable || !coordinator.updateCapture) {
    return { notApplicable, observed: observedUpdates(scenario), attackedUpdates: 0, gradientInversion: null, membershipInference: null };
  }
  try {
    const { report, images } = await runUpdateAttacks({
      capture: coordinator.updateCapture,
      scenario,
      spec,
      model: federation.evaluator.model,
      shape: shapeOf(federation.data),
      data: federation.data,
    });
    if (images) run.runDir.writeJson(RECONSTRUCTIONS_FILE, reconstructionFile(images));
    log.info({ psnr: report.gradientInversion?.meanPsnr, attacks: report.membershipInference?.attacks }, 'attacks on individual updates');
    return report;
  } catch (error) {
    log.warn({ err: (error as Error).message }, 'attacks on individual updates skipped');
    return null;
  }
}

async function writeOutputs(run: Run, summary: RunSummary): Promise<void> {
  run.runDir.writeJson('summary.json', summary);
  try {
    await writeReport(run.runDir.path);
  } catch (error) {
    run.log.warn({ err: (error as Error).message }, 'report.html could not be written');
  }
  run.log.debug(summaryLine(summary));
  run.log.flush();
}

function shapeOf(data: FederatedData): DataShape {
  return shapeOfDataset(data.dataset);
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
    const report = await runMembershipInference({ model: evaluator.model, shape: shapeOf(data), data, participants, seed: scenario.seed });
    log.info({ attacks: report.attacks }, 'membership inference on the final model');
    return report;
  } catch (error) {
    log.warn({ err: (error as Error).message }, 'membership inference skipped');
    return null;
  }
}

/** With a progress bar on screen, per-round info lines would only scroll it away. */
function quietWhileProgress(level: LogLevel): LogLevel {
  return level === 'info' && process.stderr.isTTY ? 'warn' : level;
}
