/**
 * The comparison's rows, written three ways: comparison.json (for `fedsim report` and scripts),
 * comparison.csv (for spreadsheets and pandas) and comparison.md (for people and notes).
 */
import type { RunSummary } from '../run/run-simulation.js';
import { updateAttacksCells, updateAttacksOfSummary, type UpdateAttacksCells } from './update-attacks-columns.js';

export interface ComparisonRow {
  name: string;
  /** `not run`: the sweep was interrupted (Ctrl-C) before this variant started. */
  status: 'completed' | 'failed' | 'interrupted' | 'not run';
  error?: string;
  /** The variant's run folder, relative to the comparison folder. */
  runDir?: string;
  overrides: Record<string, unknown>;
  /** Sweeps with crossWith: the row (e.g. attack) and column (e.g. defence) of the heatmaps. */
  cell?: { row: string; column: string };
  finalAccuracy: number | null;
  /** Backdoor runs: the final model's attack success rate on triggered test images. */
  attackSuccessRate?: number | null;
  finalMse: number | null;
  /** ε at the variant's δ (null without DP). */
  epsilon: number | null;
  delta: number | null;
  conversion: string | null;
  noiseMultiplier: number | null;
  rounds: number;
  stopReason: string | null;
  /** AUC of the loss-threshold membership-inference attack. */
  miaAuc: number | null;
  miaTprAt1PctFpr: number | null;
  /** A curious coordinator's attacks on individual updates (privacy.updateAttacks), or why they had nothing to attack. */
  updateAttacks: UpdateAttacksCells | null;
  wallMs: number;
  bytes: number;
  flops: number | null;
  /** Simulated federation time, device energy and emissions (scenarios with system.devices). */
  simulatedSeconds: number | null;
  energyJoules: number | null;
  emissionsGrams: number | null;
  stragglers: number | null;
  /** Cost to reach the scenario's target (null when not reached or no target). */
  roundsToTarget: number | null;
  toTarget: { bytes: number; flops: number | null; simulatedSeconds: number | null; energyJoules: number | null } | null;
  /** evaluation.federated: the last evaluation's accuracy across clients (weighted, mean, p10, worst). */
  /** `fineTuned*`: the same clients after fine-tuning (evaluation.federated.fineTuneEpochs). */
  clientAccuracy?: { weighted: number; mean: number; p10: number; worst: number; fineTunedMean?: number; fineTunedWorst?: number } | null;
}

export function rowOf(name: string, overrides: Record<string, unknown>, runDir: string, summary: RunSummary, cell?: ComparisonRow['cell']): ComparisonRow {
  const lossAttack = summary.membershipInference?.attacks.find((a) => a.attack === 'loss-threshold');
  return {
    name,
    status: summary.status,
    ...(summary.error ? { error: summary.error } : {}),
    runDir,
    overrides,
    ...(cell ? { cell } : {}),
    finalAccuracy: summary.finalTestAccuracy,
    attackSuccessRate: summary.adversaries?.finalAttackSuccessRate ?? null,
    finalMse: summary.finalTestMse,
    epsilon: summary.privacy?.epsilon ?? null,
    delta: summary.privacy?.delta ?? null,
    conversion: summary.privacy?.conversion ?? null,
    noiseMultiplier: summary.privacy?.noiseMultiplier ?? null,
    rounds: summary.roundsCompleted,
    stopReason: summary.stopReason ?? null,
    miaAuc: lossAttack?.auc ?? null,
    miaTprAt1PctFpr: lossAttack?.tprAt1PctFpr ?? null,
    updateAttacks: updateAttacksOfSummary(summary),
    wallMs: summary.totalWallMs,
    bytes: summary.bytesDown + summary.bytesUp,
    flops: summary.compute.flops,
    simulatedSeconds: summary.compute.simulatedSeconds,
    energyJoules: summary.compute.energyJoules,
    emissionsGrams: summary.compute.emissionsGrams,
    stragglers: summary.compute.stragglers,
    roundsToTarget: summary.roundsToTarget,
    clientAccuracy: clientAccuracyOf(summary),
    toTarget: summary.costToTarget
      ? {
          bytes: summary.costToTarget.bytes,
          flops: summary.costToTarget.flops,
          simulatedSeconds: summary.costToTarget.simulatedSeconds,
          energyJoules: summary.costToTarget.energyJoules,
        }
      : null,
  };
}

