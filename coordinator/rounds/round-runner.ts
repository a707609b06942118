/**
 * One federated round, phase by phase: select, broadcast, dispatch and collect, settle,
 * aggregate, account, record. The strategy decides who trains and how the aggregate becomes the
 * next model; the aggregator chain combines the updates; the collection (plain or secure) gets
 * them from the workers; the clock simulates devices; the ledger spends the privacy budget.
 */
import type { Logger } from 'pino';
import type { VectorCodec } from '../../shared/compression/codec.js';
import { Rng } from '../../shared/random.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import type { AggregateOutput, AggregatorFactory, RoundRules } from '../aggregation/aggregator.js';
import type { PrivacyLedger, RoundPrivacy } from '../privacy/privacy-ledger.js';
import type { FederationClock } from '../simulation/federation-clock.js';
import { partialWorkWeight, type ClientPool, type Strategy, type TrainInstructions } from '../strategies/strategy.js';
import type { ModelServer } from '../transport/model-server.js';
import type { Assignment, TaskDispatcher, TaskFields } from '../transport/task-dispatcher.js';
import type { FrameRefusals } from '../transport/frame-refusals.js';
import type { UpdateReceiver } from '../transport/update-receiver.js';
import type { ClientEvent, RoundMetrics } from './round-report.js';
import { dispatchAndWait } from './dispatch-and-wait.js';
import { RoundState } from './round-state.js';
import type { OpenCollection, Settlement, UpdateCollection } from './update-collection.js';

export interface RoundEngine {
  scenario: Scenario;
  /** K: the clients a round wants (the straggler policy's target). */
  clientsPerRound: number;
  strategy: Strategy;
  pool: ClientPool;
  aggregation: AggregatorFactory;
  collection: UpdateCollection;
  clock: FederationClock;
  ledger: PrivacyLedger | null;
  modelServer: ModelServer;
  receiver: UpdateReceiver;
  dispatcher: TaskDispatcher;
  /** Frames refused without effect (forged, stale, malformed), counted into each round's metrics. */
  refusals: FrameRefusals;
  /** Training samples per client id: what each client's report must state. */
  clientSizes: readonly number[];
  broadcastCodec: VectorCodec | null;
  log: Logger;
  onClientEvent: (event: ClientEvent) => void;
}

/** The round's clients after selection, availability and the straggler policy. */
interface RoundPlan {
  round: number;
  instructions: TrainInstructions;
  rules: RoundRules;
  /** Sampled and online. */
  selected: number[];
  /** Sent a task (selected, less stragglers the policy dropped). */
  cohort: number[];
  maxSteps: Map<number, number>;
}

export type RoundOutcome =
  { stop: 'privacy budget reached' } | { stop: 'interrupted'; privacy?: RoundPrivacy } | { weights: Float32Array; metrics: RoundMetrics };

export class RoundRunner {
  private bytesTotal = 0;

  constructor(private readonly engine: RoundEngine) {}

  /** `interruption` aborted: the round stops collecting and is discarded (not recorded; see chargeInterrupted). */
  async run(round: number, global: Float32Array, interruption?: AbortSignal): Promise<RoundOutcome> {
    if (interruption?.aborted) return { stop: 'interrupted' };
    const instructions = this.engine.strategy.configureTrain(round, this.engine.pool);
    if (this.exceedsBudget(round, instructions.clients)) return { stop: 'privacy budget reached' };
    const plan = this.plan(round, instructions, global);
    const state = new RoundState(round, this.engine.scenario.training.epochs, this.engine.onClientEvent, this.engine.log, () =>
      this.engine.dispatcher.progress(),
    );
    // Server-side work of the aggregator (FLTrust's root update) runs while the clients train.
    const preparing = this.engine.aggregation.prepareRound?.(round, global);
    preparing?.catch(() => {}); // awaited below; an interrupted round never gets there
    // What each client sends: the model's length, or more (SCAFFOLD's [Δy, Δc]).
    const updateLength = this.engine.strategy.updateLength?.(global.length) ?? global.length;
    const aggregator = this.engine.aggregation.create(round, updateLength);
    const collection = this.engine.collection.open({
      round,
      cohort: plan.cohort,
      global,
      parameterCount: updateLength,
      rules: plan.rules,
      state,
      aggregator,
      samplesOf: (id) => this.engine.clientSizes[id],
      plannedSteps: (id) => this.engine.clock.plannedSteps(id),
      weighUpdate: instructions.weighUpdate ?? partialWorkWeight,
    });
    state.expect(collection.abortBeforeStart === null ? plan.cohort : []);
    await this.dispatchAndCollect(plan, state, collection, interruption);
    if (interruption?.aborted) {
      this.engine.log.info({ round }, 'interrupted: the round is discarded');
      return { stop: 'interrupted', ...this.chargeInterrupted(plan, state) };
    }
    const settlement = await collection.settle();
    await preparing;
    // An aborted secure round leaves the model as it was: nothing was learned from it.
    const aggregate: AggregateOutput | null = settlement.ok ? aggregator.finish() : null;
    const next = aggregate
      ? this.engine.strategy.aggregateTrain(round, global, aggregate, state.results, state.failures)
      : { weights: global, trainLoss: null };
    const metrics = this.record(plan, state, settlement, next.trainLoss, next.metrics);
    if (aggregate?.measurements.fallback) metrics.aggregation = aggregate.measurements.fallback;
    this.account(plan, metrics, aggregate);
    return { weights: next.weights, metrics };
  }

