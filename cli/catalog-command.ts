/**
 * `fedsim models`, `fedsim datasets`, `fedsim partitioners`, `fedsim strategies`, `fedsim aggregators`, `fedsim attacks`: what the registries hold, each
 * entry with its description and the scenario options its schema fragment allows (defaults
 * included), read from the registries themselves so the listing cannot drift from the code.
 * Models also show their parameter count on the dataset each suits. Any registry whose entries
 * carry a zod object schema can be listed: one more command is one more line in catalogCommands.
 */
import { Command } from 'commander';
import type { z } from 'zod';
import { ATTACKS } from '../client/attacks/registry.js';
import { AGGREGATORS } from '../coordinator/aggregation/registry.js';
import { STRATEGIES } from '../coordinator/strategies/registry.js';
import { DATASETS } from '../shared/data/registry.js';
import { MODELS } from '../shared/models/registry.js';
import { PARTITIONERS } from '../shared/partition/registry.js';
import type { Registry, RegistryEntry } from '../shared/registry/registry.js';

export interface CatalogEntry extends RegistryEntry {
  readonly schema: z.ZodObject;
}

export interface CatalogOption {
  name: string;
  type: string;
  required: boolean;
  /** Absent when the option has no default. */
  default?: unknown;
}

export interface CatalogRow {
  name: string;
  description: string;
  options: CatalogOption[];
  /** Models: parameters when built with their default options on the dataset they suit. */
  parameters?: { dataset: string; count: number };
  /** Models: their layers' names, as strategy.localLayers names them. */
  layers?: string[];
  /** Models: the same count for each preset. */
  presetParameters?: { preset: string; count: number; dataset?: string }[];
}

/** Every entry of one registry, listed by `fedsim <command>`. */
export interface Catalog {
  command: string;
  summary: string;
  registry: Registry<CatalogEntry>;
  /** Figures that cost more than reading the registry (building models), added when listing. */
  extend?: (rows: CatalogRow[]) => Promise<CatalogRow[]>;
}

export function catalogCommands(): Command[] {
  return [
    catalogCommand({
      command: 'models',
      summary: 'list the models a scenario can name (model.name), their options and parameter counts',
      registry: MODELS,
      extend: withParameterCounts,
    }),
    catalogCommand({ command: 'datasets', summary: 'list the datasets a scenario can name (dataset.name) and their options', registry: DATASETS }),
    catalogCommand({ command: 'partitioners', summary: 'list the partitions a scenario can name (partition.kind) and their options', registry: PARTITIONERS }),
    catalogCommand({ command: 'strategies', summary: 'list the strategies a scenario can name (strategy.name) and their options', registry: STRATEGIES }),
    catalogCommand({
      command: 'aggregators',
      summary: 'list the aggregators a scenario can name (strategy.aggregator.name) and their options',
      registry: AGGREGATORS,
    }),
    catalogCommand({
      command: 'attacks',
      summary: "list the attacks a scenario's malicious clients can run (adversaries.attack.name) and their options",
      registry: ATTACKS,
    }),
  ];
}

export function catalogCommand(catalog: Catalog): Command {
  return new Command(catalog.command)
    .description(catalog.summary)
    .option('--json', 'print the list as JSON (for scripts)')
    .action(async (opts: { json?: boolean }) => {
      const rows = await listCatalog(catalog);
      process.stdout.write(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : formatCatalog(catalog.registry.kind, rows));
    });
}

export async function listCatalog(catalog: Catalog): Promise<CatalogRow[]> {
  const rows = catalog.registry.entries().map((entry) => ({ name: entry.name, description: entry.description, options: optionsOf(entry) }));
  return catalog.extend ? catalog.extend(rows) : rows;
}

/** The fragment's fields, less the discriminator (the field that is the entry's own name as a literal). */
export function optionsOf(entry: CatalogEntry): CatalogOption[] {
  const fields = entry.schema.shape as Record<string, z.core.$ZodType>;
  return Object.entries(fields).flatMap(([name, field]) => {
    const def = definitionOf(field);
    if (def.type === 'literal' && def.values?.includes(entry.name)) return [];
    return [
      {
        name,
        type: typeText(field),
        required: !(def.type === 'optional' || def.type === 'default'),
        ...(def.type === 'default' ? { default: def.defaultValue } : {}),
      },
    ];
  });
}

