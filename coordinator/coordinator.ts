/**
 * The coordinator of one run: it answers workers (joins, model fetches, claims, updates), runs
 * the rounds (rounds/round-runner.ts), evaluates the global model every k rounds on the server's
 * test set, and stops at the last round, at the target, at the privacy budget, or when asked.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Bus } from '../shared/bus/bus.js';
import { createCodec } from '../shared/compression/pipeline.js';
import { encodeFrame } from '../shared/protocol/frame.js';
import { subjects } from '../shared/protocol/messages.js';
import type { SecAggMessage } from '../shared/secure-aggregation/index.js';
import { clientsPerRound } from '../shared/scenario/load-scenario.js';
import type { Scenario, UpdateAttacksSpec } from '../shared/scenario/schema.js';
import type { AggregatorContext } from './aggregation/aggregator-entry.js';
import { aggregationSettings, buildAggregation, checkBufferedMemory } from './aggregation/build-aggregation.js';
import type { Evaluation, GlobalEvaluator } from './evaluation/global-evaluator.js';
import { resolveDpPlan, type DpPlan } from './privacy/dp-plan.js';
import { PrivacyLedger, type RoundPrivacy } from './privacy/privacy-ledger.js';
import { UpdateCapture } from './privacy/update-capture.js';
import { PlainCollection } from './rounds/plain-collection.js';
import type { ClientEvent, RoundMetrics } from './rounds/round-report.js';
import { evaluateFederated, type FederatedEvaluation } from './rounds/federated-evaluation.js';
import { RoundRunner, type RoundEngine } from './rounds/round-runner.js';
import { SecureCollection } from './rounds/secure-collection.js';
import type { UpdateCollection } from './rounds/update-collection.js';
import { SecureAggregation } from './secure-aggregation/secure-aggregation.js';
import { resolveSecAggSettings } from './secure-aggregation/secure-aggregation-settings.js';
import { PoissonSample } from './selection/poisson-sample.js';
import { UniformSample } from './selection/uniform-sample.js';
import { FederationClock } from './simulation/federation-clock.js';
import { createStrategy } from './strategies/create-strategy.js';
import type { ClientPool } from './strategies/strategy.js';
import { clientStateBudget, type ClientStateBudget } from './client-state/client-state-budget.js';
import type { OwnedClientStateStore } from '../shared/client-state/client-state-store.js';
import type { ParameterLayout } from '../shared/models/parameters.js';
import { ModelServer } from './transport/model-server.js';
import { TaskDispatcher } from './transport/task-dispatcher.js';
import { FrameRefusals } from './transport/frame-refusals.js';
import { UpdateReceiver, type ReceivedPayload } from './transport/update-receiver.js';
import { WorkerRoster, type WorkerInfo } from './workers/worker-roster.js';

export type { ClientEvent, RoundMetrics } from './rounds/round-report.js';
export type { WorkerInfo } from './workers/worker-roster.js';

/** A task that came back this often killed (or outlived) every worker that took it: give it up. */
const MAX_TASK_DELIVERIES = 5;

export interface CoordinatorOptions {
  scenario: Scenario;
  /** Training samples per client id (simulated time and FLOPs). */
  clientSizes: readonly number[];
  /** Held-out samples per client id (evaluation.federated; absent or 0: the client cannot evaluate). */
  heldOutSizes?: readonly number[];
  /** Forward + backward FLOPs of one training sample of this model; null when FLOP counting does not know one of its layers. */
  flopsPerSample: number | null;
  bus: Bus;
  runId: string;
  log: Logger;
  evaluator: GlobalEvaluator;
  initialWeights: Float32Array;
  /** The model's parameter layout (which slices are which layer: strategy.localLayers). */
  layout: ParameterLayout;
  /** FLTrust: the server's training on its root dataset (the run provides it; the coordinator has no trainer of its own). */
  trainOnRootData?: AggregatorContext['trainOnRootData'];
  onRound?: (metrics: RoundMetrics) => void;
  /** Each answering client's federated evaluation (clients.jsonl), before the round's onRound. */
  onClientEvaluations?: (clients: FederatedEvaluation['clients']) => void;
  onWorkerReady?: (worker: WorkerInfo) => void;
  onClientEvent?: (event: ClientEvent) => void;
}

export interface CoordinatorResult {
  finalWeights: Float32Array;
  finalEvaluation: Evaluation | null;
  /** First round whose evaluation met the scenario's target, if any. */
  roundsToTarget: number | null;
  /** `interrupted`: Ctrl-C ended the run mid-round; that round was discarded, the model is the last complete round's. */
  stopReason: 'rounds completed' | 'target reached' | 'privacy budget reached' | 'stopped' | 'interrupted';
  /** The last round's privacy record (DP runs). */
  privacy: RoundPrivacy | null;
}

