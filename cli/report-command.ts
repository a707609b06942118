/**
 * `fedsim report <dir>`: (re)generates report.html for a run folder or a `fedsim compare` folder
 * and prints its path.
 */
import { Command } from 'commander';

export function reportCommand(): Command {
  return new Command('report')
    .description('write report.html (self-contained, opens offline) for a run or comparison folder and print its path')
    .argument('<dir>', 'a run folder (runs/<name>-<timestamp>/) or a comparison folder')
    .action(async (dir: string) => {
      // Loaded on use, like run and worker, so other commands stay quick to start.
      const { writeReport } = await import('../app/report/write-report.js');
      process.stdout.write(`${await writeReport(dir)}\n`);
    });
}
