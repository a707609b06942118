/**
 * summary.json as a reader wants it: grouped (run, data and model, privacy, compute, cost to
 * target), labelled in words, with units and rounding. Fields are read permissively, like the
 * rest of the report: an older run lacks some, and a row without a value is left out.
 */
import { bytes, count, decimal, duration, emissions, energy, flops, percent } from './report-format.js';
import type { RoundRecord } from './run-records.js';

export interface SummarySection {
  title: string;
  rows: [label: string, value: string][];
}

type Fields = Record<string, unknown>;

/**
 * How a run ended, in one word or two. A run stopped by hand has status "completed" in
 * summary.json (it ended without error), but reads as what it was: stopped.
 */
export function runStatusText(status: unknown, stopReason: unknown): string {
  if (status !== 'completed') return typeof status === 'string' ? status : 'unknown';
  if (stopReason === 'stopped' || stopReason === 'interrupted') return stopReason;
  return typeof stopReason === 'string' && stopReason !== 'rounds completed' ? `completed (${stopReason})` : 'completed';
}

export function summarySections(summary: Fields, scenario: Fields, rounds: readonly RoundRecord[]): SummarySection[] {
  return [
    { title: 'Run', rows: runRows(summary) },
    { title: 'Data and model', rows: dataAndModelRows(summary, scenario) },
    { title: 'Privacy', rows: privacyRows(summary) },
    { title: 'Adversaries', rows: adversaryRows(summary) },
    { title: 'Compute', rows: computeRows(summary, rounds) },
    { title: 'Cost to target', rows: costToTargetRows(summary) },
  ].filter((section) => section.rows.length > 0);
}

function runRows(s: Fields): [string, string][] {
  const rows = new Rows();
  rows.add('Status', runStatusText(s.status, s.stopReason));
  const planned = num(s.roundsPlanned);
  rows.add('Rounds', num(s.roundsCompleted) !== null ? `${num(s.roundsCompleted)}${planned !== null ? ` of ${planned}` : ''}` : null);
  rows.add('Target', targetText(s));
  rows.add('Final test accuracy', maybe(num(s.finalTestAccuracy), percent));
  rows.add('Final test MSE', maybe(num(s.finalTestMse), decimal));
  rows.add('Final test loss', maybe(num(s.finalTestLoss), decimal));
  rows.add('Final test perplexity', maybe(num(s.finalTestPerplexity), decimal));
  rows.add('Final test AUC', maybe(num(s.finalTestAuc), decimal));
  rows.add('Final test RMSE', maybe(num(s.finalTestRmse), decimal));
  rows.add('Final test MAE', maybe(num(s.finalTestMae), decimal));
  rows.add('Final test hit rate at 10', maybe(num(s.finalTestHitRate10), percent));
  rows.add('Wall time', maybe(num(s.totalWallMs), duration));
  rows.add('Mean round', maybe(num(s.meanRoundMs), duration));
  rows.add('Backend', str(s.backend));
  rows.add('Transport', transportText(obj(s.transport)));
  rows.add('Workers', workersText(obj(s.workers)));
  return rows.list;
}

function targetText(s: Fields): string | null {
  const target = obj(s.target);
  const accuracy = num(target.accuracy);
  const mse = num(target.mse);
  if (accuracy === null && mse === null) return null;
  const goal = accuracy !== null ? `test accuracy ${percent(accuracy)}` : `test MSE ${decimal(mse!)}`;
  const reached = num(s.roundsToTarget);
  return `${goal}, ${reached !== null ? `reached in round ${reached}` : 'not reached'}`;
}

function transportText(t: Fields): string | null {
  const kind = str(t.kind);
  if (kind === null) return null;
  const address = str(t.address);
  const origin = str(t.origin);
  const where = address !== null && address !== kind ? ` at ${address}` : '';
  return `${kind}${where}${origin !== null && origin !== kind ? ` (${origin})` : ''}`;
}

function workersText(w: Fields): string | null {
  const n = num(w.count);
  if (n === null) return null;
  const backends = [...new Set(Object.values(obj(w.backends)).filter((b): b is string => typeof b === 'string'))];
  return `${n}${backends.length > 0 ? ` (${backends.join(', ')})` : ''}`;
}

