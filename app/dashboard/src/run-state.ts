/**
 * How the socket.io messages change a run's state. Pure functions of (state, message) so a
 * message that arrives twice, late or for an older round does no harm: rounds are keyed by
 * number, and a client event of an older round than the grid shows is ignored.
 */
import type { ClientEventView, RoundMetricsView, RunState, RunStatus, WorkerView } from '../../api/api-types.js';

export const LOG_TAIL_LINES = 200;

/** Metrics fields may be missing, null or (ε without noise) serialised as null. */
export function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function isActive(status: RunStatus): boolean {
  return status === 'starting' || status === 'running' || status === 'stopping';
}

export function applyRound(state: RunState, metrics: RoundMetricsView): void {
  const at = state.rounds.findIndex((r) => r.round === metrics.round);
  if (at >= 0) state.rounds[at] = metrics;
  else {
    state.rounds.push(metrics);
    state.rounds.sort((a, b) => a.round - b.round);
  }
  state.roundsCompleted = Math.max(state.roundsCompleted, state.rounds.length);
  const accuracy = numberOrNull(metrics.testAccuracy);
  if (accuracy !== null) state.finalTestAccuracy = accuracy;
  const epsilon = numberOrNull((metrics.privacy as { epsilon?: unknown } | undefined)?.epsilon);
  if (epsilon !== null) state.epsilon = epsilon;
}

export function applyClients(state: RunState, events: ClientEventView[]): void {
  for (const event of events) {
    if (event.round < state.clients.round) continue;
    if (event.round > state.clients.round) state.clients = { round: event.round, states: {} };
    state.clients.states[String(event.clientId)] = event.state;
  }
}

export function applyWorker(state: RunState, worker: WorkerView): void {
  const at = state.workers.findIndex((w) => w.workerId === worker.workerId);
  if (at >= 0) state.workers[at] = worker;
  else state.workers.push(worker);
}

/**
 * A full state taken after a line was logged but before its batch went out already ends with the
 * batch's first lines: those are skipped rather than shown twice.
 */
export function applyLog(state: RunState, lines: string[]): void {
  const tail = state.logTail;
  const overlaps = (k: number) => lines.slice(0, k).every((line, i) => tail[tail.length - k + i] === line);
  let overlap = Math.min(lines.length, tail.length);
  while (overlap > 0 && !overlaps(overlap)) overlap--;
  tail.push(...lines.slice(overlap));
  if (state.logTail.length > LOG_TAIL_LINES) state.logTail.splice(0, state.logTail.length - LOG_TAIL_LINES);
}

export function applyStatus(state: RunState, status: RunStatus, summary: Record<string, unknown> | null, error?: string): void {
  state.status = status;
  if (summary) {
    state.summary = summary;
    const accuracy = numberOrNull(summary.finalTestAccuracy);
    if (accuracy !== null) state.finalTestAccuracy = accuracy;
  }
  if (error) state.error = error;
}

/** The round the run is in (or ended with): the client grid's round while it is ahead of the metrics. */
export function currentRound(state: RunState): number {
  return isActive(state.status) ? Math.max(state.roundsCompleted, state.clients.round) : state.roundsCompleted;
}
