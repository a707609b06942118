/**
 * The coordinator's round loop. Per round: the strategy picks clients; the global weights are
 * served once; tasks go out through the run's task queue (JetStream); updates stream in, are
 * checked and aggregated; clients that have not reported by the deadline count as dropped; the
 * new global model is evaluated every k rounds; a metrics record goes to the caller.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Bus, BusSubscription } from '../shared/bus/bus.js';
import { decodeFrameOf, encodeFrame } from '../shared/protocol/frame.js';
import { subjects } from '../shared/protocol/messages.js';
import { clientsPerRound } from '../shared/scenario/load-scenario.js';
import type { Scenario } from '../shared/scenario/schema.js';
import { Rng } from '../shared/random.js';
import type { GlobalEvaluator, Evaluation } from './evaluation/global-evaluator.js';
import { resolveDpPlan, type DpPlan } from './privacy/dp-plan.js';
import { PrivacyLedger, type RoundPrivacy } from './privacy/privacy-ledger.js';
import { DpFedAvg } from './strategies/dp-fedavg.js';
import { FedAvg } from './strategies/fedavg.js';
import type { RoundOutcome, RoundPlan, Strategy } from './strategies/strategy.js';
import type { VectorCodec } from '../shared/compression/codec.js';
import { createCodec } from '../shared/compression/pipeline.js';
import { FederationClock, type RoundCompute } from './simulation/federation-clock.js';
import { ModelServer } from './transport/model-server.js';
import { TaskDispatcher } from './transport/task-dispatcher.js';
import { UpdateReceiver, type ReceivedPayload } from './transport/update-receiver.js';
import { SecureAggregation, type SecAggRoundMetrics, type SecureRoundResult } from './secure-aggregation/secure-aggregation.js';
import { resolveSecAggSettings } from './secure-aggregation/secure-aggregation-settings.js';
import type { UpdateReport } from '../shared/protocol/transfers.js';
import type { SecAggMessage } from '../shared/secure-aggregation/index.js';

/** A task that came back this often killed (or outlived) every worker that took it: give it up. */
const MAX_TASK_DELIVERIES = 5;

/** One metrics.jsonl line. The compute figures (simulated time, FLOPs, energy, stragglers) are RoundCompute's. */
export interface RoundMetrics extends RoundCompute {
  round: number;
  selected: number;
  /** Ids of the sampled clients, sorted. */
  selectedClients: number[];
  completed: number;
  dropped: number;
  rejected: number;
  /** Sample-weighted mean local training loss of the clients that reported. */
  trainLoss: number | null;
  testLoss: number | null;
  testAccuracy: number | null;
  testMse: number | null;
  wallMs: number;
  /** Time spent evaluating the global model (included in wallMs). */
  evalMs: number;
  /** Sum of the reporting clients' local training times, as measured in the workers. */
  clientTrainMs: number;
  bytesDown: number;
  bytesUp: number;
  /** Workers that delivered accepted updates this round (a dead worker stops counting). */
  workers: number;
  /** Tasks claimed again after the worker holding one died or left (the queue redelivered them). */
  redelivered: number;
  /** DP runs: ε so far, clip norm, realised cohort. */
  privacy?: RoundPrivacy;
  /** Bytes down + up of the run so far. */
  bytesTotal: number;
  /** Secure-aggregation runs: the protocol's parameters, survivors, dropouts per step, abort, cost. */
  secureAggregation?: SecAggRoundMetrics;
}

export interface WorkerInfo {
  workerId: string;
  host: string;
  pid: number;
  joinedAt: string;
  /** Set once the worker has its data and model and listens for tasks. */
  backend?: string;
  backendDetail?: string;
}

/** One client's progress through a round, for live views. */
export interface ClientEvent {
  round: number;
  clientId: number;
  state: 'selected' | 'training' | 'done' | 'dropped' | 'straggler' | 'rejected';
  workerId?: string;
  reason?: string;
  /** 'done': the client's local samples × epochs trained, and how long it took in the worker. */
  samplesTrained?: number;
  trainMs?: number;
}