  /**
   * Under local DP the coordinator is the adversary, and it has already seen the noised updates
   * that arrived before the interrupt: discarding them does not unspend their ε. (Under central
   * DP nothing left the trusted coordinator, so nothing was released.)
   */
  private chargeInterrupted(plan: RoundPlan, state: RoundState): { privacy?: RoundPrivacy } {
    const { ledger } = this.engine;
    const clipNorm = plan.rules.clientPrivacy?.clipNorm;
    if (ledger?.plan.mode !== 'local' || clipNorm === undefined || state.results.length === 0) return {};
    return {
      privacy: ledger.record(
        state.results.map((r) => r.clientId),
        { clipNorm },
      ),
    };
  }

  private exceedsBudget(round: number, clients: readonly number[]): boolean {
    const { ledger, log } = this.engine;
    if (!ledger?.wouldExceedBudget(clients)) return false;
    log.info(
      { round, projectedEpsilon: ledger.projectedEpsilon(clients), targetEpsilon: ledger.plan.targetEpsilon },
      'another round would exceed the privacy budget; run stops before it',
    );
    return true;
  }

  /** Select (offline clients drop out: Poisson sampling does not know about devices), serve the model, apply the straggler policy. */
  private plan(round: number, instructions: TrainInstructions, global: Float32Array): RoundPlan {
    const { clock, scenario, modelServer, onClientEvent } = this.engine;
    const selected = instructions.clients.filter((id) => clock.isAvailable(id, round));
    for (const clientId of selected) onClientEvent({ round, clientId, state: 'selected' });
    const broadcast = this.engine.broadcastCodec?.encode(global, new Rng(scenario.seed).fork(`broadcast:${round}`));
    modelServer.serve(round, global, broadcast, instructions.vectors);
    const { dispatch, stragglers } = clock.planRound(selected, this.engine.clientsPerRound, modelServer.modelBytes);
    for (const clientId of stragglers) onClientEvent({ round, clientId, state: 'straggler' });
    const maxSteps = new Map(dispatch.filter((d) => d.maxSteps !== undefined).map((d) => [d.clientId, d.maxSteps!]));
    return { round, instructions, rules: this.engine.aggregation.rules(round), selected, cohort: dispatch.map((d) => d.clientId), maxSteps };
  }

  /** Tasks go out through the queue; resolves once every update is in, at the round deadline, or when interrupted. */
  private async dispatchAndCollect(plan: RoundPlan, state: RoundState, collection: OpenCollection, interruption?: AbortSignal): Promise<void> {
    const { dispatcher, log, scenario } = this.engine;
    const tasks = {
      round: plan.round,
      clients: collection.abortBeforeStart === null ? plan.cohort : [],
      deadline: Date.now() + scenario.system.roundTimeoutSeconds * 1000,
      taskFor: this.taskFields(plan, collection),
      exclusive: collection.exclusive,
      wanted: state.isAwaited,
      onAssigned: (assignment: Assignment) => {
        log.debug({ round: plan.round, clientId: assignment.clientId, workerId: assignment.workerId, delivery: assignment.delivery }, 'client assigned');
        if (assignment.delivery > 1) state.redelivered += 1;
        state.grant(assignment.clientId, assignment.workerId, assignment.grant);
        collection.assigned(assignment.clientId, assignment.workerId, assignment.grant);
        state.event({ clientId: assignment.clientId, state: 'training', workerId: assignment.workerId });
      },
    };
    const undispatched = await dispatchAndWait(dispatcher, tasks, state.allIn, interruption);
    if (undispatched?.length) log.warn({ round: plan.round, clients: undispatched.length }, 'no worker took these clients before the deadline');
  }

