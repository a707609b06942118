/**
 * What a federated evaluation round says about the model across clients: the sample-weighted
 * figure (what a pooled test set would say), and the view of the clients as equals that fairness
 * work reads (q-FFL, LEAF's per-client statistics): unweighted mean, standard deviation, the 10th
 * percentile and the worst client. Accuracy's bad tail is low; MSE's is high. Fine-tuned
 * (personalised) figures, when clients report them, get the same statistics under their own names.
 */
import type { EvaluateResult } from './strategy.js';

export function summarizeEvaluations(results: readonly EvaluateResult[]): Record<string, number> | null {
  if (results.length === 0) return null;
  const ordered = [...results].sort((a, b) => a.clientId - b.clientId);
  const samples = ordered.reduce((s, r) => s + r.samples, 0);
  const summary: Record<string, number> = {
    clients: ordered.length,
    samples,
    loss: ordered.reduce((s, r) => s + r.loss * r.samples, 0) / samples,
  };
  if (ordered.every((r) => r.metrics.personalizedLoss !== undefined)) {
    summary.personalizedLoss = ordered.reduce((s, r) => s + r.metrics.personalizedLoss! * r.samples, 0) / samples;
  }
  for (const [metric, badTail] of [
    ['accuracy', 'low'],
    ['mse', 'high'],
    ['mae', 'high'],
    ['hitRate10', 'low'],
    ['auc', 'low'],
    ['personalizedAccuracy', 'low'],
    ['personalizedMse', 'high'],
    ['personalizedMae', 'high'],
  ] as const) {
    // Over the clients that report the metric (a ratings client without a liked held-out item has no hit rate).
    const reporting = ordered.filter((r) => r.metrics[metric] !== undefined);
    if (reporting.length === 0) continue;
    const byClient = reporting.map((r) => r.metrics[metric]!);
    const mean = byClient.reduce((s, v) => s + v, 0) / byClient.length;
    const ascending = [...byClient].sort((a, b) => a - b);
    const tail = badTail === 'low' ? ascending : ascending.reverse();
    const reportingSamples = reporting.reduce((s, r) => s + r.samples, 0);
    summary[metric] = reporting.reduce((s, r, i) => s + byClient[i]! * r.samples, 0) / reportingSamples;
    if (reporting.length < ordered.length) summary[`${metric}Clients`] = reporting.length;
    summary[`${metric}Mean`] = mean;
    summary[`${metric}Std`] = Math.sqrt(byClient.reduce((s, v) => s + (v - mean) ** 2, 0) / byClient.length);
    // Nearest rank: the value 10% of the clients are at or below (accuracy), at or above (MSE).
    summary[`${metric}${badTail === 'low' ? 'P10' : 'P90'}`] = tail[Math.max(0, Math.ceil(0.1 * tail.length) - 1)]!;
    summary[`${metric}Worst`] = tail[0]!;
  }
  return summary;
}
