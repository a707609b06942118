/**
 * Reading and validating scenario files. Every problem is reported at once, each as
 * `path: what is wrong (got X, expected Y)`, before anything starts.
 */
import { aggregationProblems, AGGREGATORS } from '../../coordinator/aggregation/registry.js';
import { STRATEGIES } from '../../coordinator/strategies/registry.js';
import { adversaryProblems, attackNameProblem } from '../../client/attacks/registry.js';
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { DataShape } from '../data/data-shape.js';
import { DATASETS, dataShapeOf, trainSamplesOf } from '../data/registry.js';
import { checkModelFitsData, layerNamesOf, parameterCountOf } from '../models/registry.js';
import { localLayerProblems } from '../models/layer-slices.js';
import { closestField, fieldsAt } from './field-suggestions.js';
import { DATASET_NAMES, MODEL_NAMES, PARTITION_KINDS, SCENARIO_SPEC, type Scenario } from './schema.js';

export class ScenarioError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
    /** What the file was meant to be, for the first line of the message. */
    kind: 'scenario' | 'sweep' = 'scenario',
  ) {
    super(`${source} is not a valid ${kind}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ScenarioError';
  }
}

export async function loadScenarioFile(path: string): Promise<Scenario> {
  return parseScenarioText(await readScenarioText(path), path);
}

/** A scenario or sweep file as text; a binary or non-UTF-8 file is refused without echoing its bytes. */
export async function readScenarioText(path: string, kind: 'scenario' | 'sweep' = 'scenario'): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ScenarioError(path, [`cannot read the file: ${(error as Error).message}`], kind);
  }
  return decodeText(bytes, path, kind);
}

/** One strict decode: the text when it is UTF-8, else a problem naming the first bad byte. */
function decodeText(bytes: Buffer, path: string, kind: 'scenario' | 'sweep'): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new ScenarioError(path, [`not a text file (a NUL byte at offset ${nul}; expected UTF-8 YAML)`], kind);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8Offset(bytes);
    throw new ScenarioError(path, [`not UTF-8 text (byte 0x${bytes[offset]!.toString(16).padStart(2, '0')} at offset ${offset}; expected UTF-8 YAML)`], kind);
  }
}

/**
 * Where the first bad sequence starts: a latin-1 "é" (0xe9) followed by ASCII is reported at the
 * 0xe9, not at the byte after it that proved it incomplete. Only runs on the error path.
 */
function firstInvalidUtf8Offset(bytes: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let sequenceStart = 0;
  for (let i = 0; i < bytes.length; i++) {
    try {
      if (decoder.decode(bytes.subarray(i, i + 1), { stream: true }) !== '') sequenceStart = i + 1;
    } catch {
      return sequenceStart;
    }
  }
  return sequenceStart; // a sequence cut off by the end of the file
}

export function parseScenarioText(text: string, source = 'scenario'): Scenario {
  return validateScenario(parseYamlText(text, source), source);
}

/**
 * The YAML document as plain data. Syntax errors are ScenarioErrors that quote the line they are
 * on with a caret under the column, since yaml's own text ends where that excerpt would start.
 */
export function parseYamlText(text: string, source: string, kind: 'scenario' | 'sweep' = 'scenario'): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    const lines = text.split(/\r?\n/);
    throw new ScenarioError(
      source,
      doc.errors.map((e) => yamlSyntaxProblem(e.message, lineCounter.linePos(e.pos[0]), lines)),
      kind,
    );
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // yaml refuses alias expansion past maxAliasCount ("billion laughs"): a bad file, not a crash.
    throw new ScenarioError(source, [`YAML aliases: ${(error as Error).message} (expected at most ${MAX_ALIAS_COUNT} alias expansions)`], kind);
  }
}

/** yaml's own default, stated: a real scenario uses a handful of aliases at most. */
const MAX_ALIAS_COUNT = 100;

function yamlSyntaxProblem(message: string, at: { line: number; col: number }, lines: readonly string[]): string {
  const reason = message.trim();
  if (lines.slice(at.line - 1).every((line) => line.trim() === '')) {
    // yaml reports what was never closed where the text ends; the last line with text is the one to look at.
    let last = lines.length - 1;
    while (last >= 0 && lines[last]!.trim() === '') last--;
    if (last < 0) return `YAML syntax: ${reason}`;
    return [`YAML syntax at the end of the file, after line ${last + 1}: ${reason}`, `      ${last + 1} | ${lines[last]}`].join('\n');
  }
  const gutter = String(at.line);
  return [
    `YAML syntax at line ${at.line}, column ${at.col}: ${reason}`,
    `      ${gutter} | ${lines[at.line - 1]}`,
    `      ${' '.repeat(gutter.length)} | ${' '.repeat(Math.max(at.col - 1, 0))}^`,
  ].join('\n');
}

/** Validates a parsed scenario object (from YAML, JSON or an API body) and fills in defaults. */
export function validateScenario(raw: unknown, source = 'scenario'): Scenario {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ScenarioError(source, [`(top level): expected a mapping of scenario fields (got ${describe(raw)})`]);
  }
  const badSections = checkDiscriminators(raw as Record<string, unknown>);
  const parsed = SCENARIO_SPEC.safeParse(raw);
  if (!parsed.success || badSections.size > 0) {
    // A section with an unknown name already has its one clear line; zod's union dump for it
    // would only repeat that less clearly.
    const issues = parsed.success ? [] : parsed.error.issues.filter((i) => !badSections.has(String(i.path[0])));
    const crossField = crossFieldProblemsOfValidSections(raw as Record<string, unknown>);
    throw new ScenarioError(source, [...badSections.values(), ...schemaProblems(issues, raw, SCENARIO_SPEC), ...crossField]);
  }
  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) throw new ScenarioError(source, problems);
  return parsed.data;
}

/** K when every round samples exactly K clients; under DP the cohort is Poisson and varies. */
function fixedClientsPerRound(s: Scenario): number | undefined {
  return s.privacy.dp ? undefined : clientsPerRound(s);
}

/** K, the number of clients sampled per round. */
export function clientsPerRound(scenario: Scenario): number {
  if (scenario.clientsPerRound !== undefined) return scenario.clientsPerRound;
  const fraction = scenario.clientFraction ?? 1;
  return Math.max(Math.round(fraction * scenario.partition.clients), 1);
}

/** Unknown dataset, partition, model, strategy or aggregator names get the list of valid ones, not a union dump. */
function checkDiscriminators(raw: Record<string, unknown>): Map<string, string> {
  const checks: [string, string, readonly string[]][] = [
    ['dataset', 'name', DATASET_NAMES],
    ['partition', 'kind', PARTITION_KINDS],
    ['model', 'name', MODEL_NAMES],
  ];
  const problems = namedPartProblems(raw);
  const attack = attackNameProblem(raw.adversaries);
  if (attack) problems.set('adversaries', attack);
  for (const [section, key, valid] of checks) {
    const block = raw[section];
    if (block === undefined) continue; // reported as missing by the schema
    if (block === null || typeof block !== 'object' || Array.isArray(block)) {
      problems.set(section, `${section}: expected a mapping (got ${describe(block)})`);
      continue;
    }
    const value = (block as Record<string, unknown>)[key];
    if (value === undefined) {
      problems.set(section, `${section}.${key}: missing (expected one of ${valid.join(', ')})`);
    } else if (typeof value !== 'string' || !valid.includes(value)) {
      problems.set(section, `${section}.${key}: unknown ${section} ${key} (got ${describe(value)}, expected one of ${valid.join(', ')})`);
    }
  }
  return problems;
}

/** `strategy:` may omit its name (FedAvg); a name given, its own or its aggregator's, must exist. */
function namedPartProblems(raw: Record<string, unknown>): Map<string, string> {
  const problems = new Map<string, string>();
  const strategy = raw.strategy;
  if (strategy === null || typeof strategy !== 'object' || Array.isArray(strategy)) return problems;
  const { name, aggregator } = strategy as Record<string, unknown>;
  if (name !== undefined && (typeof name !== 'string' || !STRATEGIES.has(name))) {
    problems.set('strategy', `strategy.name: unknown strategy (got ${describe(name)}, expected one of ${STRATEGIES.names().join(', ')})`);
  }
  const aggregatorName = aggregator !== null && typeof aggregator === 'object' ? (aggregator as Record<string, unknown>).name : undefined;
  if (aggregatorName !== undefined && (typeof aggregatorName !== 'string' || !AGGREGATORS.has(aggregatorName))) {
    problems.set(
      'strategy',
      `strategy.aggregator.name: unknown aggregator (got ${describe(aggregatorName)}, expected one of ${AGGREGATORS.names().join(', ')})`,
    );
  }
  return problems;
}

/**
 * The cross-field checks, run even when other parts of the file are broken, as long as the
 * sections they compare are valid on their own: so one pass lists every problem.
 */
function crossFieldProblemsOfValidSections(raw: Record<string, unknown>): string[] {
  const compared = [
    'dataset',
    'partition',
    'model',
    'evaluation',
    'clientsPerRound',
    'clientFraction',
    'privacy',
    'system',
    'compression',
    'adversaries',
    'seed',
  ] as const;
  const sections: Record<string, unknown> = {};
  for (const key of compared) {
    const section = SCENARIO_SPEC.shape[key].safeParse(raw[key]);
    if (!section.success) return [];
    sections[key] = section.data;
  }
  return crossFieldProblems(sections as Scenario);
}

/**
 * A run holds several copies of the model at once (global model, update, aggregate, optimizer
 * state): a model too large for the budget would fail mid-run, or hang allocating.
 */
const MODEL_COPIES_HELD = 4;

function modelMemoryProblems(s: Scenario, shape: DataShape): string[] {
  const count = parameterCountOf(s.model, shape);
  if (count === undefined) return [];
  const mebibytes = (count * 4 * MODEL_COPIES_HELD) / 2 ** 20;
  if (mebibytes <= s.system.aggregationMemoryMB) return [];
  const sizeField = sizeFieldOf(s);
  return [
    `${sizeField.path}: too large for the memory budget (got ${sizeField.value}${count.toExponential(3)} parameters, ${MODEL_COPIES_HELD} float32 copies = ${mebibytes.toFixed(0)} MiB, expected at most system.aggregationMemoryMB = ${s.system.aggregationMemoryMB} MiB: fewer or smaller layers, or a larger budget)`,
  ];
}

/** The field that made the model this big: the hidden layers where given, else the data's features. */
function sizeFieldOf(s: Scenario): { path: string; value: string } {
  if (s.model.name === 'mlp' && s.model.hidden !== undefined) return { path: 'model.hidden', value: `[${s.model.hidden.join(', ')}], i.e. ` };
  if (s.dataset.name === 'synthetic') return { path: 'dataset.featureSize', value: `${s.dataset.featureSize} for model ${s.model.name}, i.e. ` };
  return { path: 'model', value: '' };
}

/** Data generated per client (synthetic) has no sample count to check against; this bounds it. */
const MAX_CLIENTS = 10_000_000;

/** Every client needs a sample; the partitioner would say so only after the data is loaded. */
function clientSampleProblems(s: Scenario): string[] {
  if (s.partition.clients > MAX_CLIENTS) {
    return [`partition.clients: too large (got ${s.partition.clients}, expected ≤ ${MAX_CLIENTS}: the coordinator keeps a record per client)`];
  }
  const samples = trainSamplesOf(s.dataset);
  if (samples === undefined || s.partition.clients <= samples) return [];
  const limit = s.dataset.name === 'mnist' && s.dataset.trainLimit !== undefined ? ' (dataset.trainLimit)' : '';
  return [
    `partition.clients: more clients than training samples (got ${s.partition.clients}, expected at most ${samples}, the training samples of ${s.dataset.name}${limit})`,
  ];
}

function crossFieldProblems(s: Scenario): string[] {
  const problems: string[] = [];
  if (s.clientsPerRound !== undefined && s.clientFraction !== undefined) {
    problems.push(`clientsPerRound: give either clientsPerRound or clientFraction, not both (got ${s.clientsPerRound} and ${s.clientFraction})`);
  }
  if (s.clientsPerRound === undefined && s.clientFraction === undefined) {
    problems.push('clientsPerRound: missing (expected clientsPerRound: K or clientFraction: C)');
  }
  if (s.clientsPerRound !== undefined && s.clientsPerRound > s.partition.clients) {
    problems.push(`clientsPerRound: more than there are clients (got ${s.clientsPerRound}, expected at most partition.clients = ${s.partition.clients})`);
  }
  problems.push(...clientSampleProblems(s));
  const evaluating = s.evaluation.federated?.clients;
  if (evaluating !== undefined && evaluating > s.partition.clients) {
    problems.push(`evaluation.federated.clients: more than there are clients (got ${evaluating}, expected at most partition.clients = ${s.partition.clients})`);
  }
  const shape = dataShapeOf(s.dataset, { clients: s.partition.clients });
  problems.push(...modelMemoryProblems(s, shape));
  if (shape.task === 'regression') {
    if (s.evaluation.targetAccuracy !== undefined) {
      problems.push(
        `evaluation.targetAccuracy: ${s.dataset.name} is a regression dataset (got ${s.evaluation.targetAccuracy}, expected evaluation.targetMse instead)`,
      );
    }
    if (s.partition.kind === 'dirichlet' || s.partition.kind === 'shards') {
      problems.push(`partition.kind: '${s.partition.kind}' splits by label and needs a classification dataset (got regression dataset ${s.dataset.name})`);
    }
  } else if (s.evaluation.targetMse !== undefined) {
    problems.push(
      `evaluation.targetMse: ${s.dataset.name} is a classification dataset (got ${s.evaluation.targetMse}, expected evaluation.targetAccuracy instead)`,
    );
  }
  if (s.partition.kind === 'natural' && !DATASETS.get(s.dataset.name).comesFederated) {
    const federated = DATASETS.entries()
      .filter((d) => d.comesFederated)
      .map((d) => d.name);
    problems.push(
      `partition.kind: 'natural' needs a dataset that comes federated (got ${s.dataset.name}, expected ${federated.length > 1 ? `${federated.slice(0, -1).join(', ')} or ${federated.at(-1)}` : federated[0]})`,
    );
  }
  problems.push(...checkModelFitsData(s.model, shape, s.dataset.name));
  if (s.strategy?.localLayers) problems.push(...localLayerProblems(s.strategy.localLayers, layerNamesOf(s.model)));
  problems.push(...dpProblems(s));
  problems.push(...computeProblems(s));
  problems.push(...secureAggregationProblems(s));
  problems.push(...updateAttackProblems(s));
  problems.push(...aggregationProblems(s, fixedClientsPerRound(s)));
  // Only once the strategy block itself is valid (its aggregator defaulted): a broken one is reported elsewhere.
  if (s.strategy?.aggregator && STRATEGIES.has(s.strategy.name)) problems.push(...(STRATEGIES.get(s.strategy.name).combinationProblems?.(s) ?? []));
  problems.push(...adversaryProblems({ adversaries: s.adversaries, seed: s.seed, population: s.partition.clients, shape, dataset: s.dataset.name }));
  return problems;
}

function updateAttackProblems(s: Scenario): string[] {
  const late = s.privacy.updateAttacks?.rounds?.filter((r) => r > s.rounds) ?? [];
  return late.length > 0 ? [`privacy.updateAttacks.rounds: past the last round (got ${late.join(', ')}, expected rounds from 1 to ${s.rounds})`] : [];
}

/**
 * What secure aggregation can be combined with. The coordinator sees only the survivors' sum, in
 * Z_2^32, of updates weighted equally; whatever needs one update, changes the vector after
 * masking, or weights clients differently cannot work with it.
 */
function secureAggregationProblems(s: Scenario): string[] {
  const secure = s.privacy?.secureAggregation;
  if (!secure) return [];
  const problems: string[] = [];
  const dp = s.privacy.dp;
  const update = s.compression?.update ?? [];
  if (update.length > 0) {
    problems.push(
      `compression.update: the pairwise masks cover every coordinate of the full vector and cancel only in the exact mod-2^32 sum, so a codec (which would have to act on the masked words) destroys the sum (got ${update.map((c) => c.codec).join(' → ')} with privacy.secureAggregation, expected no update compression)`,
    );
  }
  if (dp?.mode === 'local') {
    problems.push(
      "privacy.dp.mode: local noise is pointless under secure aggregation: the coordinator sees only the sum, and central noise on that sum protects as much with far less noise (got 'local' with privacy.secureAggregation, expected 'central')",
    );
  }
  const policy = s.system?.stragglers?.policy ?? 'wait-all';
  if (policy === 'partial-work') {
    problems.push(
      "system.stragglers.policy: partial-work weights each update by the steps it did, but secure aggregation sums updates with equal weight (got 'partial-work' with privacy.secureAggregation, expected wait-all, deadline or over-select)",
    );
  }
  const maxUpdateNorm = s.strategy?.maxUpdateNorm;
  if (maxUpdateNorm !== undefined) {
    problems.push(
      `strategy.maxUpdateNorm: under secure aggregation the coordinator never sees an update, so it cannot check one's norm; clients clip to privacy.secureAggregation.clipNorm instead (got ${maxUpdateNorm}, expected no maxUpdateNorm)`,
    );
  }
  if (secure.clipNorm === undefined && !dp) {
    problems.push(
      'privacy.secureAggregation.clipNorm: missing (expected c > 0, the range [−c, c] every coordinate of an update is clipped to before fixed-point encoding; with privacy.dp it defaults to privacy.dp.clipNorm)',
    );
  }
  if (s.partition && (s.clientsPerRound !== undefined || s.clientFraction !== undefined)) {
    const cohort = clientsPerRound(s);
    if (cohort < 2) {
      problems.push(
        `clientsPerRound: secure aggregation of one client's update would hand that update to the coordinator (got a cohort of ${cohort}, expected ≥ 2)`,
      );
    }
    // Poisson sampling (DP) may draw anyone: the sum must not wrap even for the whole population.
    const largest = dp ? s.partition.clients : cohort;
    const headroom = largest <= 1 ? 0 : Math.ceil(Math.log2(largest) - 1e-12);
    if (secure.bits !== undefined && secure.bits + headroom > 32) {
      problems.push(
        `privacy.secureAggregation.bits: the sum of up to ${largest} clients needs ${headroom} more bits in the 2^32 modulus (got ${secure.bits}, expected at most ${32 - headroom})`,
      );
    }
  }
  return problems;
}

