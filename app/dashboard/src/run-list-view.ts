/**
 * #/ — the runs this server runs or has on disk, the `fedsim compare` folders beside them, and a
 * form to start a run from a scenario file.
 */
import type { ComparisonListItem, RunListItem } from '../../api/api-types.js';
import { api, ApiError } from './api.js';
import { h, replaceChildren } from './dom.js';
import { dateTime, decimal, percent } from './format.js';
import { watchRuns } from './live.js';
import type { View } from './view.js';

export function runListView(root: HTMLElement): View {
  const rows = h('tbody');
  const table = h(
    'table',
    { class: 'runs', 'data-testid': 'run-list' },
    h('thead', {}, h('tr', {}, ...['Run', 'Status', 'Rounds', 'Accuracy', 'ε', 'Started'].map((c) => h('th', {}, c)))),
    rows,
  );
  const listNote = h('p', { class: 'note' }, 'Loading runs…');

  const select = h('select', { name: 'scenario', 'data-testid': 'scenario-select', required: true });
  const button = h('button', { type: 'submit', 'data-testid': 'start-run' }, 'Start run');
  const formError = h('div', { class: 'error', 'data-testid': 'start-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'start', 'data-testid': 'start-form', onsubmit: (event) => void start(event) },
    h('label', {}, 'Scenario ', select),
    button,
    formError,
  );

  async function start(event: Event): Promise<void> {
    event.preventDefault();
    replaceChildren(formError);
    button.disabled = true;
    try {
      const run = await api.startRun(select.value);
      location.hash = `#/runs/${encodeURIComponent(run.id)}`;
    } catch (error) {
      const problems = error instanceof ApiError ? error.problems : [];
      replaceChildren(formError, (error as Error).message, problems.length > 0 ? h('ul', {}, ...problems.map((p) => h('li', {}, p))) : null);
    } finally {
      button.disabled = false;
    }
  }

  api.scenarios().then(
    (names) => {
      replaceChildren(select, ...names.map((n) => h('option', { value: n }, n)));
      if (names.length === 0) replaceChildren(formError, 'No scenarios in the server’s scenarios folder.');
    },
    (error: Error) => replaceChildren(formError, `Scenarios could not be read: ${error.message}`),
  );

  const render = (runs: RunListItem[]) => {
    replaceChildren(listNote, runs.length === 0 ? 'No runs yet: start one below, or with `fedsim run`.' : null);
    replaceChildren(rows, ...runs.map(runRow));
  };
  const stopWatching = watchRuns(api.runs, render, (error) => replaceChildren(listNote, `Runs could not be read: ${error.message}`));

  const comparisons = comparisonList();
  replaceChildren(root, h('h1', {}, 'Runs'), table, listNote, h('h2', {}, 'Comparisons'), comparisons, h('h2', {}, 'Start a run'), form);
  return { destroy: stopWatching };
}

/** Comparisons are written by `fedsim compare`, not by this server: read once when the list opens. */
function comparisonList(): HTMLElement {
  const rows = h('tbody');
  const note = h('p', { class: 'note' }, 'Loading comparisons…');
  const table = h(
    'table',
    { class: 'comparisons', 'data-testid': 'comparison-list', hidden: true },
    h('thead', {}, h('tr', {}, ...['Comparison', 'Variants', 'Created', ''].map((c) => h('th', {}, c)))),
    rows,
  );
  api.comparisons().then(
    (items) => {
      table.hidden = items.length === 0;
      replaceChildren(note, items.length === 0 ? 'No comparisons in the runs folder: `fedsim compare <sweep.yaml>` writes them there.' : null);
      replaceChildren(rows, ...items.map(comparisonRow));
    },
    (error: Error) => replaceChildren(note, `Comparisons could not be read: ${error.message}`),
  );
  return h('div', {}, table, note);
}

function comparisonRow(item: ComparisonListItem): HTMLTableRowElement {
  const variants = item.variants.map((v) =>
    h(
      'li',
      { 'data-testid': 'comparison-variant', 'data-variant': v.name, 'data-status': v.status },
      v.hasReport ? h('a', { href: api.variantReportUrl(item.id, v.name), target: '_blank', rel: 'noopener' }, v.name) : v.name,
      ' ',
      statusBadge(v.status),
      h('span', { class: 'muted small' }, ` ${percent(v.finalAccuracy)}${v.epsilon !== null ? `, ε ${decimal(v.epsilon)}` : ''}`),
    ),
  );
  return h(
    'tr',
    { 'data-testid': 'comparison-row', 'data-comparison-id': item.id },
    h('td', {}, item.sweep, h('div', { class: 'muted small' }, item.id), item.description ? h('div', { class: 'small' }, item.description) : null),
    h('td', {}, h('ul', { class: 'variants' }, ...variants)),
    h('td', {}, dateTime(item.createdAt)),
    h(
      'td',
      {},
      item.hasReport
        ? h('a', { href: api.comparisonReportUrl(item.id), target: '_blank', rel: 'noopener', 'data-testid': 'comparison-report' }, 'Report')
        : h('span', { class: 'muted' }, 'no report'),
    ),
  );
}

function runRow(run: RunListItem): HTMLTableRowElement {
  const href = `#/runs/${encodeURIComponent(run.id)}`;
  return h(
    'tr',
    { 'data-testid': 'run-row', 'data-run-id': run.id, 'data-status': run.status },
    h('td', {}, h('a', { href, 'data-testid': 'run-link' }, run.name), h('div', { class: 'muted small' }, run.id)),
    h('td', {}, statusBadge(run.status), run.live ? h('span', { class: 'muted small' }, ' live') : null),
    h('td', { class: 'num' }, `${run.roundsCompleted} / ${run.roundsPlanned ?? '?'}`),
    h('td', { class: 'num' }, percent(run.finalTestAccuracy)),
    h('td', { class: 'num' }, run.epsilon === null ? '–' : decimal(run.epsilon)),
    h('td', {}, dateTime(run.startedAt)),
  );
}

export function statusBadge(status: string, testId?: string): HTMLSpanElement {
  return h('span', { class: `status status-${status}`, 'data-testid': testId, 'data-status': status }, status);
}
