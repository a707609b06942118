/**
 * The dashboard's live state (app/dashboard/src/run-state.ts) without a browser: socket
 * messages that arrive twice, late, or for an older round than the page shows must not corrupt it.
 * Kept beside the dashboard's browser test, which covers the rest.
 */
import { describe, expect, it } from 'vitest';
import type { RunState } from '../../app/api/api-types.js';
import { applyClients, applyLog, applyRound, applyStatus, applyWorker, currentRound, LOG_TAIL_LINES } from '../../app/dashboard/src/run-state.js';

function emptyRun(): RunState {
  return {
    id: 'r-1',
    name: 'r',
    status: 'running',
    live: true,
    startedAt: null,
    roundsCompleted: 0,
    roundsPlanned: 5,
    finalTestAccuracy: null,
    epsilon: null,
    scenario: null,
    rounds: [],
    summary: null,
    workers: [],
    clients: { round: 0, states: {} },
    logTail: [],
    hasReport: false,
  };
}

describe('dashboard run state', () => {
  it('keys rounds by number: a repeated or late round replaces, never duplicates', () => {
    const run = emptyRun();
    applyRound(run, { round: 2, testAccuracy: 0.5 });
    applyRound(run, { round: 1, testAccuracy: 0.3, privacy: { epsilon: 0.7 } });
    applyRound(run, { round: 2, testAccuracy: 0.55 });
    expect(run.rounds.map((r) => r.round)).toEqual([1, 2]);
    expect(run.roundsCompleted).toBe(2);
    expect(run.epsilon).toBe(0.7);
    // The accuracy shown is the newest message's; a round without evaluation keeps the last one.
    applyRound(run, { round: 3, testAccuracy: null });
    expect(run.finalTestAccuracy).toBe(0.55);
  });

  it('moves the client grid to a new round and ignores events of older rounds', () => {
    const run = emptyRun();
    applyClients(run, [
      { round: 1, clientId: 3, state: 'selected' },
      { round: 1, clientId: 3, state: 'training', workerId: 'w1' },
      { round: 1, clientId: 7, state: 'selected' },
    ]);
    expect(run.clients).toEqual({ round: 1, states: { 3: 'training', 7: 'selected' } });
    expect(currentRound(run)).toBe(1);
    applyClients(run, [
      { round: 2, clientId: 1, state: 'selected' },
      { round: 1, clientId: 7, state: 'dropped' },
    ]);
    expect(run.clients).toEqual({ round: 2, states: { 1: 'selected' } });
  });

  it('updates workers in place, trims the log tail and takes the final status', () => {
    const run = emptyRun();
    applyWorker(run, { workerId: 'w1', host: 'h', backend: 'cpu', clientsTrained: 1, samplesPerSecond: 10 });
    applyWorker(run, { workerId: 'w1', host: 'h', backend: 'cpu', clientsTrained: 4, samplesPerSecond: 12 });
    expect(run.workers).toHaveLength(1);
    expect(run.workers[0]!.clientsTrained).toBe(4);

    applyLog(
      run,
      Array.from({ length: LOG_TAIL_LINES + 5 }, (_, i) => `line ${i}`),
    );
    expect(run.logTail).toHaveLength(LOG_TAIL_LINES);
    expect(run.logTail[0]).toBe('line 5');

    // The full state on (re)subscribe may already hold the start of the next log batch.
    run.logTail = ['a', 'b', 'c'];
    applyLog(run, ['b', 'c', 'd']);
    applyLog(run, ['e']);
    expect(run.logTail).toEqual(['a', 'b', 'c', 'd', 'e']);

    applyStatus(run, 'completed', { finalTestAccuracy: 0.9, stopReason: 'rounds completed' });
    expect(run).toMatchObject({ status: 'completed', finalTestAccuracy: 0.9 });
    expect(currentRound(run)).toBe(run.roundsCompleted);
  });
});
