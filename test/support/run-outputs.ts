/** Reading a finished run's outputs back in tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RoundMetrics } from '../../coordinator/coordinator.js';

/** The run's metrics.jsonl, one record per round. */
export function readRoundMetrics(runDir: string): RoundMetrics[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as RoundMetrics);
}
