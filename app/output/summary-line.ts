/**
 * The line `fedsim run` ends with on the terminal: how the run ended, its quality, privacy and
 * cost, and where its outputs are.
 */
import type { RunSummary } from '../run/run-simulation.js';

export function summaryLine(s: RunSummary): string {
  const quality =
    s.finalTestAccuracy !== null
      ? `test accuracy ${(s.finalTestAccuracy * 100).toFixed(2)}%`
      : s.finalTestMse !== null
        ? `test MSE ${s.finalTestMse.toFixed(3)}`
        : 'no evaluation';
  const target = s.roundsToTarget !== null ? `, target reached in round ${s.roundsToTarget}` : '';
  const epsilon = s.privacy?.epsilon != null ? `, ε = ${s.privacy.epsilon.toFixed(3)} at δ = ${s.privacy.delta} (${s.privacy.conversion})` : '';
  const mia = s.membershipInference?.attacks[0] ? `, MIA AUC ${s.membershipInference.attacks.map((a) => a.auc.toFixed(3)).join('/')}` : '';
  const workers = `${countOf(s.workers.count, 'worker')} (${s.backend})`;
  return `${endWord(s)} ${s.runId}: ${s.roundsCompleted}/${s.roundsPlanned} rounds, ${quality}${target}${epsilon}${mia}, ${(s.totalWallMs / 1000).toFixed(1)} s, ${workers}, ${s.transport.kind} → ${s.runDir}${s.error ? `\n  error: ${s.error}` : ''}`;
}

/** A run stopped by hand completed without error, but "finished" would hide that it was cut short. */
function endWord(s: RunSummary): string {
  if (s.status === 'interrupted') return 'interrupted';
  if (s.status !== 'completed') return 'FAILED';
  return s.stopReason === 'stopped' || s.stopReason === 'interrupted' ? s.stopReason : 'finished';
}

/** "1 worker", "2 workers": the nouns of terminal lines are regular. */
export function countOf(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
