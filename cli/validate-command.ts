/**
 * `fedsim validate <file>`: checks a scenario or a sweep file and prints it resolved, defaults
 * filled in, as YAML (or JSON with --json) that is itself a valid file of the same kind. The
 * human summary goes first as YAML comments, so the output still parses.
 */
import { Command } from 'commander';
import { stringify } from 'yaml';
import { countOf } from '../app/output/summary-line.js';
import { clientsPerRound } from '../shared/scenario/load-scenario.js';
import type { Scenario } from '../shared/scenario/schema.js';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a scenario or sweep file and print it resolved (defaults filled in) as YAML; exits 2 listing every problem')
    .argument('<file>', 'scenario or sweep YAML file (see scenarios/)')
    .option('--json', 'print the resolved file as JSON instead')
    .action(async (file: string, opts: { json?: boolean }) => {
      // Loaded on use: the sweep module is not needed by the quick commands.
      const { loadScenarioOrSweepFile, SweepError } = await import('../app/compare/sweep-file.js');
      const loaded = await loadScenarioOrSweepFile(file);
      if (loaded.kind === 'scenario') {
        process.stdout.write(
          opts.json ? `${JSON.stringify(loaded.scenario, null, 2)}\n` : `${comments(scenarioSummary(file, loaded.scenario))}${stringify(loaded.scenario)}`,
        );
        return;
      }
      const { sweep } = loaded;
      const invalid = sweep.variants.filter((v) => v.scenario === null);
      // `fedsim compare` runs the valid variants of such a file, but as a file it is not valid.
      if (invalid.length > 0)
        throw new SweepError(
          file,
          invalid.flatMap((v) => v.problems.map((p) => `variant ${v.name}: ${p}`)),
        );
      const resolved = {
        sweep: sweep.name,
        ...(sweep.description !== undefined ? { description: sweep.description } : {}),
        base: sweep.base,
        variants: sweep.variants.map((v) => ({ name: v.name, overrides: v.overrides })),
        output: { dir: sweep.outputDir },
      };
      const summary = [
        `${file}: valid sweep "${sweep.name}", base and ${countOf(sweep.variants.length, 'variant')}`,
        ...scenarioSummary(file, sweep.base)
          .slice(1)
          .map((line, i) => `${i === 0 ? '  base:' : '       '}${line.slice(1)}`),
        `  variants: ${sweep.variants.map((v) => v.name).join(', ')}`,
      ];
      process.stdout.write(opts.json ? `${JSON.stringify(resolved, null, 2)}\n` : `${comments(summary)}${stringify(resolved)}`);
    });
}

function scenarioSummary(file: string, scenario: Scenario): string[] {
  const target = scenario.evaluation.targetAccuracy ?? scenario.evaluation.targetMse;
  const t = scenario.training;
  return [
    `${file}: valid scenario "${scenario.name}"`,
    `  ${scenario.dataset.name} data, ${scenario.partition.kind} partition over ${countOf(scenario.partition.clients, 'client')}, model ${scenario.model.name}`,
    `  ${countOf(scenario.rounds, 'round')} × ${countOf(clientsPerRound(scenario), 'client')}, E=${t.epochs}, B=${t.batchSize}, ${t.optimizer} lr=${t.learningRate}${target !== undefined ? `, target ${target}` : ''}`,
  ];
}

function comments(lines: string[]): string {
  return lines.map((line) => `# ${line}\n`).join('');
}
