/**
 * A worker process's work: join a run, then train virtual clients one after another, pulling
 * each task from the run's task queue when idle, claiming it with the coordinator, and acking it
 * once the update is sent (so a task this worker dies holding goes to another). The global
 * model of a round is fetched once and shared by every client this worker trains in that round;
 * each client's data is its partition, computed locally from the scenario's seed.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { BusError, type Bus, type BusSubscription } from '../shared/bus/bus.js';
import type { QueuedTask, TaskConsumer } from '../shared/bus/task-queue.js';
import { shapeOfDataset, subset, type DataSplit } from '../shared/data/dataset.js';
import { loadFederatedData, type FederatedData } from '../shared/data/federated-data.js';
import type { DataShape } from '../shared/data/data-shape.js';
import { buildModel } from '../shared/models/build-model.js';
import { evaluateModel } from '../shared/models/evaluate-model.js';
import { hitRateAt10 } from '../shared/models/rating-ranking.js';
import { getFlatWeights, layoutOf, setFlatWeights } from '../shared/models/parameters.js';
import { gatherSlices, layerSlices, scatterSlices, zeroSlices, type LayerSlices } from '../shared/models/layer-slices.js';
import type { ClientStateKey } from '../shared/client-state/client-state-store.js';
import { decodeFrame, decodeFrameOf, encodeFrame, type Frame } from '../shared/protocol/frame.js';
import { EVALUATED_MODEL_VECTOR, subjects, type MessageHeader } from '../shared/protocol/messages.js';
import { fetchModel, sendUpdate, type EncodedVector } from '../shared/protocol/transfers.js';
import type { VectorCodec } from '../shared/compression/codec.js';
import { ErrorFeedback } from '../shared/compression/error-feedback.js';
import { createCodec, usesErrorFeedback } from '../shared/compression/pipeline.js';
import type { WorkerMetrics } from '../shared/observability/prometheus-metrics.js';
import { Rng } from '../shared/random.js';
import { validateScenario } from '../shared/scenario/load-scenario.js';
import type { Scenario } from '../shared/scenario/schema.js';
import type { LayersModel } from '../shared/tf.js';
import { subtract } from '../shared/vector/vector-math.js';
import { adversaryOf, type Adversary } from './attacks/adversary.js';
import type { TrainedUpdate } from './attacks/attack.js';
import { selectBackend, type ActiveBackend, type BackendPreference } from './backend/select-backend.js';
import { privatizeUpdate } from './privacy/privatize-update.js';
import { SecureAggregationHost } from './secure-aggregation/secure-aggregation-host.js';
import { ClientStateAccess, type ClientStateValues } from './state/client-state-access.js';
import { CLIENT_CONTROL_VECTOR, controlVariateStep, SERVER_CONTROL_VECTOR, usesControlVariates } from './training/control-variates.js';
import { trainLocal } from './training/local-training.js';
import { normalizedUpdate } from './training/update-normalization.js';

export interface WorkerOptions {
  bus: Bus;
  runName: string;
  log: Logger;
  workerId?: string;
  /** Overrides the scenario's system.backend for this worker (e.g. a GPU machine). */
  backend?: BackendPreference;
  /** How long to keep trying to reach the coordinator. */
  joinTimeoutMs?: number;
  /** Runs this worker already served: a join reply from one of them (a coordinator still shutting down) is not taken. */
  skipRuns?: ReadonlySet<string>;
  /** Shared across the runs of a long-lived worker, so a sweep loads each dataset once. */
  dataCache?: Map<string, FederatedData>;
  /** Prometheus counters of this worker process (the health port's /metrics). */
  metrics?: WorkerMetrics;
  /** Called when the worker listens for tasks (readiness) and when it leaves the run. */
  onReadyChange?: (ready: boolean) => void;
}

export interface WorkerStats {
  workerId: string;
  runId: string;
  backend: string;
  clientsTrained: number;
  samplesTrained: number;
  trainMs: number;
  modelFetches: number;
  endReason: string;
}

interface Federation {
  scenario: Scenario;
  data: FederatedData;
  shape: DataShape;
  model: LayersModel;
  backend: ActiveBackend;
  /** strategy.localLayers: the parameter slices each client keeps to itself (null: everything is aggregated). */
  personal: LayerSlices | null;
}