function computeProblems(s: Scenario): string[] {
  const problems: string[] = [];
  const policy = s.system?.stragglers?.policy ?? 'wait-all';
  if (policy !== 'wait-all' && !s.system?.devices) {
    problems.push(`system.stragglers.policy: '${policy}' acts on simulated device time (got no system.devices, expected a device population)`);
  }
  if (s.privacy?.dp && (s.compression?.update.length ?? 0) > 0) {
    problems.push(
      `compression.update: lossy update codecs change a clipped update after clipping, so its norm (and DP's sensitivity) is no longer bounded by clipNorm (got ${s.compression.update.map((c) => c.codec).join(' → ')} with privacy.dp, expected no update compression with DP)`,
    );
  }
  return problems;
}

function dpProblems(s: Scenario): string[] {
  const dp = s.privacy?.dp;
  if (!dp) return [];
  const problems: string[] = [];
  if (dp.calibrate && dp.targetEpsilon === undefined) {
    problems.push('privacy.dp.calibrate: calibrating the noise needs a budget (got calibrate: true without targetEpsilon, expected privacy.dp.targetEpsilon)');
  }
  if (dp.calibrate && dp.noiseMultiplier !== undefined) {
    problems.push(`privacy.dp.noiseMultiplier: calibrate: true chooses it (got ${dp.noiseMultiplier}, expected no noiseMultiplier, or calibrate: false)`);
  }
  if (!dp.calibrate && dp.noiseMultiplier === undefined) {
    problems.push('privacy.dp.noiseMultiplier: missing (expected a number ≥ 0, or calibrate: true with targetEpsilon)');
  }
  if (dp.mode === 'local' && dp.clipping === 'adaptive') {
    problems.push(
      "privacy.dp.clipping: adaptive clipping needs a trusted aggregator for its noised count (got 'adaptive' with mode 'local', expected 'fixed')",
    );
  }
  if (dp.mode === 'local' && dp.noiseMultiplier === 0) {
    problems.push('privacy.dp.noiseMultiplier: local DP with no noise protects nothing (got 0, expected > 0)');
  }
  return problems;
}