function dataAndModelRows(s: Fields, scenario: Fields): [string, string][] {
  const rows = new Rows();
  const dataset = obj(scenario.dataset);
  const datasetName = str(dataset.name);
  rows.add('Dataset', datasetName !== null ? `${datasetName}${settingsText(dataset, ['name'])}` : null);
  const partition = obj(scenario.partition);
  const clients = num(s.clients) ?? num(partition.clients);
  const partitionKind = str(partition.kind);
  if (partitionKind !== null) rows.add('Partition', `${partitionKind} over ${clients ?? '?'} clients${settingsText(partition, ['kind', 'clients'])}`);
  else rows.add('Clients', maybe(clients, count));
  rows.add('Clients per round', maybe(num(s.clientsPerRound), count));
  const model = obj(scenario.model);
  const modelName = str(model.name);
  rows.add('Model', modelName !== null ? `${modelName}${settingsText(model, ['name'])}` : null);
  rows.add('Parameters', maybe(num(s.parameters), count));
  const training = obj(scenario.training);
  const epochs = num(training.epochs);
  if (epochs !== null) {
    const momentum = num(training.momentum);
    rows.add(
      'Local training',
      `E = ${epochs}, B = ${String(training.batchSize)}, ${str(training.optimizer) ?? 'sgd'} at learning rate ${String(training.learningRate)}${momentum !== null ? `, momentum ${momentum}` : ''}`,
    );
  }
  return rows.list;
}

/** The rest of a section's settings, as ` (alpha 0.5, minSamples 20)`. */
function settingsText(section: Fields, shown: string[]): string {
  const rest = Object.entries(section).filter(([k, v]) => !shown.includes(k) && v !== undefined && v !== null);
  if (rest.length === 0) return '';
  return ` (${rest.map(([k, v]) => `${k} ${typeof v === 'number' ? decimal(v) : Array.isArray(v) ? v.join('-') : String(v)}`).join(', ')})`;
}

function adversaryRows(s: Fields): [string, string][] {
  const rows = new Rows();
  const adversaries = obj(s.adversaries);
  const attack = str(adversaries.attack);
  if (attack !== null) {
    const clients = Array.isArray(adversaries.clients) ? adversaries.clients : [];
    rows.add('Attack', `${attack}${adversaries.colluding === true ? ', colluding' : ''}${settingsText(obj(adversaries.options), [])}`);
    rows.add('Malicious clients', `${clients.length}: ${clients.join(', ')}`);
    rows.add('Malicious updates selected', maybe(num(adversaries.selectedInRounds), count));
    rows.add('Backdoor attack success', maybe(num(adversaries.finalAttackSuccessRate), percent));
  }
  const fallbacks = obj(s.aggregationFallbacks);
  if (num(fallbacks.rounds) !== null) rows.add('Aggregator fell back', `${num(fallbacks.rounds)} rounds (${str(fallbacks.reason) ?? ''})`);
  return rows.list;
}