const JOIN_RETRY_MS = 500;
/** How long one pull waits for a task before asking again (JetStream's minimum is 1 s). */
const PULL_WAIT_MS = 2_000;
const PULL_RETRY_MS = 1_000;
const CLAIM_TIMEOUT_MS = 10_000;
/** An evaluation report is one small frame; the coordinator answers at once. */
const REPORT_TIMEOUT_MS = 30_000;
const WATCHDOG_TICK_MS = 1000;

export class Worker {
  readonly workerId: string;
  private readonly subjects: ReturnType<typeof subjects>;
  private federation: Federation | null = null;
  private tasks: TaskConsumer | null = null;
  /** The task being trained, so a stopping worker can hand it back at once. */
  private heldTask: QueuedTask | null = null;
  private controlSubscription: BusSubscription | null = null;
  private watchdog: NodeJS.Timeout | undefined;
  private global: { round: number; weights: Float32Array } | null = null;
  /** The round's named vectors fetched so far (a strategy's, e.g. a server control variate). */
  private roundVectors: { round: number; vectors: Map<string, Float32Array> } | null = null;
  private finished: ((reason: string) => void) | null = null;
  private running = false;
  private stopReason: string | null = null;
  private codec: VectorCodec | null = null;
  /** Control variates, top-k residuals and personal layers: they follow the client, not this worker. */
  private readonly clientState: ClientStateAccess;
  /** Secure-aggregation runs: this worker's clients' protocol state (their secrets stay in this process). */
  private secureAggregation: SecureAggregationHost | null = null;
  /** Runs with adversaries: the attacker controlling some of the clients this worker trains. */
  private adversary: Adversary | null = null;
  private readonly stats: Omit<WorkerStats, 'endReason'>;

  constructor(private readonly options: WorkerOptions) {
    this.workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.subjects = subjects(options.runName);
    this.clientState = new ClientStateAccess(options.bus, options.runName);
    this.stats = { workerId: this.workerId, runId: 'none', backend: 'none', clientsTrained: 0, samplesTrained: 0, trainMs: 0, modelFetches: 0 };
  }

  /** Joins the run, prepares data and model, then trains clients until the run ends. */
  async run(): Promise<WorkerStats> {
    const { log } = this.options;
    const scenario = await this.join();
    if (!scenario) return { ...this.stats, endReason: this.stopReason ?? 'stopped' };
    const backend = await selectBackend(this.options.backend ?? scenario.system.backend);
    this.stats.backend = backend.name;
    const data = await this.federatedData(scenario);
    const shape: DataShape = shapeOfDataset(data.dataset);
    const model = buildModel(scenario.model, shape);
    const localLayers = scenario.strategy.localLayers ?? [];
    const personal = localLayers.length > 0 ? layerSlices(layoutOf(model), localLayers) : null;
    this.federation = { scenario, data, shape, model, backend, personal };
    this.adversary = adversaryOf(scenario, data, log);
    log.info({ workerId: this.workerId, backend: backend.detail, clients: data.clients.length }, 'worker ready');

    const ended = new Promise<string>((resolve) => (this.finished = resolve));
    // Stopped while loading data: nothing to wait for.
    if (this.stopReason !== null) this.finished?.(this.stopReason);
    this.listenToCoordinator(scenario.system.coordinatorSilenceSeconds);
    this.running = true;
    if (scenario.privacy.secureAggregation) {
      this.secureAggregation = new SecureAggregationHost({ bus: this.options.bus, subjects: this.subjects, workerId: this.workerId, log });
      this.secureAggregation.start();
    }
    this.tasks = await this.options.bus.taskConsumer(this.options.runName);
    const ready = encodeFrame('ready', { workerId: this.workerId, backend: backend.name, detail: backend.detail });
    decodeFrameOf(await this.options.bus.request(this.subjects.ready, ready, 10_000), 'ack');
    this.options.onReadyChange?.(true);
    void this.pullTasks();
    const endReason = await ended;
    this.options.onReadyChange?.(false);
    log.info({ ...this.stats, endReason }, 'worker finished');
    return { ...this.stats, endReason };
  }

  stop(reason: string): void {
    this.stopReason ??= reason;
    this.running = false;
    // Leaving mid-task (scale-down, run end): the task goes back to the queue now, not after the ack wait.
    this.heldTask?.release();
    this.heldTask = null;
    this.controlSubscription?.unsubscribe();
    this.controlSubscription = null;
    clearInterval(this.watchdog);
    this.secureAggregation?.stop();
    this.finished?.(reason);
  }