export class Coordinator {
  /** DP runs: the resolved settings (calibrated z included). */
  readonly dpPlan: DpPlan | null;
  /** privacy.updateAttacks in a plain collection: the individual updates the coordinator kept to attack. */
  readonly updateCapture: UpdateCapture | null;
  private readonly engine: RoundEngine;
  private readonly rounds: RoundRunner;
  private readonly roster: WorkerRoster;
  /** Secure-aggregation runs: the protocol's coordinator side. */
  private readonly secure: SecureAggregation | null;
  private stopRequested = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly interruption = new AbortController();
  private readonly clientStateBudget: ClientStateBudget | null;
  /** Opened at start when the run's clients keep state (SCAFFOLD, top-k residuals, personal layers); removed at shutdown. */
  private clientState: OwnedClientStateStore | null = null;

  constructor(private readonly options: CoordinatorOptions) {
    const { scenario, bus, log } = options;
    const runSubjects = subjects(scenario.name);
    const updateCodec = scenario.compression.update.length > 0 ? createCodec(scenario.compression.update, 'update') : null;
    const strategy = createStrategy(scenario, options.layout);
    const parameterCount = options.initialWeights.length;
    const updateLength = strategy.updateLength?.(parameterCount) ?? parameterCount;
    const clock = new FederationClock({
      devices: scenario.system.devices,
      stragglers: scenario.system.stragglers,
      seed: scenario.seed,
      clientSizes: options.clientSizes,
      epochs: scenario.training.epochs,
      batchSize: scenario.training.batchSize,
      flopsPerSample: options.flopsPerSample,
      updateBytes: updateCodec ? updateCodec.encodedSize(updateLength) : 4 * updateLength,
    });
    this.dpPlan = resolveDpPlan(scenario);
    const ledger = this.dpPlan ? new PrivacyLedger(this.dpPlan) : null;
    const refusals = new FrameRefusals();
    const receiver = new UpdateReceiver(bus, runSubjects.results, refusals, log);
    const secAgg = resolveSecAggSettings(scenario);
    this.secure = secAgg
      ? new SecureAggregation({ bus, subjects: runSubjects, settings: secAgg, session: options.runId.slice(0, 200), seed: scenario.seed, refusals, log })
      : null;
    const attacks = scenario.privacy.updateAttacks;
    this.updateCapture = attacks && !this.secure ? new UpdateCapture(attacks, scenario.seed) : null;
    if (attacks) checkCaptureMemory(attacks, scenario, options.initialWeights.length);
    const collection: UpdateCollection = this.secure ? new SecureCollection(this.secure, receiver, log) : new PlainCollection(receiver, this.updateCapture);
    this.engine = {
      scenario,
      clientsPerRound: clientsPerRound(scenario),
      strategy,
      pool: clientPool(scenario, this.dpPlan, ledger, clock),
      aggregation: buildAggregation(aggregationSettings(scenario, this.dpPlan, { trainOnRootData: options.trainOnRootData })),
      collection,
      clock,
      ledger,
      modelServer: new ModelServer(bus, runSubjects.model, log),
      receiver,
      refusals,
      clientSizes: options.clientSizes,
      dispatcher: new TaskDispatcher(
        bus,
        scenario.name,
        options.runId,
        { ackWaitMs: scenario.system.taskAckWaitSeconds * 1000, maxDeliveries: MAX_TASK_DELIVERIES },
        refusals,
        log,
      ),
      broadcastCodec: scenario.compression.broadcast?.length ? createCodec(scenario.compression.broadcast, 'broadcast') : null,
      log,
      onClientEvent: options.onClientEvent ?? (() => {}),
    };
    checkBufferedMemory(this.engine.aggregation, this.engine.pool.largestSample, updateLength, scenario.system.aggregationMemoryMB);
    this.clientStateBudget = clientStateBudget(scenario, strategy, parameterCount, this.engine.pool.largestSample);
    this.rounds = new RoundRunner(this.engine);
    this.roster = new WorkerRoster(bus, runSubjects, { scenario, runId: options.runId }, log, options.onWorkerReady);
  }

  get workers(): ReadonlyMap<string, WorkerInfo> {
    return this.roster.workers;
  }

  /**
   * Test seam: sees every update payload the coordinator receives (before any check) and every
   * secure-aggregation message, decoded, so a test can assert what the coordinator ever holds.
   */
  inspect(observer: { onPayload?: (payload: ReceivedPayload) => void; onSecAggMessage?: (message: SecAggMessage, clientId: number) => void }): void {
    this.engine.receiver.onPayload = observer.onPayload ?? null;
    if (this.secure) this.secure.onMessage = observer.onSecAggMessage ?? null;
  }

