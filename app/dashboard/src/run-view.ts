/** #/runs/<id> — one run, live while it runs: progress, charts, the round's clients, workers, log. */
import type { ClientState, RunState } from '../../api/api-types.js';
import { api } from './api.js';
import { frameScheduler, h, replaceChildren } from './dom.js';
import { bytes, dateTime, decimal, duration, percent, rate } from './format.js';
import { subscribeRun } from './live.js';
import { RunCharts } from './run-charts.js';
import { statusBadge } from './run-list-view.js';
import { currentRound, isActive, numberOrNull } from './run-state.js';
import type { View } from './view.js';

const CLIENT_STATES: { state: ClientState; label: string }[] = [
  { state: 'selected', label: 'selected' },
  { state: 'training', label: 'training' },
  { state: 'done', label: 'done' },
  { state: 'dropped', label: 'dropped' },
  { state: 'straggler', label: 'straggler' },
  { state: 'rejected', label: 'rejected' },
];

export function runView(root: HTMLElement, runId: string): View {
  const title = h('h1', {}, runId);
  const status = h('span', {});
  const stopButton = h('button', { type: 'button', class: 'stop', 'data-testid': 'stop-button', onclick: () => void stop() }, 'Stop');
  const reportLink = h(
    'a',
    { class: 'report', 'data-testid': 'report-link', href: api.reportUrl(runId), target: '_blank', rel: 'noopener', hidden: true },
    'Report',
  );
  const message = h('div', { class: 'error', role: 'alert', 'data-testid': 'run-error' });

  const roundCounter = h('span', { 'data-testid': 'round-counter' });
  const progressBar = h('progress', { max: 1, value: 0 });
  const facts = h('dl', { class: 'facts', 'data-testid': 'run-facts' });

  const chartsEl = h('div', { class: 'charts', 'data-testid': 'charts' });
  const charts = new RunCharts(chartsEl);

  const gridTitle = h('h2', {}, 'Clients');
  const grid = h('div', { class: 'client-grid', 'data-testid': 'client-grid' });
  const legend = h('ul', { class: 'legend', 'data-testid': 'client-legend' });

  const workers = h('tbody');
  const workerTable = h(
    'table',
    { 'data-testid': 'workers' },
    h('thead', {}, h('tr', {}, ...['Worker', 'Host', 'Backend', 'Clients trained', 'Speed'].map((c) => h('th', {}, c)))),
    workers,
  );
  const log = h('pre', { class: 'log', 'data-testid': 'log-tail' });

  replaceChildren(
    root,
    h('p', {}, h('a', { href: '#/' }, '← Runs')),
    h('header', { class: 'run-header' }, title, status, stopButton, reportLink),
    message,
    h('div', { class: 'progress' }, roundCounter, progressBar),
    facts,
    h('h2', {}, 'Charts'),
    chartsEl,
    gridTitle,
    legend,
    grid,
    h('h2', {}, 'Workers'),
    workerTable,
    h('h2', {}, 'Log'),
    log,
  );

  let state: RunState | null = null;
  let stopping = false;
  const scheduler = frameScheduler(() => state && render(state));

  async function stop(): Promise<void> {
    stopping = true;
    stopButton.disabled = true;
    try {
      await api.stopRun(runId);
    } catch (error) {
      replaceChildren(message, `Stop failed: ${(error as Error).message}`);
      stopping = false;
    }
    scheduler.schedule();
  }

  function render(run: RunState): void {
    title.textContent = run.name;
    document.title = `${run.name} — fedsim`;
    replaceChildren(status, statusBadge(run.status, 'run-status'));
    stopButton.hidden = !isActive(run.status);
    stopButton.disabled = stopping || run.status === 'stopping';
    reportLink.hidden = !run.hasReport;
    replaceChildren(message, run.error ?? null);

    const planned = run.roundsPlanned;
    const round = currentRound(run);
    roundCounter.textContent = `Round ${round} / ${planned ?? '?'}`;
    roundCounter.dataset.round = String(round);
    roundCounter.dataset.roundsCompleted = String(run.roundsCompleted);
    roundCounter.dataset.roundsPlanned = String(planned ?? '');
    progressBar.value = planned ? run.roundsCompleted / planned : 0;

    const last = run.rounds.at(-1);
    const stopReason = typeof run.summary?.stopReason === 'string' && run.summary.stopReason !== 'rounds completed' ? run.summary.stopReason : null;
    const entries: [string, string][] = [
      ['Rounds completed', String(run.roundsCompleted) + (stopReason ? ` (${stopReason})` : '')],
      ['Test accuracy', percent(run.finalTestAccuracy)],
      ['Test loss', decimal(numberOrNull(last?.testLoss))],
    ];
    entries.push(...taskFigureFacts(run));
    if (run.epsilon !== null) entries.push(['ε', decimal(run.epsilon)]);
    const clients = lastFederatedEvaluation(run);
    if (clients) entries.push(['Client accuracy', clients]);
    const simulated = numberOrNull(last?.simulatedSecondsTotal);
    if (simulated !== null) entries.push(['Simulated time', duration(simulated)]);
    const sum = (key: string) => run.rounds.reduce((s, r) => s + (numberOrNull(r[key]) ?? 0), 0);
    entries.push(['Bytes', `${bytes(sum('bytesDown'))} down, ${bytes(sum('bytesUp'))} up`], ['Started', dateTime(run.startedAt)]);
    replaceChildren(facts, ...entries.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));

    charts.update(run);
    renderClients(run);
    replaceChildren(
      workers,
      ...run.workers.map((w) =>
        h(
          'tr',
          { 'data-worker-id': w.workerId },
          h('td', {}, w.workerId),
          h('td', {}, w.host),
          h('td', {}, w.backend ?? '–'),
          h('td', { class: 'num' }, w.clientsTrained),
          h('td', { class: 'num' }, rate(w.samplesPerSecond)),
        ),
      ),
    );
    if (run.workers.length === 0)
      replaceChildren(
        workers,
        h('tr', {}, h('td', { colspan: 5, class: 'muted' }, run.live ? 'No worker has joined yet.' : 'Workers are only known while the run is live.')),
      );
    renderLog(run.logTail);
  }

  function renderClients(run: RunState): void {
    const entries = Object.entries(run.clients.states)
      .map(([id, s]) => [Number(id), s] as const)
      .sort((a, b) => a[0] - b[0]);
    gridTitle.textContent = run.clients.round > 0 ? `Clients of round ${run.clients.round}` : 'Clients';
    grid.dataset.round = String(run.clients.round);
    grid.dataset.clients = String(entries.length);
    const counts = new Map<ClientState, number>();
    for (const [, s] of entries) counts.set(s, (counts.get(s) ?? 0) + 1);
    replaceChildren(
      legend,
      ...CLIENT_STATES.map(({ state, label }) =>
        h('li', { 'data-state': state }, h('span', { class: `swatch client-${state}` }), `${label} ${counts.get(state) ?? 0}`),
      ),
    );
    replaceChildren(
      grid,
      ...entries.map(([id, s]) => h('span', { class: `client client-${s}`, title: `client ${id}: ${s}`, 'data-client-id': id, 'data-state': s }, id)),
    );
    if (entries.length === 0)
      replaceChildren(grid, h('span', { class: 'muted' }, run.live ? 'No clients selected yet.' : 'Client states are only known while the run is live.'));
  }

  function renderLog(lines: string[]): void {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    log.textContent = lines.map(logLine).join('\n');
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  const subscription = subscribeRun(
    runId,
    {
      changed(next) {
        state = next;
        scheduler.schedule();
      },
      failed(error) {
        replaceChildren(message, `Run ${runId}: ${error}`);
      },
    },
    api.run,
  );

  return {
    destroy() {
      subscription.close();
      scheduler.cancel();
      charts.destroy();
    },
  };
}