function privacyRows(s: Fields): [string, string][] {
  const rows = new Rows();
  const dp = obj(s.privacy);
  const dpMode = str(dp.mode);
  if (dpMode !== null) {
    rows.add('Differential privacy', `${dpMode}, ${str(dp.clipping) ?? 'fixed'} clipping`);
    const epsilon = num(dp.epsilon);
    const delta = num(dp.delta);
    const conversion = str(dp.conversion);
    rows.add(
      'ε spent',
      epsilon !== null ? `${decimal(epsilon)}${delta !== null ? ` at δ = ${delta}` : ''}${conversion !== null ? ` (${conversion} conversion)` : ''}` : null,
    );
    rows.add('ε budget', maybe(num(dp.targetEpsilon), decimal));
    rows.add('ε per release (one client, local DP)', maybe(num(dp.epsilonPerRelease), decimal));
    const z = num(dp.noiseMultiplier);
    rows.add('Noise multiplier z', z !== null ? `${decimal(z)}${dp.calibrated === true ? ' (calibrated to the budget)' : ''}` : null);
    rows.add(dp.clipping === 'adaptive' ? 'Initial clip norm' : 'Clip norm', maybe(num(dp.initialClipNorm), decimal));
    const q = num(dp.q);
    const expected = num(dp.expectedClients);
    rows.add('Sampling', q !== null ? `Poisson, q = ${decimal(q)}${expected !== null ? ` (${decimal(expected)} clients expected per round)` : ''}` : null);
  } else if (s.privacy === null) {
    rows.add('Differential privacy', 'none');
  }
  const secure = obj(s.secureAggregation);
  const secureVariant = str(secure.variant);
  if (secureVariant !== null) {
    const aborted = num(secure.aborted) ?? 0;
    rows.add(
      'Secure aggregation',
      `${secureVariant}, ${num(secure.rounds) ?? '?'} rounds, ${aborted} aborted${aborted > 0 && Array.isArray(secure.abortReasons) ? ` (${secure.abortReasons.join('; ')})` : ''}`,
    );
    const cohort = num(secure.meanCohort);
    const survivors = num(secure.meanSurvivors);
    rows.add('Mean survivors / cohort', cohort !== null && survivors !== null ? `${decimal(survivors)} / ${decimal(cohort)}` : null);
    rows.add(
      'Protocol cost',
      num(secure.protocolMs) !== null
        ? `${duration(num(secure.protocolMs)!)} wall, ${maybe(num(secure.serverMs), duration)} coordinator CPU, ${maybe(num(secure.bytes), bytes)}`
        : null,
    );
    rows.add('Refused protocol messages', maybe(num(secure.refusedMessages), count));
  }
  return rows.list;
}

function computeRows(s: Fields, rounds: readonly RoundRecord[]): [string, string][] {
  const rows = new Rows();
  const down = num(s.bytesDown) ?? sum(rounds, (r) => r.bytesDown);
  const up = num(s.bytesUp) ?? sum(rounds, (r) => r.bytesUp);
  rows.add('Bytes', `${bytes(down)} down, ${bytes(up)} up`);
  const c = obj(s.compute);
  const wasted = num(c.wastedFlops);
  rows.add('Training FLOPs', num(c.flops) !== null ? `${flops(num(c.flops)!)}${wasted ? `, of which ${flops(wasted)} wasted on discarded work` : ''}` : null);
  rows.add(
    'Simulated time',
    maybe(num(c.simulatedSeconds), (v) => duration(v * 1000)),
  );
  rows.add('Device energy', maybe(num(c.energyJoules), energy));
  rows.add('Emissions', maybe(num(c.emissionsGrams), emissions));
  rows.add('Stragglers', maybe(num(c.stragglers), count));
  rows.add('Clients dropped', maybe(num(s.clientsDropped), count));
  rows.add('Updates rejected', maybe(num(s.updatesRejected), count));
  return rows.list;
}

function costToTargetRows(s: Fields): [string, string][] {
  const cost = obj(s.costToTarget);
  const rows = new Rows();
  if (num(cost.rounds) === null) return rows.list;
  rows.add('Rounds', count(num(cost.rounds)!));
  rows.add('Wall time', maybe(num(cost.wallMs), duration));
  rows.add('Bytes', maybe(num(cost.bytes), bytes));
  rows.add('Training FLOPs', maybe(num(cost.flops), flops));
  rows.add(
    'Simulated time',
    maybe(num(cost.simulatedSeconds), (v) => duration(v * 1000)),
  );
  rows.add('Device energy', maybe(num(cost.energyJoules), energy));
  rows.add('Emissions', maybe(num(cost.emissionsGrams), emissions));
  return rows.list;
}

/** Rows of one section; a row without a value is left out rather than shown as a dash. */
class Rows {
  readonly list: [string, string][] = [];

  add(label: string, value: string | null): void {
    if (value !== null) this.list.push([label, value]);
  }
}

function maybe(value: number | null, format: (n: number) => string): string | null {
  return value === null ? null : format(value);
}

function sum(rounds: readonly RoundRecord[], get: (r: RoundRecord) => number | null): number {
  return rounds.reduce((total, r) => total + (get(r) ?? 0), 0);
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function obj(value: unknown): Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {};
}