export interface CoordinatorOptions {
  scenario: Scenario;
  /** Training samples per client id (simulated time and FLOPs). */
  clientSizes: readonly number[];
  /** Forward + backward FLOPs of one training sample of this model. */
  flopsPerSample: number;
  bus: Bus;
  runId: string;
  log: Logger;
  evaluator: GlobalEvaluator;
  initialWeights: Float32Array;
  onRound?: (metrics: RoundMetrics) => void;
  onWorkerReady?: (worker: WorkerInfo) => void;
  onClientEvent?: (event: ClientEvent) => void;
}

export interface CoordinatorResult {
  finalWeights: Float32Array;
  finalEvaluation: Evaluation | null;
  /** First round whose evaluation met the scenario's target, if any. */
  roundsToTarget: number | null;
  stopReason: 'rounds completed' | 'target reached' | 'privacy budget reached' | 'stopped';
  /** The last round's privacy record (DP runs). */
  privacy: RoundPrivacy | null;
}

export class Coordinator {
  private readonly subjects: ReturnType<typeof subjects>;
  private readonly strategy: Strategy;
  /** DP runs: the resolved settings (calibrated z included) and the budget spent so far. */
  readonly dpPlan: DpPlan | null;
  private readonly ledger: PrivacyLedger | null;
  private readonly clock: FederationClock;
  private readonly broadcastCodec: VectorCodec | null;
  private bytesTotal = 0;
  private readonly modelServer: ModelServer;
  private readonly receiver: UpdateReceiver;
  private readonly dispatcher: TaskDispatcher;
  /** Secure-aggregation runs: the protocol's coordinator side. */
  private readonly secure: SecureAggregation | null;
  private joinSubscription: BusSubscription | null = null;
  private readySubscription: BusSubscription | null = null;
  private readyWaiters: (() => void)[] = [];
  readonly workers = new Map<string, WorkerInfo>();
  private stopRequested = false;

  constructor(private readonly options: CoordinatorOptions) {
    const { scenario, bus, log } = options;
    this.subjects = subjects(scenario.name);
    const parameterCount = options.initialWeights.length;
    const updateCodec = scenario.compression.update.length > 0 ? createCodec(scenario.compression.update, 'update') : null;
    this.broadcastCodec = scenario.compression.broadcast?.length ? createCodec(scenario.compression.broadcast, 'broadcast') : null;
    this.clock = new FederationClock({
      devices: scenario.system.devices,
      stragglers: scenario.system.stragglers,
      seed: scenario.seed,
      clientSizes: options.clientSizes,
      epochs: scenario.training.epochs,
      batchSize: scenario.training.batchSize,
      flopsPerSample: options.flopsPerSample,
      updateBytes: updateCodec ? updateCodec.encodedSize(parameterCount) : 4 * parameterCount,
    });
    this.dpPlan = resolveDpPlan(scenario);
    this.ledger = this.dpPlan ? new PrivacyLedger(this.dpPlan) : null;
    this.strategy = this.dpPlan
      ? new DpFedAvg(scenario.seed, scenario.partition.clients, this.dpPlan, (client) => this.ledger!.mayParticipate(client))
      : new FedAvg(scenario.seed, scenario.partition.clients, clientsPerRound(scenario), this.clock.simulatesDevices ? this.clock : undefined);
    this.modelServer = new ModelServer(bus, this.subjects.model, log);
    this.receiver = new UpdateReceiver(bus, this.subjects.results, log);
    this.dispatcher = new TaskDispatcher(bus, scenario.name, options.runId, { ackWaitMs: scenario.system.taskAckWaitSeconds * 1000, maxDeliveries: MAX_TASK_DELIVERIES }, log);
    const secAgg = resolveSecAggSettings(scenario);
    this.secure = secAgg ? new SecureAggregation({ bus, subjects: this.subjects, settings: secAgg, session: options.runId.slice(0, 200), seed: scenario.seed, log }) : null;
  }

  /**
   * Test seam: sees every update payload the coordinator receives (before any check) and every
   * secure-aggregation message, decoded, so a test can assert what the coordinator ever holds.
   */
  inspect(observer: { onPayload?: (payload: ReceivedPayload) => void; onSecAggMessage?: (message: SecAggMessage, clientId: number) => void }): void {
    this.receiver.onPayload = observer.onPayload ?? null;
    if (this.secure) this.secure.onMessage = observer.onSecAggMessage ?? null;
  }

