/**
 * Prometheus metrics (prom-client) for the coordinator and the workers, scraped at /metrics. Each
 * process owns one registry, so tests and several servers in one process do not collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface CoordinatorMetrics {
  registry: Registry;
  rounds: Counter;
  clientsTrained: Counter;
  clientsDropped: Counter;
  updatesRejected: Counter;
  tasksRedelivered: Counter;
  bytes: Counter<'direction'>;
  roundDuration: Histogram;
  testAccuracy: Gauge<'run'>;
  epsilon: Gauge<'run'>;
  liveRuns: Gauge;
}

export function createCoordinatorMetrics(): CoordinatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fedsim_coordinator_' });
  return {
    registry,
    rounds: new Counter({ name: 'fedsim_rounds_total', help: 'Federated rounds completed', registers: [registry] }),
    clientsTrained: new Counter({ name: 'fedsim_clients_trained_total', help: 'Client updates accepted into an aggregate', registers: [registry] }),
    clientsDropped: new Counter({
      name: 'fedsim_clients_dropped_total',
      help: 'Selected clients that did not report by the round deadline',
      registers: [registry],
    }),
    updatesRejected: new Counter({ name: 'fedsim_updates_rejected_total', help: 'Client updates refused (length, non-finite, norm)', registers: [registry] }),
    tasksRedelivered: new Counter({
      name: 'fedsim_tasks_redelivered_total',
      help: 'Tasks taken again after the worker holding them died or left',
      registers: [registry],
    }),
    bytes: new Counter({ name: 'fedsim_bytes_total', help: 'Bytes of models and updates on the bus', labelNames: ['direction'], registers: [registry] }),
    roundDuration: new Histogram({
      name: 'fedsim_round_duration_seconds',
      help: 'Wall time of a round, evaluation included',
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    testAccuracy: new Gauge({
      name: 'fedsim_test_accuracy',
      help: 'Last evaluated test accuracy of the global model',
      labelNames: ['run'],
      registers: [registry],
    }),
    epsilon: new Gauge({ name: 'fedsim_privacy_epsilon', help: 'Privacy spent so far (ε at the run’s δ)', labelNames: ['run'], registers: [registry] }),
    liveRuns: new Gauge({ name: 'fedsim_live_runs', help: 'Runs in progress in this process', registers: [registry] }),
  };
}

/** What one round adds; takes the fields of a metrics.jsonl line. */
export function recordRound(
  metrics: CoordinatorMetrics,
  run: string,
  round: {
    completed: number;
    dropped: number;
    rejected: number;
    redelivered?: number;
    bytesDown: number;
    bytesUp: number;
    wallMs: number;
    testAccuracy: number | null;
    privacy?: { epsilon: number };
  },
): void {
  metrics.rounds.inc();
  metrics.clientsTrained.inc(round.completed);
  metrics.clientsDropped.inc(round.dropped);
  metrics.updatesRejected.inc(round.rejected);
  metrics.tasksRedelivered.inc(round.redelivered ?? 0);
  metrics.bytes.inc({ direction: 'down' }, round.bytesDown);
  metrics.bytes.inc({ direction: 'up' }, round.bytesUp);
  metrics.roundDuration.observe(round.wallMs / 1000);
  if (round.testAccuracy !== null) metrics.testAccuracy.set({ run }, round.testAccuracy);
  if (round.privacy && Number.isFinite(round.privacy.epsilon)) metrics.epsilon.set({ run }, round.privacy.epsilon);
}

export interface WorkerMetrics {
  registry: Registry;
  clientsTrained: Counter;
  samplesTrained: Counter;
  trainDuration: Histogram;
  modelFetches: Counter;
  runsJoined: Counter;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fedsim_worker_' });
  return {
    registry,
    clientsTrained: new Counter({ name: 'fedsim_worker_clients_trained_total', help: 'Virtual clients trained by this worker', registers: [registry] }),
    samplesTrained: new Counter({ name: 'fedsim_worker_samples_trained_total', help: 'Local training samples × epochs', registers: [registry] }),
    trainDuration: new Histogram({
      name: 'fedsim_worker_client_train_seconds',
      help: 'Local training time of one client',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    modelFetches: new Counter({ name: 'fedsim_worker_model_fetches_total', help: 'Global models fetched (once per round per worker)', registers: [registry] }),
    runsJoined: new Counter({ name: 'fedsim_worker_runs_joined_total', help: 'Runs this worker joined', registers: [registry] }),
  };
}
