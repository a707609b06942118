/**
 * Local scale test: one coordinator, a real nats-server, 1, 2, 4 and 8 worker processes, and
 * 10,000 virtual clients of which 1,000 train per round on a small model (logistic regression on
 * MNIST, 6 images per client). Reports clients trained per second, round time, the coordinator's
 * memory, and where a round's time goes: evaluation, the clients' own training (per worker), and
 * the rest (dispatch, model pulls, update uploads, aggregation). On 2 cores, more than 2 workers
 * only share the same cores; the rows show what that costs.
 *
 *   npm run bench:scale [-- --rounds 2 --workers 1,2,4,8]
 */
import { validateScenario } from '../shared/scenario/load-scenario.js';
import { runSimulation } from '../app/run/run-simulation.js';
import type { RoundMetrics } from '../coordinator/coordinator.js';
import { report } from './report.js';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const rounds = Number(arg('--rounds') ?? 2);
const workerCounts = (arg('--workers') ?? '1,2,4,8').split(',').map(Number);

const rows: Record<string, string | number | null>[] = [];
for (const workers of workerCounts) {
  const scenario = validateScenario({
    name: 'bench-scale',
    seed: 3,
    dataset: { name: 'mnist' },
    partition: { kind: 'iid', clients: 10_000 },
    model: { name: 'logistic-regression' },
    rounds,
    clientsPerRound: 1_000,
    training: { epochs: 1, batchSize: 'all', learningRate: 0.1 },
    privacy: { membershipInference: false },
    system: { workers, backend: 'wasm', transport: 'nats', roundTimeoutSeconds: 600 },
    output: { dir: 'bench/results/runs', saveModel: false },
  });
  const collected: RoundMetrics[] = [];
  let peakRss = 0;
  let peakHeap = 0;
  const sampler = setInterval(() => {
    const memory = process.memoryUsage();
    peakRss = Math.max(peakRss, memory.rss);
    peakHeap = Math.max(peakHeap, memory.heapUsed);
  }, 100);
  const summary = await runSimulation(scenario, { logLevel: 'warn', progress: false, onRound: (m) => collected.push(m) });
  clearInterval(sampler);
  if (summary.status !== 'completed') throw new Error(`${workers} workers: run failed: ${summary.error}`);
  for (const m of collected) {
    const roundMs = m.wallMs - m.evalMs;
    const trainPerWorker = m.clientTrainMs / Math.max(m.workers, 1);
    rows.push({
      workers,
      round: m.round,
      'clients/s': m.completed / (roundMs / 1000),
      'round s': m.wallMs / 1000,
      'eval s': m.evalMs / 1000,
      'train s/worker': trainPerWorker / 1000,
      'other s': (roundMs - trainPerWorker) / 1000,
      'MB up': m.bytesUp / 1e6,
      'coord RSS MB': peakRss / 1e6,
      'coord heap MB': peakHeap / 1e6,
    });
  }
  process.stderr.write(`${workers} workers: ${summary.backend}, ${summary.transport.kind}, mean round ${(summary.meanRoundMs! / 1000).toFixed(2)} s\n`);
}
report('scale-out', rows, {
  clients: 10_000,
  perRound: 1_000,
  model: 'logistic-regression (7,850 parameters), MNIST, 6 images per client, E=1, B=all',
  definition: "clients/s = completed / (round − eval); other = round − eval − Σ clients' training / workers",
});
