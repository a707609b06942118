/**
 * What a scenario posted to the API may ask of this server. A scenario file run by its owner may
 * start 1024 workers; one posted by whoever holds the API token decides only within the limits
 * `fedsim serve` was started with, and never which NATS server the run connects to.
 */
import { availableParallelism } from 'node:os';
import type { Scenario } from '../../shared/scenario/schema.js';
import { workerProcessCount } from '../workers/start-workers.js';

export interface AdmissionLimits {
  /** Worker processes one posted run may start (default: this machine's cores). */
  maxWorkersPerRun: number;
  /** Runs live at once (default 4). */
  maxLiveRuns: number;
}

export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = { maxWorkersPerRun: availableParallelism(), maxLiveRuns: 4 };

/** Field-level problems of a posted scenario against the limits (empty: admitted). `workersOverride`: serve's --workers. */
export function admissionProblems(scenario: Scenario, limits: AdmissionLimits, workersOverride?: number): string[] {
  const problems: string[] = [];
  const workers = workerProcessCount(scenario.system, workersOverride);
  if (workers > limits.maxWorkersPerRun) {
    const source = workersOverride === undefined ? `system.workers: ${String(scenario.system.workers)}` : `--workers ${workersOverride}`;
    problems.push(`${source} asks for ${workers} worker processes; this server starts at most ${limits.maxWorkersPerRun} per run (fedsim serve --max-workers)`);
  }
  if (scenario.system.natsUrl !== undefined) {
    problems.push(
      'system.natsUrl: a scenario posted to the API may not choose the NATS server; runs use the server fedsim serve was given (NATS_URL) or its own',
    );
  }
  return problems;
}

/** Why another run may not start now, or null. */
export function liveRunLimitProblem(liveRuns: number, limits: AdmissionLimits): string | null {
  if (liveRuns < limits.maxLiveRuns) return null;
  return `${liveRuns} runs are live and this server runs at most ${limits.maxLiveRuns} at once (fedsim serve --max-runs); start this one when one ends`;
}