/**
 * zod's issues as `path: what is wrong (got X, expected Y)` lines. An unknown key that is a slip
 * for an allowed one says which; when that field is then missing, the one slip is one line, not
 * an "unknown field" and a "missing" line.
 */
export function schemaProblems(issues: readonly z.core.$ZodIssue[], raw: unknown, schema: z.core.$ZodType): string[] {
  const suggestions = issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return [];
    const fields = fieldsAt(schema, issue.path, raw);
    return issue.keys.map((key) => ({ issue, key, fields, suggestion: closestField(key, fields) }));
  });
  const coveredMissing = new Set(
    suggestions
      .filter((u) => u.suggestion !== null && valueAt(raw, [...u.issue.path, u.suggestion]) === undefined)
      .map((u) => pathText([...u.issue.path, u.suggestion!])),
  );
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys')
      return suggestions.filter((u) => u.issue === issue).map((u) => unknownKeyProblem(u.issue.path, u.key, u.suggestion, u.fields, raw));
    if (issue.code === 'invalid_type' && valueAt(raw, issue.path) === undefined && coveredMissing.has(pathText(issue.path))) return [];
    return formatIssue(issue, raw);
  });
}

function unknownKeyProblem(path: readonly PropertyKey[], key: string, suggestion: string | null, fields: readonly string[], raw: unknown): string {
  const where = pathText([...path, key]);
  const got = describe(valueAt(raw, [...path, key]));
  if (suggestion !== null) return `${where}: unknown field, did you mean ${suggestion}? (got ${got})`;
  return `${where}: unknown field (got ${got}${fields.length > 0 ? `, expected one of ${fields.join(', ')}` : ''})`;
}