  /** Opens the task queue and starts answering workers (joins, model fetches, updates) before any round runs. */
  async start(): Promise<void> {
    const { bus, log, runId, scenario } = this.options;
    // Before any join: a worker pulls from the queue as soon as it is ready.
    await this.dispatcher.open();
    this.joinSubscription = bus.subscribe(this.subjects.join, (message) => {
      try {
        const join = decodeFrameOf(message.data, 'join');
        const info: WorkerInfo = { workerId: join.header.workerId, host: join.header.host, pid: join.header.pid, joinedAt: new Date().toISOString() };
        this.workers.set(info.workerId, info);
        message.respond(encodeFrame('join-reply', { runName: scenario.name, runId, scenario }));
        log.info({ workerId: info.workerId, host: info.host }, 'worker joined; preparing data and model');
      } catch (error) {
        log.warn({ err: (error as Error).message }, 'bad join request refused');
      }
    });
    this.readySubscription = bus.subscribe(this.subjects.ready, (message) => {
      try {
        const ready = decodeFrameOf(message.data, 'ready');
        const info = this.workers.get(ready.header.workerId);
        if (!info) {
          message.respond(encodeFrame('ack', { ok: false, error: `worker ${ready.header.workerId} has not joined` }));
          return;
        }
        info.backend = ready.header.backend;
        info.backendDetail = ready.header.detail;
        message.respond(encodeFrame('ack', { ok: true }));
        log.info({ workerId: info.workerId, backend: info.backendDetail, ready: this.readyWorkers() }, 'worker ready');
        this.options.onWorkerReady?.(info);
        for (const wake of this.readyWaiters.splice(0)) wake();
      } catch (error) {
        log.warn({ err: (error as Error).message }, 'bad ready message refused');
      }
    });
    this.modelServer.start();
    this.receiver.start();
    this.secure?.start();
    log.debug({ coordinatorHost: hostname() }, 'coordinator listening');
  }

  readyWorkers(): number {
    return [...this.workers.values()].filter((w) => w.backend !== undefined).length;
  }

  /** Resolves once `count` workers are ready, or rejects after `timeoutMs`. */
  async waitForWorkers(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.readyWorkers() < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.readyWorkers()} of ${count} workers became ready within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.readyWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Finish the round in progress, then end the run. */
  requestStop(): void {
    this.stopRequested = true;
  }

  async run(): Promise<CoordinatorResult> {
    const { scenario, log, evaluator } = this.options;
    let global = this.options.initialWeights;
    let finalEvaluation: Evaluation | null = null;
    let roundsToTarget: number | null = null;
    let stopReason: CoordinatorResult['stopReason'] = 'rounds completed';
    let privacy: RoundPrivacy | null = null;

    for (let round = 1; round <= scenario.rounds; round++) {
      const started = performance.now();
      const plan = this.strategy.configureRound(round);
      if (this.ledger?.wouldExceedBudget(plan.clients)) {
        stopReason = 'privacy budget reached';
        log.info({ round, projectedEpsilon: this.ledger.projectedEpsilon(plan.clients), targetEpsilon: this.dpPlan?.targetEpsilon }, 'another round would exceed the privacy budget; run stops before it');
        break;
      }
      const { weights, metrics } = await this.runRound(round, global, plan);
      global = weights;
      privacy = metrics.privacy ?? null;

      const isLast = round === scenario.rounds || this.stopRequested;
      let evaluation: Evaluation | null = null;
      const evalStarted = performance.now();
      if (round % scenario.evaluation.every === 0 || isLast) {
        evaluation = await evaluator.evaluate(global);
        finalEvaluation = evaluation;
      }
      metrics.evalMs = performance.now() - evalStarted;
      metrics.testLoss = evaluation?.loss ?? null;
      metrics.testAccuracy = evaluation?.accuracy ?? null;
      metrics.testMse = evaluation?.mse ?? null;
      metrics.wallMs = performance.now() - started;
      this.options.onRound?.(metrics);

      if (evaluation && meetsTarget(scenario, evaluation)) {
        roundsToTarget = round;
        stopReason = 'target reached';
        log.info({ round, accuracy: evaluation.accuracy, mse: evaluation.mse }, 'target reached; run stops here');
        break;
      }
      if (this.stopRequested) {
        stopReason = 'stopped';
        break;
      }
    }
    return { finalWeights: global, finalEvaluation, roundsToTarget, stopReason, privacy };
  }