function clientAccuracyOf(summary: RunSummary): ComparisonRow['clientAccuracy'] {
  const f = summary.federatedEvaluation;
  if (f?.accuracy === undefined) return null;
  const fineTuned = f.personalizedAccuracyMean !== undefined ? { fineTunedMean: f.personalizedAccuracyMean, fineTunedWorst: f.personalizedAccuracyWorst! } : {};
  return { weighted: f.accuracy, mean: f.accuracyMean!, p10: f.accuracyP10!, worst: f.accuracyWorst!, ...fineTuned };
}

export function failedRow(
  name: string,
  overrides: Record<string, unknown>,
  error: string,
  status: 'failed' | 'interrupted' | 'not run' = 'failed',
): ComparisonRow {
  return {
    name,
    status,
    error,
    overrides,
    finalAccuracy: null,
    finalMse: null,
    epsilon: null,
    delta: null,
    conversion: null,
    noiseMultiplier: null,
    rounds: 0,
    stopReason: null,
    miaAuc: null,
    miaTprAt1PctFpr: null,
    updateAttacks: null,
    wallMs: 0,
    bytes: 0,
    flops: null,
    simulatedSeconds: null,
    energyJoules: null,
    emissionsGrams: null,
    stragglers: null,
    roundsToTarget: null,
    toTarget: null,
  };
}

const CSV_COLUMNS: (keyof ComparisonRow)[] = [
  'name',
  'status',
  'finalAccuracy',
  'finalMse',
  'attackSuccessRate',
  'epsilon',
  'delta',
  'conversion',
  'noiseMultiplier',
  'rounds',
  'stopReason',
  'miaAuc',
  'miaTprAt1PctFpr',
  'updateAttacks',
  'wallMs',
  'bytes',
  'flops',
  'simulatedSeconds',
  'energyJoules',
  'emissionsGrams',
  'stragglers',
  'roundsToTarget',
  'toTarget',
  'clientAccuracy',
  'error',
];

export function comparisonCsv(rows: readonly ComparisonRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) lines.push(CSV_COLUMNS.map((column) => csvField(row[column])).join(','));
  return `${lines.join('\n')}\n`;
}

function csvField(value: ComparisonRow[keyof ComparisonRow]): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** evaluation.federated: how the final model does across clients, each client counted once. */
function clientAccuracyTable(rows: readonly ComparisonRow[]): string[] {
  if (!rows.some((r) => r.clientAccuracy)) return [];
  const percent = (v: number | undefined) => (v === undefined ? '–' : `${(v * 100).toFixed(1)}%`);
  const fineTuned = rows.some((r) => r.clientAccuracy?.fineTunedMean !== undefined);
  return [
    '',
    `| variant | client accuracy (weighted) | mean client | 10th percentile | worst client |${fineTuned ? ' fine-tuned mean | fine-tuned worst |' : ''}`,
    `|---|---:|---:|---:|---:|${fineTuned ? '---:|---:|' : ''}`,
    ...rows.map((r) => {
      const c = r.clientAccuracy ?? undefined;
      const tuned = fineTuned ? ` ${percent(c?.fineTunedMean)} | ${percent(c?.fineTunedWorst)} |` : '';
      return `| ${r.name} | ${percent(c?.weighted)} | ${percent(c?.mean)} | ${percent(c?.p10)} | ${percent(c?.worst)} |${tuned}`;
    }),
  ];
}