  private taskFields(plan: RoundPlan, collection: OpenCollection): (clientId: number) => TaskFields {
    const { instructions, rules } = plan;
    // Seeds are drawn for every selected client in order, so a client's seed does not depend on who straggles.
    const seedRng = new Rng(this.engine.scenario.seed).fork(`client-seeds:${plan.round}`);
    const seeds = new Map(plan.selected.map((clientId) => [clientId, seedRng.nextUint32()]));
    const vectors = Object.keys(instructions.vectors ?? {});
    return (clientId) => {
      const config = { ...instructions.config, ...instructions.configFor?.(clientId) };
      const maxSteps = plan.maxSteps.get(clientId);
      return {
        seed: seeds.get(clientId)!,
        ...(rules.clientPrivacy ? { privacy: rules.clientPrivacy } : {}),
        ...(maxSteps !== undefined ? { maxSteps } : {}),
        ...(Object.keys(config).length > 0 ? { config } : {}),
        ...(vectors.length > 0 ? { vectors } : {}),
        ...collection.taskFields(clientId),
      };
    };
  }

  private record(plan: RoundPlan, state: RoundState, settlement: Settlement, trainLoss: number | null, strategyMetrics?: Record<string, number>): RoundMetrics {
    const { modelServer, receiver, clock, refusals, log } = this.engine;
    const refusedFrames = refusals.take();
    if (Object.keys(refusedFrames).length > 0) log.warn({ round: plan.round, refusedFrames }, 'frames refused this round (forged, stale or malformed)');
    const metrics: RoundMetrics = {
      round: plan.round,
      selected: plan.selected.length,
      selectedClients: plan.selected,
      completed: settlement.ok ? state.results.length : 0,
      dropped: settlement.dropped,
      rejected: settlement.rejected,
      trainLoss,
      testLoss: null,
      testAccuracy: null,
      testMse: null,
      wallMs: 0,
      evalMs: 0,
      clientTrainMs: state.clientTrainMs,
      bytesDown: modelServer.takeBytesSent() + settlement.extraBytesDown,
      bytesUp: receiver.takeBytesReceived() + settlement.extraBytesUp,
      workers: state.workers.size,
      redelivered: state.redelivered,
      refusedFrames,
      ...clock.finishRound(plan.round, state.trained),
      bytesTotal: 0,
      ...(settlement.secureAggregation ? { secureAggregation: settlement.secureAggregation } : {}),
      ...(strategyMetrics && Object.keys(strategyMetrics).length > 0 ? { strategy: strategyMetrics } : {}),
    };
    this.bytesTotal += metrics.bytesDown + metrics.bytesUp;
    metrics.bytesTotal = this.bytesTotal;
    return metrics;
  }

  /**
   * Only clients that were sent a task released anything; stragglers and offline clients did not.
   * An aborted secure round released nothing, but is charged as if it had: a dropout may depend
   * on a client's data (a crash on it), and over-counting ε is the safe side.
   */
  private account(plan: RoundPlan, metrics: RoundMetrics, aggregate: AggregateOutput | null): void {
    const { ledger, log } = this.engine;
    const clipNorm = aggregate ? aggregate.measurements.clipNorm : plan.rules.clientPrivacy?.clipNorm;
    if (!ledger || clipNorm === undefined) return;
    const unclippedFraction = aggregate?.measurements.unclippedFraction;
    metrics.privacy = ledger.record(plan.cohort, { clipNorm, ...(unclippedFraction !== undefined ? { unclippedFraction } : {}) });
    log.info({ round: plan.round, epsilon: metrics.privacy.epsilon, cohort: plan.cohort.length, clipNorm }, 'privacy spent');
  }
}