  /** Opens the task queue and starts answering workers (joins, model fetches, updates) before any round runs. */
  async start(): Promise<void> {
    // Before any join: a worker pulls from the queue as soon as it is ready.
    await this.engine.dispatcher.open();
    if (this.clientStateBudget) this.clientState = await this.options.bus.openClientState(this.options.scenario.name, this.clientStateBudget.limitBytes);
    this.roster.start();
    this.engine.modelServer.start();
    this.engine.receiver.start();
    this.engine.collection.start();
    this.startHeartbeat();
    this.options.log.debug({ coordinatorHost: hostname() }, 'coordinator listening');
  }

  readyWorkers(): number {
    return this.roster.readyCount();
  }

  /** Resolves once `count` workers are ready, or rejects after `timeoutMs`. */
  waitForWorkers(count: number, timeoutMs: number): Promise<void> {
    return this.roster.waitForReady(count, timeoutMs);
  }

  /** Finish the round in progress, then end the run. */
  requestStop(): void {
    this.stopRequested = true;
  }

  /**
   * End the run now (Ctrl-C): the round in progress stops collecting and is discarded, so the
   * run ends with the last complete round's model instead of waiting out the round's deadline.
   */
  interrupt(): void {
    this.stopRequested = true;
    this.interruption.abort();
  }

  async run(): Promise<CoordinatorResult> {
    const { scenario, log } = this.options;
    const result: CoordinatorResult = {
      finalWeights: this.options.initialWeights,
      finalEvaluation: null,
      roundsToTarget: null,
      stopReason: 'rounds completed',
      privacy: null,
    };
    for (let round = 1; round <= scenario.rounds; round++) {
      const started = performance.now();
      const outcome = await this.rounds.run(round, result.finalWeights, this.interruption.signal);
      if ('stop' in outcome) {
        result.stopReason = outcome.stop;
        if (outcome.stop === 'interrupted') {
          result.privacy = outcome.privacy ?? result.privacy;
          await this.evaluateInterrupted(result, round - 1);
        }
        break;
      }
      const { metrics } = outcome;
      if (this.clientState) metrics.clientState = await this.clientStateUsage();
      result.finalWeights = outcome.weights;
      result.privacy = metrics.privacy ?? null;
      const evaluation = await this.evaluate(round, outcome.weights, metrics);
      result.finalEvaluation = evaluation ?? result.finalEvaluation;
      const reachedTarget = evaluation !== null && meetsTarget(scenario, evaluation);
      await this.evaluateFederated(round, outcome.weights, metrics, reachedTarget);
      metrics.wallMs = performance.now() - started;
      this.options.onRound?.(metrics);
      if (reachedTarget) {
        result.roundsToTarget = round;
        result.stopReason = 'target reached';
        log.info({ round, accuracy: evaluation.accuracy, mse: evaluation.mse }, 'target reached; run stops here');
        break;
      }
      if (this.stopRequested) {
        result.stopReason = 'stopped';
        break;
      }
    }
    return result;
  }

  /** evaluation.federated: every k rounds and after the last, sampled clients score the new model on their held-out data. */
  private async evaluateFederated(round: number, weights: Float32Array, metrics: RoundMetrics, lastRound: boolean): Promise<void> {
    const { scenario, heldOutSizes, log } = this.options;
    const federated = scenario.evaluation.federated;
    const isLast = lastRound || round === scenario.rounds || this.stopRequested;
    if (!federated || !heldOutSizes || (round % federated.every !== 0 && !isLast)) return;
    const started = performance.now();
    const engine = { ...this.engine, heldOutSizes, log };
    const evaluated = await evaluateFederated(engine, round, weights, this.interruption.signal);
    if (!evaluated) return;
    metrics.federatedEvalMs = performance.now() - started;
    metrics.federatedEvaluation = evaluated.summary;
    this.options.onClientEvaluations?.(evaluated.clients);
  }

  /** What the client state store holds; a failed look (NATS busy) costs the figure, not the run. */
  private async clientStateUsage(): Promise<RoundMetrics['clientState']> {
    try {
      return await this.clientState!.usage();
    } catch (error) {
      this.options.log.warn({ err: (error as Error).message }, 'could not read the client state store’s usage');
      return undefined;
    }
  }