/** pino JSON lines as "time level msg"; anything else as it is. */
/** evaluation.federated: the last evaluated round's accuracy across clients, each counted once. */
/** The figures the task's field reads (perplexity, AUC, RMSE / MAE / hit rate at 10), from the last evaluated round. */
function taskFigureFacts(run: RunState): [string, string][] {
  const evaluated = [...run.rounds].reverse().find((r) => numberOrNull(r.testLoss) !== null);
  if (!evaluated) return [];
  const facts: [string, string][] = [];
  const perplexity = numberOrNull(evaluated.testPerplexity);
  if (perplexity !== null) facts.push(['Test perplexity', decimal(perplexity)]);
  const auc = numberOrNull(evaluated.testAuc);
  if (auc !== null) facts.push(['Test AUC', decimal(auc)]);
  const hitRate = numberOrNull(evaluated.testHitRate10);
  if (hitRate !== null) {
    const mse = numberOrNull(evaluated.testMse);
    facts.push(
      ['Test RMSE', decimal(mse === null ? null : Math.sqrt(mse))],
      ['Test MAE', decimal(numberOrNull(evaluated.testMae))],
      ['Hit rate at 10', percent(hitRate)],
    );
  }
  return facts;
}

function lastFederatedEvaluation(run: RunState): string | null {
  const evaluated = [...run.rounds].reverse().find((r) => r.federatedEvaluation !== null && typeof r.federatedEvaluation === 'object');
  const f = evaluated?.federatedEvaluation as Record<string, unknown> | undefined;
  const mean = numberOrNull(f?.accuracyMean);
  if (!evaluated || mean === null) return null;
  const tuned = numberOrNull(f?.personalizedAccuracyMean);
  const fineTuned = tuned === null ? '' : `; fine-tuned mean ${percent(tuned)}, worst ${percent(numberOrNull(f?.personalizedAccuracyWorst))}`;
  return `mean ${percent(mean)}, 10th percentile ${percent(numberOrNull(f?.accuracyP10))}, worst ${percent(numberOrNull(f?.accuracyWorst))}${fineTuned} (round ${evaluated.round}, ${String(f?.clients)} clients)`;
}

function logLine(line: string): string {
  try {
    const entry = JSON.parse(line) as { time?: number | string; level?: number | string; msg?: string };
    const time = entry.time !== undefined ? new Date(entry.time).toLocaleTimeString() : '';
    return `${time} ${levelName(entry.level)} ${entry.msg ?? line}`.trim();
  } catch {
    return line;
  }
}

function levelName(level: number | string | undefined): string {
  if (typeof level === 'string') return level.toUpperCase();
  const names: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  return level !== undefined ? (names[level] ?? String(level)) : '';
}
