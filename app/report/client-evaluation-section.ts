/**
 * report.html's federated-evaluation part (from clients.jsonl): how the model does across
 * clients, each counted once. A histogram of client accuracy (or MSE) for the last evaluated
 * round, drawn as plain HTML bars so it reads without JavaScript, and the spread per evaluated
 * round. Input is read back from JSON, so every field is checked.
 */
import { esc, isObject, num } from './record-values.js';
import { decimal, percent } from './report-format.js';

export interface ClientEvaluationRecord {
  round: number;
  clientId: number;
  samples: number;
  value: number;
}

const BINS = 10;

/** clients.jsonl lines that carry a round, a client and an accuracy (or MSE); others are skipped. */
export function clientEvaluationRecords(lines: readonly unknown[]): { metric: 'accuracy' | 'mse'; records: ClientEvaluationRecord[] } | null {
  const metric = lines.some((l) => isObject(l) && num(l.accuracy) !== null) ? 'accuracy' : 'mse';
  const records = lines.flatMap((line) => {
    if (!isObject(line)) return [];
    const [round, clientId, samples, value] = [num(line.round), num(line.clientId), num(line.samples), num(line[metric])];
    return round === null || clientId === null || samples === null || value === null ? [] : [{ round, clientId, samples, value }];
  });
  return records.length > 0 ? { metric, records } : null;
}

/** `summaries`: each evaluated round's federatedEvaluation from metrics.jsonl, for the spread per round. */
export function clientEvaluationSection(
  evaluation: ReturnType<typeof clientEvaluationRecords>,
  summaries: readonly { round: number; summary: Record<string, number> }[],
): string {
  if (!evaluation) return '';
  const { metric, records } = evaluation;
  const lastRound = Math.max(...records.map((r) => r.round));
  const last = records.filter((r) => r.round === lastRound);
  const format = (n: number | undefined) => (n === undefined ? '–' : metric === 'accuracy' ? percent(n) : decimal(n));
  const tail = metric === 'accuracy' ? 'P10' : 'P90';
  // evaluation.federated.fineTuneEpochs: the same statistics of the fine-tuned (personalised) model.
  const tuned = `personalized${metric === 'accuracy' ? 'Accuracy' : 'Mse'}`;
  const fineTuned = summaries.some(({ summary }) => summary[`${tuned}Mean`] !== undefined);
  const cells = (s: Record<string, number>, name: string) =>
    `<td>${format(s[name])}</td><td>${format(s[`${name}Mean`])}</td><td>${format(s[`${name}${tail}`])}</td><td>${format(s[`${name}Worst`])}</td>`;
  const rows = summaries
    .map(({ round, summary: s }) => `<tr><td>${round}</td><td>${s.clients ?? '–'}</td>${cells(s, metric)}${fineTuned ? cells(s, tuned) : ''}</tr>`)
    .join('\n');
  const columns = (prefix: string) =>
    `<th>${prefix}weighted</th><th>${prefix}mean</th><th>${prefix}${metric === 'accuracy' ? '10th percentile' : '90th percentile'}</th><th>${prefix}worst</th>`;
  return `<section><h2>Clients: federated evaluation</h2>
<p>Each evaluating client scored the model after the round on its own held-out samples (clients.jsonl). Round ${lastRound}, ${last.length} clients:</p>
${histogram(
  last.map((r) => r.value),
  metric,
  format,
)}
<table><thead><tr><th>round</th><th>clients</th>${columns('')}${fineTuned ? columns('fine-tuned ') : ''}</tr></thead><tbody>
${rows}
</tbody></table></section>`;
}

function histogram(values: number[], metric: 'accuracy' | 'mse', format: (n: number) => string): string {
  const top = metric === 'accuracy' ? 1 : Math.max(...values, Number.MIN_VALUE);
  const counts = Array.from({ length: BINS }, () => 0);
  for (const v of values) counts[Math.min(BINS - 1, Math.floor((v / top) * BINS))]! += 1;
  const most = Math.max(...counts, 1);
  const bars = counts
    .map((c, i) => {
      const label = metric === 'accuracy' ? `${(i * 100) / BINS}–${((i + 1) * 100) / BINS}%` : `${format((i * top) / BINS)}–${format(((i + 1) * top) / BINS)}`;
      return `<tr data-bin="${i}"><td>${esc(label)}</td><td><span style="display:inline-block;height:0.9em;width:${((c / most) * 20).toFixed(2)}em;background:#4c78a8"></span> ${c}</td></tr>`;
    })
    .join('');
  return `<table class="histogram" data-testid="client-histogram"><thead><tr><th>client ${metric}</th><th>clients</th></tr></thead><tbody>${bars}</tbody></table>`;
}
