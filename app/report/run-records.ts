/**
 * Reading finished (or still running, or crashed) run and comparison folders back into plain
 * data for reports and dashboards. Readers are permissive about fields, since metrics lines
 * gain fields over time and older runs lack them, but strict about syntax: a line that is not
 * a JSON object with a round number is an error naming the file and line.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isObject, num } from './record-values.js';

/** The DP accountant's state after a round; any field may be missing (older runs, no DP). */
export interface RoundPrivacy {
  epsilon: number | null;
  delta: number | null;
  conversion: string | null;
  noiseMultiplier: number | null;
  clipNorm: number | null;
  cohortSize: number | null;
  expectedClients: number | null;
  mode: string | null;
}

/**
 * One metrics.jsonl line (RoundMetrics in coordinator.ts), every field but `round` optional:
 * absent or non-numeric values read as null, so charts see gaps rather than wrong numbers.
 */
export interface RoundRecord {
  round: number;
  selected: number | null;
  completed: number | null;
  dropped: number | null;
  rejected: number | null;
  trainLoss: number | null;
  testLoss: number | null;
  testAccuracy: number | null;
  testMse: number | null;
  /** Backdoor runs: attack success rate on triggered test images (evaluated rounds). */
  attackSuccessRate: number | null;
  /** evaluation.federated rounds: the summary across clients (its numeric fields), else null. */
  federatedEvaluation: Record<string, number> | null;
  wallMs: number | null;
  evalMs: number | null;
  clientTrainMs: number | null;
  bytesDown: number | null;
  bytesUp: number | null;
  workers: number | null;
  privacy: RoundPrivacy | null;
}

export interface RunRecords {
  /** scenario.yaml parsed, or null when the file is missing. */
  scenario: unknown;
  /** summary.json, or null while the run is still going or when it crashed before writing it. */
  summary: Record<string, unknown> | null;
  /** Empty when metrics.jsonl is missing: the run failed before its first round ended. */
  rounds: RoundRecord[];
  /** reconstructions.json (the gradient-inversion grid), or null when the run has none. */
  reconstructions?: unknown;
  /** clients.jsonl's lines (federated evaluation), or null when the run has none. */
  clientEvaluations?: unknown[] | null;
}

/** One variant line of comparison.json, as written by `fedsim compare`. */
export interface ComparisonVariant {
  name: string;
  status: string;
  error: string | null;
  /** Relative to the comparison folder. */
  runDir: string | null;
  overrides: Record<string, unknown>;
  /** Sweeps with crossWith: the variant's row and column in the heatmaps. */
  cell: { row: string; column: string } | null;
  finalAccuracy: number | null;
  attackSuccessRate: number | null;
  finalMse: number | null;
  /** null: the variant ran without differential privacy (ε = ∞). */
  epsilon: number | null;
  rounds: number | null;
  /** Why the variant's run ended ('rounds completed', 'privacy budget reached', …). */
  stopReason: string | null;
  miaAuc: number | null;
  /** The curious coordinator's attack figures (comparison-table's UpdateAttacksCells), as written. */
  updateAttacks?: unknown;
  wallMs: number | null;
  bytes: number | null;
}

export interface Comparison {
  sweep: string;
  base: string;
  description: string | null;
  createdAt: string;
  delta: number | null;
  variants: ComparisonVariant[];
}

export interface ComparisonRecords {
  comparison: Comparison;
  /** Per variant, in the order of comparison.variants: its rounds, or null without a readable run folder. */
  variantRounds: (RoundRecord[] | null)[];
}

export async function readRunRecords(dir: string): Promise<RunRecords> {
  const scenarioFile = join(dir, 'scenario.yaml');
  const summaryFile = join(dir, 'summary.json');
  const metricsFile = join(dir, 'metrics.jsonl');
  const scenario = existsSync(scenarioFile) ? await readYaml(scenarioFile) : null;
  const summary = existsSync(summaryFile) ? asObject(await readJson(summaryFile), summaryFile) : null;
  const reconstructionsFile = join(dir, 'reconstructions.json');
  const reconstructions = existsSync(reconstructionsFile) ? await readJson(reconstructionsFile) : null;
  const clientsFile = join(dir, 'clients.jsonl');
  const clientEvaluations = existsSync(clientsFile) ? await readJsonLines(clientsFile) : null;
  return { scenario, summary, rounds: existsSync(metricsFile) ? await readMetrics(metricsFile) : [], reconstructions, clientEvaluations };
}

/** A JSON-lines file whose unreadable lines are skipped (a report shows what it can). */
async function readJsonLines(file: string): Promise<unknown[]> {
  return (await readFile(file, 'utf8')).split('\n').flatMap((line) => {
    try {
      return line.trim() === '' ? [] : [JSON.parse(line) as unknown];
    } catch {
      return [];
    }
  });
}

