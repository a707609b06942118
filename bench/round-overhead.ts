/**
 * Round overhead: how much of a round's wall time is not client training. For each round,
 * ideal = Σ clients' training ms / workers (perfect spreading, zero transport cost), and
 * overhead = (wall − evaluation − ideal) / (wall − evaluation). Runs the paper's MNIST settings
 * over a private nats-server with one worker process per core.
 *
 *   npm run bench:rounds [-- --rounds 2 --only cnn]
 */
import { availableParallelism } from 'node:os';
import { runSimulation } from '../app/run/run-simulation.js';
import { loadScenarioFile } from '../shared/scenario/load-scenario.js';
import { report } from './report.js';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const rounds = Number(arg('--rounds') ?? 3);
const only = arg('--only');
const workers = availableParallelism();
const allCases: [label: string, file: string][] = [
  ['2nn', 'scenarios/mnist-2nn-iid.yaml'],
  ['cnn', 'scenarios/mnist-cnn-iid.yaml'],
];
const cases = allCases.filter(([label]) => !only || label === only);

const rows: Record<string, string | number | null>[] = [];
for (const [label, file] of cases) {
  const scenario = await loadScenarioFile(file);
  scenario.rounds = rounds;
  scenario.evaluation.targetAccuracy = undefined;
  scenario.output.dir = 'bench/results/runs';
  scenario.system.workers = workers;
  const collected: { round: number; wallMs: number; evalMs: number; clientTrainMs: number; workers: number }[] = [];
  const summary = await runSimulation(scenario, { logLevel: 'warn', progress: false, onRound: (m) => collected.push(m) });
  if (summary.status !== 'completed') throw new Error(`${label} run failed: ${summary.error}`);
  for (const m of collected) {
    const roundMs = m.wallMs - m.evalMs;
    const ideal = m.clientTrainMs / m.workers;
    rows.push({
      model: label,
      round: m.round,
      workers: m.workers,
      'wall s': m.wallMs / 1000,
      'eval s': m.evalMs / 1000,
      'train s/worker': ideal / 1000,
      'overhead s': (roundMs - ideal) / 1000,
      'overhead %': ((roundMs - ideal) / roundMs) * 100,
    });
  }
  process.stderr.write(`${label}: ${summary.backend}, ${summary.transport.kind}\n`);
}
report('round-overhead', rows, { rounds, workers, definition: 'overhead = (wall − eval − Σ client train / workers) / (wall − eval)' });