  /** Tells every worker the run is over and stops listening. */
  async shutdown(reason: string): Promise<void> {
    const { bus } = this.options;
    // Stop taking joins first: a long-lived worker re-joins as soon as it hears run-end, and
    // must reach the next run's coordinator, not this one.
    this.joinSubscription?.unsubscribe();
    this.readySubscription?.unsubscribe();
    try {
      bus.publish(this.subjects.control, encodeFrame('run-end', { reason }));
      await bus.flush();
    } catch {
      // The bus may already be gone; workers then notice the closed connection themselves.
    }
    this.modelServer.stop();
    this.receiver.stop();
    this.secure?.stop();
    await this.dispatcher.close().catch((error: Error) => this.options.log.warn({ err: error.message }, 'could not remove the run\'s task queue'));
  }

  private async runRound(round: number, global: Float32Array, plan: RoundPlan): Promise<{ weights: Float32Array; metrics: RoundMetrics }> {
    const { scenario, log } = this.options;
    // Poisson (DP) sampling does not know about devices: offline clients drop out here.
    const selected = plan.clients.filter((id) => this.clock.isAvailable(id, round));
    const clientEvent = this.options.onClientEvent ?? (() => {});
    for (const clientId of selected) clientEvent({ round, clientId, state: 'selected' });
    const broadcast = this.broadcastCodec?.encode(global, new Rng(scenario.seed).fork(`broadcast:${round}`));
    this.modelServer.serve(round, global, broadcast);
    const { dispatch, stragglers } = this.clock.planRound(selected, clientsPerRound(scenario), this.modelServer.modelBytes);
    for (const clientId of stragglers) clientEvent({ round, clientId, state: 'straggler' });
    const maxSteps = new Map(dispatch.filter((d) => d.maxSteps !== undefined).map((d) => [d.clientId, d.maxSteps!]));
    const dispatched = dispatch.map((d) => d.clientId);
    const reported: { clientId: number; steps: number }[] = [];
    const aggregation = this.strategy.beginAggregation(round, global.length);
    const deadline = Date.now() + scenario.system.roundTimeoutSeconds * 1000;
    let rejected = 0;
    let redelivered = 0;
    let clientTrainMs = 0;
    const reportingWorkers = new Set<string>();

    let allReported!: () => void;
    const allIn = new Promise<void>((resolve) => (allReported = resolve));
    /** Clients whose training is awaited (under secure aggregation, their keys with the training report). */
    const awaited = new Set<number>();
    /** Secure aggregation: the training reports, for the survivors' train loss. */
    const reports = new Map<number, UpdateReport>();
    const trained = (clientId: number, workerId: string, report: UpdateReport) => {
      reported.push({ clientId, steps: report.steps });
      clientTrainMs += report.trainMs;
      clientEvent({ round, clientId, state: 'done', workerId, samplesTrained: report.samples * scenario.training.epochs, trainMs: report.trainMs });
      this.dispatcher.progress();
    };
    // Secure aggregation fixes the cohort before any task goes out (each task carries its index).
    const secure = this.secure?.beginRound(round, dispatched, global.length, {
      onTrained: (clientId, workerId, report) => {
        awaited.delete(clientId);
        reports.set(clientId, report);
        trained(clientId, workerId, report);
        if (awaited.size === 0) allReported();
      },
    });
    if (!secure?.abortBeforeStart) dispatched.forEach((clientId) => awaited.add(clientId));
    if (awaited.size === 0) allReported();
    const onRejected = (clientId: number, workerId: string, reason: string) => {
      rejected += 1;
      log.warn({ round, clientId, workerId, reason }, 'update rejected');
      clientEvent({ round, clientId, state: 'rejected', workerId, reason });
      secure?.refused(clientId);
      this.dispatcher.progress();
      if (awaited.size === 0) allReported();
    };
    const rules = { expectedLength: global.length, maxNorm: maxNormOf(scenario, plan) };
    if (secure) {
      // Masked inputs arrive after training, for the clients sent share deliveries; no plain update is taken.
      this.receiver.open({ round, awaited: secure.maskedAwaited, rules, masked: secure.maskedIntake, onAccepted: () => {}, onRejected });
    } else {
      this.receiver.open({
        round,
        awaited,
        rules,
        onAccepted: (update) => {
          aggregation.add({
            clientId: update.clientId,
            // Partial work: an update from fewer steps counts for less (FedProx-style weighting).
            samples: update.report.samples * Math.min(1, update.report.steps / Math.max(this.clock.plannedSteps(update.clientId), 1)),
            steps: update.report.steps,
            loss: update.report.loss,
            delta: update.delta,
            unclipped: update.report.unclipped,
          });
          reportingWorkers.add(update.workerId);
          trained(update.clientId, update.workerId, update.report);
          if (awaited.size === 0) allReported();
        },
        onRejected,
      });
    }

    const seedRng = new Rng(scenario.seed).fork(`client-seeds:${round}`);
    const seeds = new Map(selected.map((clientId) => [clientId, seedRng.nextUint32()]));
    const undispatched = await this.dispatcher.dispatch({
      round,
      clients: secure?.abortBeforeStart ? [] : dispatched,
      deadline,
      seedFor: (id) => seeds.get(id)!,
      privacy: plan.taskPrivacy,
      maxStepsFor: (clientId) => maxSteps.get(clientId),
      ...(secure ? { secureAggregationFor: (clientId: number) => secure.taskFor(clientId) } : {}),
      wanted: (clientId) => awaited.has(clientId),
      onAssigned: (assignment) => {
        log.debug({ round, ...assignment }, 'client assigned');
        if (assignment.delivery > 1) redelivered += 1;
        secure?.assign(assignment.clientId, assignment.workerId);
        clientEvent({ round, clientId: assignment.clientId, state: 'training', workerId: assignment.workerId });
      },
    });
    if (undispatched.length > 0) log.warn({ round, clients: undispatched.length }, 'no worker took these clients before the deadline');

    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allIn, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
    clearTimeout(timer);
    await this.dispatcher.endRound();
    let dropped = awaited.size;
    for (const clientId of awaited) clientEvent({ round, clientId, state: 'dropped' });
    if (dropped > 0) log.warn({ round, dropped }, 'clients dropped at the round deadline');
    let secured: SecureRoundResult | null = null;
    if (secure) {
      secured = await secure.complete();
      ({ dropped, rejected } = this.settleSecureRound(round, secured, dispatched, reports, reportingWorkers, secure.refusedClients, secure.hostOfClient.bind(secure)));
    }
    this.receiver.close();

    if (secured?.ok) {
      aggregation.addSecureSum({
        sum: secured.sum,
        clients: secured.survivors.map((clientId) => ({ clientId, loss: reports.get(clientId)!.loss, samples: reports.get(clientId)!.samples })),
        ...(secured.unclipped !== undefined ? { unclipped: secured.unclipped } : {}),
      });
    }
    // An aborted secure round leaves the model as it was: nothing was learned from it.
    const outcome: RoundOutcome = secured && !secured.ok ? { weights: global, trainLoss: null, clients: 0, samples: 0 } : aggregation.finish(global);
    const metrics: RoundMetrics = {
      round,
      selected: selected.length,
      selectedClients: selected,
      completed: outcome.clients,
      dropped,
      rejected,
      trainLoss: outcome.trainLoss,
      testLoss: null,
      testAccuracy: null,
      testMse: null,
      wallMs: 0,
      evalMs: 0,
      clientTrainMs,
      // Secure aggregation: its batches besides the model and the (masked) update transfers.
      bytesDown: this.modelServer.takeBytesSent() + (secured ? secured.metrics.bytesDown : 0),
      bytesUp: this.receiver.takeBytesReceived() + (secure?.batchBytesUp ?? 0),
      workers: reportingWorkers.size,
      redelivered,
      ...this.clock.finishRound(round, reported),
      bytesTotal: 0,
      ...(secured ? { secureAggregation: secured.metrics } : {}),
    };
    this.bytesTotal += metrics.bytesDown + metrics.bytesUp;
    metrics.bytesTotal = this.bytesTotal;
    // An aborted secure round released nothing, but is charged as if it had: a dropout may depend
    // on a client's data (a crash on it), and over-counting ε is the safe side.
    const privacyFacts = outcome.privacy ?? (secured && !secured.ok && plan.taskPrivacy ? { clipNorm: plan.taskPrivacy.clipNorm, nextClipNorm: plan.taskPrivacy.clipNorm } : undefined);
    if (this.ledger && privacyFacts) {
      // Only clients that were sent a task released anything; stragglers and offline clients did not.
      metrics.privacy = this.ledger.record(dispatched, privacyFacts);
      log.info({ round, epsilon: metrics.privacy.epsilon, cohort: dispatched.length, clipNorm: privacyFacts.clipNorm }, 'privacy spent');
    }
    return { weights: outcome.weights, metrics };
  }