  /** Run end and heartbeats; silence for `silenceSeconds` means the coordinator is gone (killed, partitioned). */
  private listenToCoordinator(silenceSeconds: number): void {
    const { log } = this.options;
    let lastHeard = performance.now();
    this.controlSubscription = this.options.bus.subscribe(this.subjects.control, (message) => {
      try {
        const frame = decodeFrame(message.data);
        lastHeard = performance.now();
        if (frame.type === 'run-end') this.stop(`run ended: ${(frame.header as MessageHeader<'run-end'>).reason}`);
        else if (frame.type !== 'heartbeat') throw new Error(`unexpected ${frame.type} frame on the control subject`);
      } catch (error) {
        log.warn({ err: (error as Error).message }, 'bad control message ignored');
      }
    });
    let lastTick = performance.now();
    this.watchdog = setInterval(() => {
      const now = performance.now();
      // A late tick means this loop was blocked: heartbeats may be waiting unread in the socket.
      const blocked = now - lastTick > 2 * WATCHDOG_TICK_MS;
      lastTick = now;
      if (blocked || now - lastHeard < silenceSeconds * 1000) return;
      log.warn({ silenceSeconds }, 'no heartbeat from the coordinator: presumed gone');
      this.stop(`coordinator silent for ${silenceSeconds} s`);
    }, WATCHDOG_TICK_MS);
    // Never what keeps a process alive: a worker stopped while loading data would otherwise hang here.
    this.watchdog.unref();
  }

  private async federatedData(scenario: Scenario): Promise<FederatedData> {
    const cache = this.options.dataCache;
    if (!cache) return loadFederatedData(scenario);
    // The partition depends on these and nothing else.
    const key = JSON.stringify([scenario.dataset, scenario.partition, scenario.seed, scenario.evaluation.federated?.heldOutFraction]);
    let data = cache.get(key);
    if (!data) {
      data = await loadFederatedData(scenario);
      cache.clear();
      cache.set(key, data);
    }
    return data;
  }

  /** The run's scenario, or null when the worker is stopped while waiting for a coordinator. */
  private async join(): Promise<Scenario | null> {
    const { bus, log, runName } = this.options;
    const deadline = Date.now() + (this.options.joinTimeoutMs ?? 120_000);
    const request = encodeFrame('join', { workerId: this.workerId, host: hostname(), pid: process.pid, backend: this.options.backend ?? 'scenario' });
    let announced = false;
    for (;;) {
      if (this.stopReason !== null) return null;
      try {
        const reply = decodeFrameOf(await bus.request(this.subjects.join, request, 5_000), 'join-reply');
        if (this.options.skipRuns?.has(reply.header.runId)) {
          await new Promise((resolve) => setTimeout(resolve, JOIN_RETRY_MS));
          continue;
        }
        this.stats.runId = reply.header.runId;
        this.options.metrics?.runsJoined.inc();
        log.info({ run: reply.header.runId }, 'joined run');
        return validateScenario(reply.header.scenario, `scenario of run ${runName}`);
      } catch (error) {
        if (!(error instanceof BusError) || error.reason === 'closed') throw error;
        if (Date.now() > deadline) throw new Error(`no coordinator answered for run "${runName}" on ${bus.address} (${error.message})`);
        if (!announced) log.info({ run: runName, address: bus.address }, 'waiting for the coordinator');
        announced = true;
        await new Promise((resolve) => setTimeout(resolve, JOIN_RETRY_MS));
      }
    }
  }

  /** Idle: pull one task; train it; pull the next. */
  private async pullTasks(): Promise<void> {
    const { log } = this.options;
    while (this.running) {
      let task: QueuedTask | null;
      try {
        task = await this.tasks!.next(PULL_WAIT_MS);
      } catch (error) {
        if (!this.running) return;
        log.warn({ err: (error as Error).message }, 'pulling a task failed; trying again');
        await new Promise((resolve) => setTimeout(resolve, PULL_RETRY_MS));
        continue;
      }
      if (!task) continue;
      if (!this.running) {
        task.release();
        return;
      }
      await this.work(task);
    }
  }