function pathText(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

function formatIssue(issue: z.core.$ZodIssue, raw: unknown): string[] {
  const path = issue.path.length > 0 ? pathText(issue.path) : '(top level)';
  const got = valueAt(raw, issue.path);
  switch (issue.code) {
    case 'invalid_type':
      if (got === undefined) return [`${path}: missing (expected ${issue.expected})`];
      return [`${path}: wrong type (got ${describe(got)}, expected ${issue.expected === 'int' ? 'a whole number' : issue.expected})`];
    case 'invalid_value':
      return [`${path}: not an allowed value (got ${describe(got)}, expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')})`];
    case 'too_small':
      return [
        `${path}: too small (got ${describe(got)}, expected ${issue.inclusive === false ? '>' : '≥'} ${String(issue.minimum)}${issue.origin === 'array' ? ' items' : ''})`,
      ];
    case 'too_big':
      if (issue.origin === 'string' && typeof got === 'string') {
        return [`${path}: too long (got ${got.length} characters, expected ≤ ${String(issue.maximum)})`];
      }
      return [`${path}: too large (got ${describe(got)}, expected ${issue.inclusive === false ? '<' : '≤'} ${String(issue.maximum)})`];
    case 'invalid_format':
      return [`${path}: ${issue.message} (got ${describe(got)})`];
    default:
      return [`${path}: ${issue.message.replace(/^Invalid input: /, '')} (got ${describe(got)})`];
  }
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = raw;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** Long values are cut: an error message must not echo a megabyte of the file back. */
const SHOWN_CHARACTERS = 60;
const SHOWN_ITEMS = 8;

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    if (value.length <= SHOWN_CHARACTERS) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, SHOWN_CHARACTERS))}… (${value.length} characters)`;
  }
  if (Array.isArray(value)) {
    if (value.length <= SHOWN_ITEMS) return `[${value.map(describe).join(', ')}]`;
    return `[${value.slice(0, SHOWN_ITEMS).map(describe).join(', ')}, … (${value.length} items)]`;
  }
  if (value !== null && typeof value === 'object') return 'a mapping';
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  // A function or a symbol: YAML and JSON give neither, but name the kind rather than print it.
  return typeof value;
}