  /**
   * A secure round's bookkeeping: which clients made it into the sum, which dropped out at a
   * protocol step (events, log), and the round's dropped / rejected counts over the whole cohort.
   */
  private settleSecureRound(
    round: number,
    secured: SecureRoundResult,
    cohort: readonly number[],
    reports: ReadonlyMap<number, UpdateReport>,
    reportingWorkers: Set<string>,
    refused: ReadonlySet<number>,
    hostOf: (clientId: number) => string | undefined,
  ): { dropped: number; rejected: number } {
    const { log } = this.options;
    const clientEvent = this.options.onClientEvent ?? (() => {});
    const inSum = new Set(secured.ok ? secured.survivors : []);
    for (const clientId of inSum) reportingWorkers.add(hostOf(clientId)!);
    const rejected = cohort.filter((id) => refused.has(id) && !inSum.has(id)).length;
    const m = secured.metrics;
    if (!secured.ok) {
      log.warn({ round, step: m.abortStep, reason: m.abortReason, survivors: m.survivors, cohort: m.cohort }, 'secure aggregation aborted; the global model stays as it was');
    } else {
      log.info({ round, survivors: m.survivors, cohort: m.cohort, droppedAt: m.droppedAt, serverMs: Math.round(m.serverMs), protocolMs: Math.round(m.protocolMs) }, 'secure aggregation done');
    }
    // Trained clients whose update did not reach the model (a later step lost them, or the round aborted).
    for (const clientId of reports.keys()) {
      if (inSum.has(clientId) || refused.has(clientId)) continue;
      clientEvent({ round, clientId, state: 'dropped', workerId: hostOf(clientId), reason: secured.ok ? 'dropped out during secure aggregation' : `secure aggregation aborted: ${m.abortReason}` });
    }
    return { dropped: cohort.length - inSum.size - rejected, rejected };
  }
}

/**
 * Central DP: the client was told to clip to S, so anything longer is refused (a client that
 * skips clipping would break the guarantee). Local DP updates carry noise and exceed S by design.
 */
function maxNormOf(scenario: Scenario, plan: RoundPlan): number | undefined {
  const bounds = [scenario.strategy.maxUpdateNorm];
  if (plan.taskPrivacy && plan.taskPrivacy.localNoiseStd === undefined) bounds.push(plan.taskPrivacy.clipNorm * (1 + 1e-5));
  const defined = bounds.filter((b): b is number => b !== undefined);
  return defined.length > 0 ? Math.min(...defined) : undefined;
}

function meetsTarget(scenario: Scenario, evaluation: Evaluation): boolean {
  const { targetAccuracy, targetMse } = scenario.evaluation;
  if (targetAccuracy !== undefined && evaluation.accuracy !== undefined) return evaluation.accuracy >= targetAccuracy;
  if (targetMse !== undefined && evaluation.mse !== undefined) return evaluation.mse <= targetMse;
  return false;
}