/** The zod definition fields read here; the rest of a definition does not matter to a listing. */
interface Definition {
  type: string;
  innerType?: z.core.$ZodType;
  defaultValue?: unknown;
  values?: unknown[];
  entries?: Record<string, unknown>;
  element?: z.core.$ZodType;
  format?: string;
}

function definitionOf(field: z.core.$ZodType): Definition {
  return field._zod.def;
}

function typeText(field: z.core.$ZodType): string {
  const def = definitionOf(field);
  switch (def.type) {
    case 'optional':
    case 'default':
      return def.innerType ? typeText(def.innerType) : def.type;
    case 'number':
      return (field as { format?: string | null }).format === 'safeint' ? 'integer' : 'number';
    case 'literal':
      return (def.values ?? []).map((v) => JSON.stringify(v)).join(' | ');
    case 'enum':
      return Object.values(def.entries ?? {}).join(' | ');
    case 'array':
      return def.element ? `list of ${typeText(def.element)}` : 'list';
    default:
      return def.type;
  }
}

function formatCatalog(kind: string, rows: readonly CatalogRow[]): string {
  const lines = [`${kind}:`];
  for (const row of rows) {
    lines.push(`  ${row.name}: ${row.description}`);
    lines.push(`    options: ${row.options.length > 0 ? row.options.map(optionText).join(', ') : 'none'}`);
    if (row.parameters) lines.push(`    parameters: ${row.parameters.count.toLocaleString('en-US')} on ${row.parameters.dataset}`);
    if (row.layers) lines.push(`    layers: ${row.layers.join(', ')}`);
    for (const { preset, count, dataset } of row.presetParameters ?? []) {
      lines.push(`      preset ${preset}: ${count.toLocaleString('en-US')}${dataset ? ` on ${dataset}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function describeData(options: { name: string } & Record<string, unknown>): string {
  const { name, ...rest } = options;
  const fields = Object.entries(rest).map(([key, value]) => `${key} ${String(value)}`);
  return fields.length > 0 ? `${name} (${fields.join(', ')})` : name;
}

function optionText(option: CatalogOption): string {
  const presence = 'default' in option ? `default ${JSON.stringify(option.default)}` : option.required ? 'required' : 'optional';
  return `${option.name} (${option.type}; ${presence})`;
}

/** Builds every model on the cpu backend, which every install has, and counts its weights. */
async function withParameterCounts(rows: CatalogRow[]): Promise<CatalogRow[]> {
  // tfjs only now: the other listings, and --help, stay instant.
  const { selectBackend } = await import('../client/backend/select-backend.js');
  const { buildOnSuitedData } = await import('../shared/models/build-model.js');
  await selectBackend('cpu');
  const { MODELS } = await import('../shared/models/registry.js');
  const countOf = (name: string, preset?: string) => {
    const built = buildOnSuitedData(name, preset);
    const count = built.model.countParams();
    // Layers with weights: the ones partial aggregation can keep on the clients.
    const layers = built.model.layers.filter((layer) => layer.weights.length > 0).map((layer) => layer.name);
    built.model.dispose();
    return { dataset: built.dataset, count, layers };
  };
  return rows.map((row) => {
    const entry = MODELS.get(row.name);
    const presetParameters = (entry.presets ?? []).map((preset) => {
      const { count } = countOf(row.name, preset);
      // A preset meant for other data says which (binary-10: synthetic with three features, two classes).
      return { preset, count, ...(entry.presetData?.[preset] ? { dataset: describeData(entry.presetData[preset]) } : {}) };
    });
    const { layers, ...parameters } = countOf(row.name);
    return { ...row, parameters, layers, ...(presetParameters.length > 0 ? { presetParameters } : {}) };
  });
}