  private async work(task: QueuedTask): Promise<void> {
    const { bus, log } = this.options;
    let header: Frame<'task'>['header'];
    try {
      header = decodeFrameOf(task.data, 'task').header;
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'bad task frame dropped');
      task.ack();
      return;
    }
    if (Date.now() > header.deadline) {
      log.debug({ round: header.round, clientId: header.clientId }, 'task past its round deadline; dropped');
      task.ack();
      return;
    }
    // Held from here: a stop() from now on hands it back instead of leaving it to the ack wait.
    this.heldTask = task;
    let claim: MessageHeader<'ack'>;
    try {
      const request = encodeFrame('task-claim', {
        workerId: this.workerId,
        round: header.round,
        clientId: header.clientId,
        delivery: task.delivery,
        claimToken: header.claimToken,
        ...(header.evaluate ? { evaluate: true as const } : {}),
      });
      claim = decodeFrameOf(await bus.request(this.subjects.claim, request, CLAIM_TIMEOUT_MS), 'ack').header;
    } catch (error) {
      // The coordinator did not answer: leave the task to whoever can reach it.
      log.warn({ err: (error as Error).message, round: header.round, clientId: header.clientId }, 'could not claim a task; handed back');
      this.handBack(task);
      return;
    }
    if (this.heldTask !== task) return;
    if (!claim.ok || claim.grant === undefined) {
      log.debug({ round: header.round, clientId: header.clientId, reason: claim.error }, 'task not wanted any more; dropped');
      this.heldTask = null;
      task.ack();
      return;
    }
    try {
      await task.holdWhile(header.evaluate ? this.evaluateClient(header, claim.grant) : this.trainClient(header, claim.grant));
    } catch (error) {
      if (this.heldTask === task)
        log.error({ err: (error as Error).message, clientId: header.clientId }, 'client training failed; the client will count as dropped');
    }
    // Still ours: the update went out (or training failed for good). Otherwise stop() handed it back.
    if (this.heldTask === task) {
      this.heldTask = null;
      task.ack();
    }
  }

  private handBack(task: QueuedTask): void {
    if (this.heldTask !== task) return; // stop() already did
    this.heldTask = null;
    task.release();
  }

  /** `grant`: the coordinator's answer to this worker's claim, which the client's update must carry. */
  private async trainClient(task: Frame<'task'>['header'], grant: string): Promise<void> {
    const federation = this.federation!;
    const { bus, log } = this.options;
    if (Date.now() > task.deadline) {
      log.warn({ round: task.round, clientId: task.clientId }, 'task arrived after its round deadline; skipped');
      return;
    }
    const global = await this.globalWeights(task.round);
    const vectors = await this.vectorsOf(task.round, task.vectors ?? []);
    const indices = federation.data.clients[task.clientId];
    if (!indices) throw new Error(`client ${task.clientId} does not exist (${federation.data.clients.length} clients)`);
    const { dataset } = federation.data;
    const localData = subset(dataset.train, dataset.featureSize, indices);

    const { training } = federation.scenario;
    const state = await this.clientState.read(task.clientId, this.stateKeys(task));
    const train = (data: DataSplit, seed: number) => this.trainFromGlobal(task, global, vectors, state, data, seed);
    // A malicious client (adversaries:) sends what its attack crafts; the rest of the path is the same.
    const trained = this.adversary?.controls(task.clientId) ? await this.adversary.craft(task, localData, train) : await train(localData, task.seed);
    const { result, delta } = trained;
    // Stopped while training: the task went back to the queue, and another worker answers for it.
    if (!this.running) throw new Error(`stopped (${this.stopReason}) before sending client ${task.clientId}'s update`);
    const privatized = task.privacy ? privatizeUpdate(delta, task.privacy, new Rng(task.seed).fork('local-dp-noise')) : null;
    const { payload, residual } = task.secureAggregation
      ? { payload: delta, residual: undefined }
      : this.compress(delta, state.residual, new Rng(task.seed).fork('compression'));
    this.stats.clientsTrained += 1;
    this.stats.samplesTrained += result.samples * training.epochs;
    this.stats.trainMs += result.trainMs;
    this.options.metrics?.clientsTrained.inc();
    this.options.metrics?.samplesTrained.inc(result.samples * training.epochs);
    this.options.metrics?.trainDuration.observe(result.trainMs / 1000);

    const report = {
      samples: result.samples,
      steps: result.steps,
      loss: result.meanLoss,
      ...(result.startLoss !== undefined ? { startLoss: result.startLoss } : {}),
      trainMs: result.trainMs,
      backend: federation.backend.name,
      // Under secure aggregation the clip bit is summed inside the masked vector, not sent in clear.
      ...(privatized && !task.secureAggregation ? { unclipped: privatized.unclipped } : {}),
    };
    // Before the update leaves, as a device keeps its own state (see client-state-access.ts).
    await this.clientState.write(task.clientId, { ...trained.clientState, ...(residual ? { residual } : {}) });
    if (task.secureAggregation) {
      if (!this.secureAggregation) throw new Error('a secure-aggregation task in a run without privacy.secureAggregation');
      await this.secureAggregation.advertise({ ...task, secureAggregation: task.secureAggregation }, grant, delta, privatized?.unclipped, report);
    } else {
      await sendUpdate(
        bus,
        this.subjects.results,
        { transferId: `${this.workerId}:${task.round}:${task.clientId}`, workerId: this.workerId, round: task.round, clientId: task.clientId, grant, report },
        payload,
      );
    }
    log.debug({ round: task.round, clientId: task.clientId, samples: result.samples, loss: result.meanLoss, ms: Math.round(result.trainMs) }, 'client trained');
  }

  /** Federated evaluation: the model after the round, scored on the client's held-out samples. */
  private async evaluateClient(task: Frame<'task'>['header'], grant: string): Promise<void> {
    const { model, shape, data, personal } = this.federation!;
    const heldOut = data.heldOut[task.clientId];
    if (!heldOut?.length) throw new Error(`client ${task.clientId} holds no samples out (${data.clients.length} clients)`);
    const vectors = await this.vectorsOf(task.round, task.vectors ?? []);
    const evaluated = vectors[EVALUATED_MODEL_VECTOR];
    if (!evaluated) throw new Error(`evaluation task of round ${task.round} names no "${EVALUATED_MODEL_VECTOR}" vector`);
    // Under partial aggregation the client's model is the global one with its own personal layers.
    const state = await this.clientState.read(task.clientId, personal ? ['personal'] : []);
    const weights = this.withPersonalLayers(evaluated, state);
    setFlatWeights(model, weights);
    const heldOutData = subset(data.dataset.train, data.dataset.featureSize, heldOut);
    const scored = await evaluateModel(model, heldOutData, shape);
    const indices = data.clients[task.clientId] ?? [];
    // Ratings: this user's own top 10, its training ratings left out of the ranking.
    const hitRate =
      shape.categories?.length === 2 ? hitRateAt10(model, heldOutData, subset(data.dataset.train, data.dataset.featureSize, indices), shape) : null;
    const tuned = await this.fineTuned(task, heldOutData);
    const report = encodeFrame('evaluation-report', {
      workerId: this.workerId,
      round: task.round,
      clientId: task.clientId,
      grant,
      samples: scored.samples,
      loss: scored.loss,
      ...(scored.accuracy !== undefined ? { accuracy: scored.accuracy } : {}),
      ...(scored.mse !== undefined ? { mse: scored.mse } : {}),
      ...(scored.mae !== undefined ? { mae: scored.mae } : {}),
      ...(hitRate !== null ? { hitRate10: hitRate } : {}),
      ...(scored.auc !== undefined ? { auc: scored.auc } : {}),
      ...(tuned
        ? {
            personalized: {
              loss: tuned.loss,
              ...(tuned.accuracy !== undefined ? { accuracy: tuned.accuracy } : {}),
              ...(tuned.mse !== undefined ? { mse: tuned.mse } : {}),
              ...(tuned.mae !== undefined ? { mae: tuned.mae } : {}),
            },
          }
        : {}),
    });
    const answer = decodeFrameOf(await this.options.bus.request(this.subjects.results, report, REPORT_TIMEOUT_MS), 'ack').header;
    if (!answer.ok) this.options.log.warn({ round: task.round, clientId: task.clientId, reason: answer.error }, 'evaluation report refused');
  }

  /** What the task's client keeps between rounds and needs now. */
  private stateKeys(task: Frame<'task'>['header']): ClientStateKey[] {
    const { scenario, personal } = this.federation!;
    const keys: ClientStateKey[] = [];
    if (usesControlVariates(task.config)) keys.push('control');
    if (personal) keys.push('personal');
    if (!task.secureAggregation && usesErrorFeedback(scenario.compression.update)) keys.push('residual');
    return keys;
  }

  /**
   * One client's local training from the round's global model (with its personal layers, if it
   * keeps any): the update it sends, what it reports, and the state it keeps for its next round.
   */
  private async trainFromGlobal(
    task: Frame<'task'>['header'],
    global: Float32Array,
    vectors: Record<string, Float32Array>,
    state: ClientStateValues,
    data: DataSplit,
    seed: number,
  ): Promise<TrainedUpdate> {
    const { model, shape, scenario, personal } = this.federation!;
    const { training } = scenario;
    const start = this.withPersonalLayers(global, state);
    const controlled = usesControlVariates(task.config);
    const serverControl = vectors[SERVER_CONTROL_VECTOR];
    if (controlled && !serverControl) throw new Error(`task of round ${task.round} asks for control variates but names no "${SERVER_CONTROL_VECTOR}" vector`);
    const roundVectors = controlled ? { ...vectors, [CLIENT_CONTROL_VECTOR]: state.control ?? new Float32Array(global.length) } : vectors;
    setFlatWeights(model, start);
    const result = await trainLocal(model, data, shape, {
      epochs: training.epochs,
      batchSize: training.batchSize,
      optimizer: training.optimizer,
      learningRate: training.learningRate,
      momentum: training.momentum,
      seed,
      maxSteps: task.maxSteps,
      round: { global: start, config: task.config ?? {}, vectors: roundVectors },
    });
    const trained = getFlatWeights(model);
    const delta = subtract(trained, start);
    const clientState: ClientStateValues = {};
    if (personal) {
      clientState.personal = gatherSlices(trained, personal);
      zeroSlices(delta, personal); // never leaves the client
    }
    const normalized = normalizedUpdate(delta, result.steps, task.config);
    if (!controlled) return { result, delta: normalized, clientState };
    const momentum = training.optimizer === 'momentum' ? (training.momentum ?? 0.9) : 0;
    const step = controlVariateStep(normalized, serverControl!, state.control ?? null, { steps: result.steps, learningRate: training.learningRate, momentum });
    return { result, delta: step.sent, clientState: { ...clientState, control: step.next } };
  }

  /** The global weights with the client's personal layers in place (a copy), or the global weights themselves. */
  private withPersonalLayers(global: Float32Array, state: ClientStateValues): Float32Array {
    const { personal } = this.federation!;
    if (!personal || !state.personal) return global;
    const weights = global.slice();
    scatterSlices(weights, personal, state.personal);
    return weights;
  }

  /**
   * evaluation.federated.fineTuneEpochs: the client trains the evaluated model on its own training
   * samples for that many epochs (plain local steps, no strategy terms) and scores it again on its
   * held-out split: the personalised accuracy beside the global model's. The model is left tuned;
   * the next task sets its own weights.
   */
  private async fineTuned(task: Frame<'task'>['header'], heldOut: DataSplit) {
    const { model, shape, data, scenario } = this.federation!;
    const epochs = scenario.evaluation.federated?.fineTuneEpochs ?? 0;
    const indices = data.clients[task.clientId];
    if (epochs === 0 || !indices?.length) return null;
    const { training } = scenario;
    await trainLocal(model, subset(data.dataset.train, data.dataset.featureSize, indices), shape, {
      epochs,
      batchSize: training.batchSize,
      optimizer: training.optimizer,
      learningRate: training.learningRate,
      momentum: training.momentum,
      seed: new Rng(task.seed).fork('fine-tune').nextUint32(),
    });
    return evaluateModel(model, heldOut, shape);
  }

  /**
   * The scenario's update codec, if any. Error feedback (top-k) starts from the client's residual
   * in the client state store and hands back the new one, written once the update is accepted.
   */
  private compress(delta: Float32Array, residual: Float32Array | undefined, rng: Rng): { payload: Float32Array | EncodedVector; residual?: Float32Array } {
    const pipeline = this.federation!.scenario.compression.update;
    if (pipeline.length === 0) return { payload: delta };
    this.codec ??= createCodec(pipeline, 'update');
    if (!usesErrorFeedback(pipeline)) return { payload: { bytes: this.codec.encode(delta, rng) } };
    const feedback = new ErrorFeedback(delta.length, residual);
    return { payload: { bytes: feedback.encode(delta, this.codec, rng) }, residual: feedback.residual() };
  }

  /** Fetched once per round and worker, like the global model, and shared by its clients. */
  private async vectorsOf(round: number, names: readonly string[]): Promise<Record<string, Float32Array>> {
    if (this.roundVectors?.round !== round) this.roundVectors = { round, vectors: new Map() };
    const { vectors } = this.roundVectors;
    for (const name of names) {
      if (!vectors.has(name)) vectors.set(name, (await fetchModel(this.options.bus, this.subjects.model, round, name)).weights);
    }
    return Object.fromEntries(names.map((name) => [name, vectors.get(name)!]));
  }

  private async globalWeights(round: number): Promise<Float32Array> {
    if (this.global?.round !== round) {
      const { weights } = await fetchModel(this.options.bus, this.subjects.model, round);
      this.global = { round, weights };
      this.stats.modelFetches += 1;
      this.options.metrics?.modelFetches.inc();
    }
    return this.global.weights;
  }
}