  /** Workers that stop hearing it presume the coordinator dead and leave (see heartbeatIntervalMs). */
  private startHeartbeat(): void {
    const { bus, scenario } = this.options;
    const subject = subjects(scenario.name).control;
    const beat = encodeFrame('heartbeat', {});
    this.heartbeat = setInterval(() => {
      try {
        bus.publish(subject, beat);
      } catch {
        // Disconnected: the next beat tries again; workers allow several missed ones.
      }
    }, heartbeatIntervalMs(scenario.system.coordinatorSilenceSeconds));
    this.heartbeat.unref();
  }

  /** Tells every worker the run is over and stops listening. */
  async shutdown(reason: string): Promise<void> {
    const { bus, log, scenario } = this.options;
    this.roster.stop();
    clearInterval(this.heartbeat);
    try {
      bus.publish(subjects(scenario.name).control, encodeFrame('run-end', { reason }));
      await bus.flush();
    } catch {
      // The bus may already be gone; workers then notice the closed connection themselves.
    }
    this.engine.modelServer.stop();
    this.engine.receiver.stop();
    this.engine.collection.stop();
    await this.engine.dispatcher.close().catch((error: Error) => log.warn({ err: error.message }, "could not remove the run's task queue"));
    await this.clientState?.destroy().catch((error: Error) => log.warn({ err: error.message }, "could not remove the run's client state"));
    this.clientState = null;
  }

  /** The run's model is the last complete round's: scored here when that round was not an evaluation round. */
  private async evaluateInterrupted(result: CoordinatorResult, lastRound: number): Promise<void> {
    if (lastRound === 0 || lastRound % this.options.scenario.evaluation.every === 0) return;
    result.finalEvaluation = await this.options.evaluator.evaluate(result.finalWeights);
  }

  /** The server's test set scores the model every k rounds and after the last. */
  private async evaluate(round: number, weights: Float32Array, metrics: RoundMetrics): Promise<Evaluation | null> {
    const { scenario, evaluator } = this.options;
    const isLast = round === scenario.rounds || this.stopRequested;
    const started = performance.now();
    const evaluation = round % scenario.evaluation.every === 0 || isLast ? await evaluator.evaluate(weights) : null;
    metrics.evalMs = performance.now() - started;
    metrics.testLoss = evaluation?.loss ?? null;
    metrics.testAccuracy = evaluation?.accuracy ?? null;
    metrics.testMse = evaluation?.mse ?? null;
    if (evaluation?.hitRate10 !== undefined) {
      metrics.testMae = evaluation.mae!;
      metrics.testHitRate10 = evaluation.hitRate10;
    }
    if (evaluation?.perplexity !== undefined) metrics.testPerplexity = evaluation.perplexity;
    if (evaluation?.auc !== undefined) metrics.testAuc = evaluation.auc;
    if (evaluation?.attackSuccessRate !== undefined) metrics.attackSuccessRate = evaluation.attackSuccessRate;
    return evaluation;
  }
}

/** Six beats per silence window, at most 10 s apart: a few lost or late ones never end a run. */
export function heartbeatIntervalMs(silenceSeconds: number): number {
  return Math.min(10_000, (silenceSeconds * 1000) / 6);
}

/** The kept updates live until the run ends: bounded like a buffering aggregator's. */
function checkCaptureMemory(spec: UpdateAttacksSpec, scenario: Scenario, parameterCount: number): void {
  const limitMB = scenario.system.aggregationMemoryMB;
  const megabytes = (UpdateCapture.peakValues(spec, scenario.rounds, parameterCount) * 4) / 2 ** 20;
  if (megabytes > limitMB) {
    throw new Error(
      `privacy.updateAttacks: keeping ${spec.clientsPerRound} updates (and the global model) per attacked round of ${parameterCount} float32 takes ${megabytes.toFixed(0)} MiB (got system.aggregationMemoryMB ${limitMB}, expected at least that; or fewer privacy.updateAttacks.rounds or clientsPerRound)`,
    );
  }
}

/** DP needs Poisson sampling (the accountant assumes it); otherwise FedAvg's K without replacement. */
function clientPool(scenario: Scenario, dp: DpPlan | null, ledger: PrivacyLedger | null, clock: FederationClock): ClientPool {
  const population = scenario.partition.clients;
  if (dp) return new PoissonSample(scenario.seed, population, dp.q, (client) => ledger!.mayParticipate(client));
  return new UniformSample(scenario.seed, population, clientsPerRound(scenario), clock.simulatesDevices ? clock : undefined);
}

function meetsTarget(scenario: Scenario, evaluation: Evaluation): boolean {
  const { targetAccuracy, targetMse } = scenario.evaluation;
  if (targetAccuracy !== undefined && evaluation.accuracy !== undefined) return evaluation.accuracy >= targetAccuracy;
  if (targetMse !== undefined && evaluation.mse !== undefined) return evaluation.mse <= targetMse;
  return false;
}
