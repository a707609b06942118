/** `fedsim compare <sweep.yaml>`: run every variant of a sweep and write the comparison. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { parseCount } from './argument-parsers.js';
import { interruptOnSigint } from './interrupt-on-sigint.js';
import { LOG_LEVELS, type LogLevel } from '../shared/logging/logger.js';

export function compareCommand(): Command {
  return new Command('compare')
    .description('run every variant of a sweep file on one NATS and one worker pool; writes comparison.csv, comparison.md and report.html')
    .argument('<sweep>', 'sweep YAML file (see scenarios/privacy-sweep.yaml)')
    .option('--workers <n>', "worker processes in the pool (overrides the base scenario's system.workers)", parseCount)
    .option('--json', 'print the comparison rows as JSON on stdout')
    .addOption(new Option('--log-level <level>', 'terminal log level').choices(LOG_LEVELS).default('info'))
    .action(async (file: string, opts: { workers?: number; json?: boolean; logLevel: LogLevel }) => {
      const { loadSweepFile } = await import('../app/compare/sweep-file.js');
      const sweep = await loadSweepFile(file);
      for (const variant of sweep.variants.filter((v) => !v.scenario)) {
        process.stderr.write(`variant ${variant.name} is invalid and will be reported as failed:\n${variant.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      }
      if (sweep.variants.every((v) => !v.scenario)) throw new Error(`${file}: no variant is a valid scenario; nothing to run`);
      const { runComparison } = await import('../app/compare/run-comparison.js');
      const { RunInterrupts } = await import('../app/run/run-interrupts.js');
      const interrupts = new RunInterrupts();
      const stopListening = interruptOnSigint(interrupts, 'sweep');
      const result = await runComparison(sweep, {
        logLevel: opts.logLevel,
        progress: !opts.json || process.stderr.isTTY === true,
        workers: opts.workers,
        interrupts,
      });
      stopListening();
      if (opts.json) process.stdout.write(`${JSON.stringify({ dir: result.dir, report: result.reportPath, variants: result.rows }, null, 2)}\n`);
      else
        process.stdout.write(
          `\n${readFileSync(join(result.dir, 'comparison.md'), 'utf8')}\noutputs: ${result.dir}${result.reportPath ? `\nreport:  ${result.reportPath}` : ''}\n`,
        );
      process.exitCode = result.rows.some((r) => r.status === 'failed') ? 1 : 0;
      process.stdout.write('', () => process.exit());
    });
}