/** metrics.jsonl of a run; blank lines (a trailing newline, a hand edit) are skipped. */
export async function readMetrics(file: string): Promise<RoundRecord[]> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const rounds: RoundRecord[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${file} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${where}: not valid JSON (${(error as Error).message})`);
    }
    rounds.push(toRoundRecord(value, where));
  });
  return rounds;
}

export function toRoundRecord(value: unknown, where: string): RoundRecord {
  if (!isObject(value)) throw new Error(`${where}: expected a JSON object per round (got ${describe(value)})`);
  const round = value.round;
  if (typeof round !== 'number' || !Number.isFinite(round)) throw new Error(`${where}: missing the round number (got round: ${describe(round)})`);
  const privacy = isObject(value.privacy) ? value.privacy : null;
  return {
    round,
    selected: num(value.selected),
    completed: num(value.completed),
    dropped: num(value.dropped),
    rejected: num(value.rejected),
    trainLoss: num(value.trainLoss),
    testLoss: num(value.testLoss),
    testAccuracy: num(value.testAccuracy),
    testMse: num(value.testMse),
    attackSuccessRate: num(value.attackSuccessRate),
    federatedEvaluation: isObject(value.federatedEvaluation) ? numericFields(value.federatedEvaluation) : null,
    wallMs: num(value.wallMs),
    evalMs: num(value.evalMs),
    clientTrainMs: num(value.clientTrainMs),
    bytesDown: num(value.bytesDown),
    bytesUp: num(value.bytesUp),
    workers: num(value.workers),
    privacy: privacy && {
      epsilon: num(privacy.epsilon),
      delta: num(privacy.delta),
      conversion: str(privacy.conversion),
      noiseMultiplier: num(privacy.noiseMultiplier),
      clipNorm: num(privacy.clipNorm),
      cohortSize: num(privacy.cohortSize),
      expectedClients: num(privacy.expectedClients),
      mode: str(privacy.mode),
    },
  };
}

function numericFields(record: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).flatMap(([k, v]) => (num(v) === null ? [] : [[k, v as number]])));
}

/** comparison.json of a `fedsim compare` folder, and the rounds of each variant whose run folder is there. */
export async function readComparisonRecords(dir: string): Promise<ComparisonRecords> {
  const file = join(dir, 'comparison.json');
  const comparison = toComparison(await readJson(file), file);
  const variants = comparison.variants;
  // A failed variant may have no folder, or one without metrics (it failed before round 1).
  const variantRounds = await Promise.all(
    variants.map(async (v) => {
      const metrics = v.runDir === null ? null : join(resolve(dir, v.runDir), 'metrics.jsonl');
      return metrics !== null && existsSync(metrics) ? readMetrics(metrics) : null;
    }),
  );
  return { comparison, variantRounds };
}

/** A parsed comparison.json; `file` names it in errors. */
export function toComparison(value: unknown, file: string): Comparison {
  const raw = asObject(value, file);
  if (!Array.isArray(raw.variants)) throw new Error(`${file}: expected a "variants" list (got ${describe(raw.variants)})`);
  return {
    sweep: str(raw.sweep) ?? '',
    base: str(raw.base) ?? '',
    description: str(raw.description),
    createdAt: str(raw.createdAt) ?? '',
    delta: num(raw.delta),
    variants: raw.variants.map((v, i) => toVariant(v, `${file} variants[${i}]`)),
  };
}

function toVariant(value: unknown, where: string): ComparisonVariant {
  if (!isObject(value)) throw new Error(`${where}: expected an object (got ${describe(value)})`);
  const name = str(value.name);
  if (name === null) throw new Error(`${where}: missing the variant name`);
  return {
    name,
    status: str(value.status) ?? 'unknown',
    error: str(value.error),
    runDir: str(value.runDir),
    overrides: isObject(value.overrides) ? value.overrides : {},
    cell: cellOf(value.cell),
    finalAccuracy: num(value.finalAccuracy),
    attackSuccessRate: num(value.attackSuccessRate),
    finalMse: num(value.finalMse),
    epsilon: num(value.epsilon),
    rounds: num(value.rounds),
    stopReason: str(value.stopReason),
    miaAuc: num(value.miaAuc),
    updateAttacks: isObject(value.updateAttacks) ? value.updateAttacks : null,
    wallMs: num(value.wallMs),
    bytes: num(value.bytes),
  };
}

function cellOf(value: unknown): ComparisonVariant['cell'] {
  if (!isObject(value)) return null;
  const row = str(value.row);
  const column = str(value.column);
  return row !== null && column !== null ? { row, column } : null;
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

async function readYaml(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return parseYaml(text);
  } catch (error) {
    throw new Error(`${file}: not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
}

function asObject(value: unknown, where: string): Record<string, unknown> {
  if (!isObject(value)) throw new Error(`${where}: expected a JSON object (got ${describe(value)})`);
  return value;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : JSON.stringify(value);
}