export function comparisonMarkdown(sweep: string, rows: readonly ComparisonRow[]): string {
  const header = '| variant | final accuracy | ε (δ) | rounds | MIA AUC | wall time | bytes |';
  const lines = [`# ${sweep}`, '', header, '|---|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    const quality = r.finalAccuracy !== null ? `${(r.finalAccuracy * 100).toFixed(2)}%` : r.finalMse !== null ? `MSE ${r.finalMse.toFixed(3)}` : '–';
    const epsilon = r.epsilon !== null ? `${r.epsilon.toFixed(2)} (δ = ${formatDelta(r.delta)})` : r.status === 'completed' ? '∞ (no DP)' : '–';
    const name = r.status === 'completed' ? r.name : `${r.name} — **${r.status}**: ${escapeCell(r.error ?? 'unknown error')}`;
    const rounds = r.stopReason && r.stopReason !== 'rounds completed' ? `${r.rounds} (${r.stopReason})` : String(r.rounds);
    lines.push(
      `| ${name} | ${quality} | ${epsilon} | ${rounds} | ${r.miaAuc !== null ? r.miaAuc.toFixed(3) : '–'} | ${(r.wallMs / 1000).toFixed(1)} s | ${formatBytes(r.bytes)} |`,
    );
  }
  if (rows.some((r) => r.simulatedSeconds !== null || r.toTarget !== null)) {
    lines.push(
      '',
      '| variant | rounds to target | bytes to target | simulated time | to target | energy | to target | CO2e | stragglers | FLOPs |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const r of rows) {
      const t = r.toTarget;
      lines.push(
        `| ${r.name} | ${r.roundsToTarget ?? '–'} | ${t ? formatBytes(t.bytes) : '–'} | ${formatSeconds(r.simulatedSeconds)} | ${formatSeconds(t?.simulatedSeconds ?? null)} | ${formatJoules(r.energyJoules)} | ${formatJoules(t?.energyJoules ?? null)} | ${r.emissionsGrams !== null ? `${r.emissionsGrams.toPrecision(3)} g` : '–'} | ${r.stragglers ?? '–'} | ${r.flops !== null ? r.flops.toExponential(2) : '–'} |`,
      );
    }
  }
  lines.push(...clientAccuracyTable(rows));
  lines.push(...updateAttacksCells(rows));
  lines.push(...crossTables(rows));
  const conversions = [...new Set(rows.map((r) => r.conversion).filter(Boolean))];
  if (conversions.length > 0)
    lines.push(
      '',
      `ε from the RDP accountant, ${conversions.join(' / ')} conversion; MIA AUC of the loss-threshold attack on the final model (0.5 = no leakage measured).`,
    );
  return `${lines.join('\n')}\n`;
}

/** Sweeps with crossWith: final accuracy (and, where a backdoor ran, attack success rate) as row × column tables. */
function crossTables(rows: readonly ComparisonRow[]): string[] {
  const cells = rows.filter((r) => r.cell);
  if (cells.length === 0) return [];
  const names = (pick: (c: { row: string; column: string }) => string) => [...new Set(cells.map((r) => pick(r.cell!)))];
  const [rowNames, columnNames] = [names((c) => c.row), names((c) => c.column)];
  const table = (title: string, value: (r: ComparisonRow) => number | null | undefined) => {
    const lines = ['', `**${title}**`, '', `| | ${columnNames.join(' | ')} |`, `|---|${columnNames.map(() => '---:').join('|')}|`];
    for (const rowName of rowNames) {
      const values = columnNames.map((column) => {
        const v = cells.find((r) => r.cell!.row === rowName && r.cell!.column === column);
        const x = v ? value(v) : null;
        return x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`;
      });
      lines.push(`| ${rowName} | ${values.join(' | ')} |`);
    }
    return lines;
  };
  const out = table('Final accuracy', (r) => r.finalAccuracy);
  if (cells.some((r) => r.attackSuccessRate !== null && r.attackSuccessRate !== undefined))
    out.push(...table('Attack success rate (backdoor)', (r) => r.attackSuccessRate));
  return out;
}

function formatSeconds(seconds: number | null): string {
  if (seconds === null) return '–';
  return seconds >= 3600 ? `${(seconds / 3600).toFixed(2)} h` : seconds >= 60 ? `${(seconds / 60).toFixed(1)} min` : `${seconds.toFixed(1)} s`;
}

function formatJoules(joules: number | null): string {
  if (joules === null) return '–';
  return joules >= 3.6e6 ? `${(joules / 3.6e6).toFixed(2)} kWh` : joules >= 1000 ? `${(joules / 1000).toFixed(1)} kJ` : `${joules.toFixed(0)} J`;
}

function formatDelta(delta: number | null): string {
  if (delta === null) return '?';
  return delta < 1e-3 ? delta.toExponential(0) : String(delta);
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, '; ');
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}
