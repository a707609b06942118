/**
 * Federated evaluation after a round (Flower's configure_evaluate / aggregate_evaluate): the
 * strategy picks clients, their tasks go through the same queue, claims and grants as training
 * tasks, each client scores the model after the round on its own held-out samples, and the
 * strategy summarises what came back. Clients that hold nothing out, or do not answer by the
 * round deadline, are left out of the summary and counted.
 */
import type { Logger } from 'pino';
import { EVALUATED_MODEL_VECTOR } from '../../shared/protocol/messages.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import type { ClientPool, ConfigRecord, EvaluateResult, Strategy } from '../strategies/strategy.js';
import type { ModelServer } from '../transport/model-server.js';
import type { TaskDispatcher } from '../transport/task-dispatcher.js';
import type { UpdateReceiver } from '../transport/update-receiver.js';
import { dispatchAndWait } from './dispatch-and-wait.js';

export interface FederatedEvaluationEngine {
  scenario: Scenario;
  strategy: Strategy;
  pool: ClientPool;
  modelServer: ModelServer;
  receiver: UpdateReceiver;
  dispatcher: TaskDispatcher;
  /** Held-out samples per client id (0: the client cannot evaluate). */
  heldOutSizes: readonly number[];
  log: Logger;
}

export interface FederatedEvaluation {
  /** The strategy's summary (aggregateEvaluate) with how many asked clients did not answer. */
  summary: Record<string, number>;
  /** One line per client that answered, for clients.jsonl (LEAF's stat_metrics, one JSON object a line). */
  clients: ({ round: number; clientId: number; samples: number; loss: number } & Record<string, number>)[];
}

/** Null when the strategy evaluates nobody this round. */
export async function evaluateFederated(
  engine: FederatedEvaluationEngine,
  round: number,
  weights: Float32Array,
  interruption?: AbortSignal,
): Promise<FederatedEvaluation | null> {
  const instructions = engine.strategy.configureEvaluate(round, engine.pool);
  if (!instructions) return null;
  const clients = instructions.clients.filter((id) => (engine.heldOutSizes[id] ?? 0) > 0);
  engine.modelServer.addVector(EVALUATED_MODEL_VECTOR, weights);
  const results = await collect(engine, round, clients, instructions.config, interruption);
  const summary = engine.strategy.aggregateEvaluate(round, results) ?? {};
  const unanswered = clients.length - results.length;
  if (unanswered > 0) engine.log.warn({ round, asked: clients.length, unanswered }, 'federated evaluation: some clients did not answer by the deadline');
  return {
    summary: { ...summary, asked: clients.length, unanswered },
    clients: [...results]
      .sort((a, b) => a.clientId - b.clientId)
      .map(({ clientId, samples, loss, metrics }) => ({ round, clientId, samples, loss, ...metrics })),
  };
}

async function collect(
  engine: FederatedEvaluationEngine,
  round: number,
  clients: number[],
  config: ConfigRecord,
  interruption?: AbortSignal,
): Promise<EvaluateResult[]> {
  const { dispatcher, receiver, scenario } = engine;
  const awaited = new Set(clients);
  const grants = new Map<number, { workerId: string; grant: string }>();
  const results: EvaluateResult[] = [];
  let allIn!: () => void;
  const done = new Promise<void>((resolve) => (allIn = resolve));
  if (awaited.size === 0) allIn();
  receiver.openEvaluation({
    round,
    isAwaited: (id) => awaited.has(id),
    grantOf: (id) => grants.get(id),
    heldOutOf: (id) => engine.heldOutSizes[id],
    onReport: ({ clientId, samples, loss, accuracy, mse, mae, hitRate10, auc, personalized }) => {
      awaited.delete(clientId);
      results.push({ clientId, samples, loss, metrics: { ...definedOf({ accuracy, mse, mae, hitRate10, auc }), ...personalizedMetrics(personalized) } });
      dispatcher.progress();
      if (awaited.size === 0) allIn();
    },
  });
  try {
    await dispatchAndWait(
      dispatcher,
      {
        round,
        clients,
        deadline: Date.now() + scenario.system.roundTimeoutSeconds * 1000,
        evaluate: true,
        exclusive: false,
        taskFor: () => ({ seed: 0, evaluate: true, vectors: [EVALUATED_MODEL_VECTOR], ...(Object.keys(config).length > 0 ? { config } : {}) }),
        wanted: (id) => awaited.has(id),
        onAssigned: ({ clientId, workerId, grant }) => grants.set(clientId, { workerId, grant }),
      },
      done,
      interruption,
    );
  } finally {
    receiver.closeEvaluation();
  }
  return results;
}

function definedOf(values: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter((entry): entry is [string, number] => entry[1] !== undefined));
}

/** evaluation.federated.fineTuneEpochs: the fine-tuned model's figures, named apart from the global model's. */
function personalizedMetrics(personalized: { loss: number; accuracy?: number; mse?: number; mae?: number } | undefined): Record<string, number> {
  if (!personalized) return {};
  const { loss, accuracy, mse, mae } = personalized;
  return definedOf({ personalizedLoss: loss, personalizedAccuracy: accuracy, personalizedMse: mse, personalizedMae: mae });
}
