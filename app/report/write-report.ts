/**
 * `report.html` for a run folder or a comparison folder, regenerated from the files in it, so a
 * report can be rebuilt after a crash, for an older run, or once a renderer improves.
 */
import { existsSync, statSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { renderComparisonReport, renderRunReport } from './html-report.js';
import { readComparisonRecords, readRunRecords } from './run-records.js';

export const REPORT_FILE = 'report.html';

/** Writes `<dir>/report.html` and returns its path. */
export async function writeReport(dir: string): Promise<string> {
  const folder = resolve(dir);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new Error(`${dir}: no such directory`);
  let html: string;
  // comparison.json first: a comparison folder is never a run, but might one day hold metrics of its own.
  if (existsSync(join(folder, 'comparison.json'))) html = renderComparisonReport(await readComparisonRecords(folder));
  // A run that failed before its first round has a summary but no metrics; its report says why.
  else if (existsSync(join(folder, 'metrics.jsonl')) || existsSync(join(folder, 'summary.json'))) html = renderRunReport(await readRunRecords(folder));
  else throw new Error(`${dir}: neither a run directory (expected metrics.jsonl or summary.json) nor a comparison directory (expected comparison.json)`);

  // Temporary name + rename: a browser refreshing the report never reads half a file.
  const target = join(folder, REPORT_FILE);
  const temporary = `${target}.tmp-${process.pid}`;
  await writeFile(temporary, html);
  await rename(temporary, target);
  return target;
}
