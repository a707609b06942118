/** #/ — the runs this server runs or has on disk, and a form to start one from a scenario file. */
import type { RunListItem } from '../../api/api-types.js';
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

  replaceChildren(root, h('h1', {}, 'Runs'), table, listNote, h('h2', {}, 'Start a run'), form);
  return { destroy: stopWatching };
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
