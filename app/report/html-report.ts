/**
 * Self-contained HTML reports of a run and of a comparison: one file that opens offline, with
 * uPlot, the chart script and the data inlined. Tables are rendered here, so they read without
 * JavaScript; charts are drawn in the page by CHARTS_JS from the embedded JSON.
 */
import { stringify as toYaml } from 'yaml';
import { CHARTS_CSS, CHARTS_JS, comparisonChartData, uplotAssets, type ComparisonChartData } from './charts.js';
import { esc, isObject, text } from './record-values.js';
import { bytes, decimal, duration, percent } from './report-format.js';
import type { ComparisonRecords, ComparisonVariant, RoundRecord, RunRecords } from './run-records.js';
import { runStatusText, summarySections, type SummarySection } from './summary-sections.js';
import { updateAttacksComparisonSection, updateAttacksRunSection } from './update-attacks-section.js';
import { clientEvaluationRecords, clientEvaluationSection } from './client-evaluation-section.js';

/** The id of the `<script type="application/json">` element that holds a report's data. */
export const REPORT_DATA_ID = 'fedsim-data';

export function renderRunReport(data: RunRecords): string {
  const { summary, rounds } = data;
  const scenario = isObject(data.scenario) ? data.scenario : {};
  const privacy = isObject(summary?.privacy) ? summary.privacy : {};
  const name = text(summary?.runId) ?? text(summary?.name) ?? text(scenario.name) ?? 'fedsim run';

  const status = summary ? runStatusText(summary.status, summary.stopReason) : 'no summary.json (still running, or stopped before the end)';
  const planned = numberOr(summary?.roundsPlanned, scenario.rounds);
  const completed = numberOr(summary?.roundsCompleted, rounds.length);
  const accuracy = numberOr(
    summary?.finalTestAccuracy,
    lastValue(rounds, (r) => r.testAccuracy),
  );
  const mse = numberOr(
    summary?.finalTestMse,
    lastValue(rounds, (r) => r.testMse),
  );
  const epsilon = numberOr(
    privacy.epsilon,
    lastValue(rounds, (r) => r.privacy?.epsilon ?? null),
  );
  const delta = numberOr(
    privacy.delta,
    lastValue(rounds, (r) => r.privacy?.delta ?? null),
  );
  const bytesDown =
    numberOr(
      summary?.bytesDown,
      sum(rounds, (r) => r.bytesDown),
    ) ?? 0;
  const bytesUp =
    numberOr(
      summary?.bytesUp,
      sum(rounds, (r) => r.bytesUp),
    ) ?? 0;

  const facts: [string, string][] = [
    ['Status', status],
    ['Rounds', planned !== null ? `${completed} / ${planned}` : String(completed)],
  ];
  if (accuracy !== null) facts.push(['Final test accuracy', percent(accuracy)]);
  const attackSuccess = lastValue(rounds, (r) => r.attackSuccessRate);
  if (attackSuccess !== null) facts.push(['Backdoor attack success', percent(attackSuccess)]);
  if (mse !== null) facts.push(['Final test MSE', decimal(mse)]);
  facts.push([
    'Wall time',
    duration(
      numberOr(
        summary?.totalWallMs,
        sum(rounds, (r) => r.wallMs),
      ) ?? 0,
    ),
  ]);
  facts.push(['Bytes', `${bytes(bytesDown)} down, ${bytes(bytesUp)} up`]);
  if (epsilon !== null) facts.push(['Privacy', `ε = ${decimal(epsilon)}${delta !== null ? `, δ = ${delta}` : ''}`]);

  const error = text(summary?.error);
  const attacks = attacksOf(summary?.membershipInference ?? privacy.membershipInference);
  const body = [
    `<header><h1>${esc(name)}</h1>${factList(facts)}${error ? `<p class="error">${esc(error)}</p>` : ''}</header>`,
    section('Charts', chartsPlaceholder()),
    summary ? section('Summary', summaryGroups(summarySections(summary, scenario, rounds))) : '',
    attacks.length > 0 ? section('Membership inference', attacksTable(attacks)) : '',
    updateAttacksRunSection(summary?.updateAttacks, data.reconstructions),
    clientEvaluationSection(
      clientEvaluationRecords(data.clientEvaluations ?? []),
      rounds.flatMap((r) => (r.federatedEvaluation ? [{ round: r.round, summary: r.federatedEvaluation }] : [])),
    ),
    rounds.length > 0 ? `<details><summary>Rounds (${rounds.length})</summary>${roundsTable(rounds)}</details>` : '',
    data.scenario !== null ? `<details><summary>Scenario</summary><pre>${esc(toYaml(data.scenario))}</pre></details>` : '',
  ].join('\n');
  return page(`${name} — fedsim report`, body, data, 'renderRun');
}

export function renderComparisonReport(data: ComparisonRecords): string {
  const chartData = comparisonChartData(data);
  const { comparison } = data;
  const variants = comparison.variants;
  const failed = variants.filter((v) => v.status === 'failed').length;
  const facts: [string, string][] = [
    ['Base scenario', comparison.base],
    ['Variants', `${variants.length}${failed > 0 ? ` (${failed} failed)` : ''}`],
    ['Created', comparison.createdAt],
  ];
  if (comparison.delta !== null) facts.push(['δ', String(comparison.delta)]);

  const withoutDp = variants.filter((v) => v.status === 'completed' && v.epsilon === null).map((v) => v.name);
  const notes = [
    withoutDp.length > 0 ? `Without differential privacy (ε = ∞), so not on the ε charts: ${withoutDp.map(esc).join(', ')}.` : '',
    chartData.scatter.front.length > 0
      ? `<span class="badge">Pareto</span> marks the variants with the best final ${chartData.scatter.metric === 'accuracy' ? 'accuracy' : 'MSE'} for their ε or less.`
      : '',
  ].filter(Boolean);
  const body = [
    `<header><h1>Comparison: ${esc(comparison.sweep || 'sweep')}</h1>${comparison.description ? `<p>${esc(comparison.description)}</p>` : ''}${factList(facts)}</header>`,
    section('Variants', variantTable(variants, chartData) + notes.map((n) => `<p class="note">${n}</p>`).join('')),
    updateAttacksComparisonSection(variants),
    heatmaps(variants),
    section('Charts', chartsPlaceholder()),
  ].join('\n');
  return page(`${comparison.sweep || 'comparison'} — fedsim comparison`, body, chartData, 'renderComparison');
}

/**
 * JSON that can sit inside a `<script>` element: `<` is escaped so no `</script>` or `<!--` can end
 * or confuse it, and U+2028/2029 because older JS engines treat them as line ends.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function page(title: string, body: string, data: unknown, render: 'renderRun' | 'renderComparison'): string {
  const uplot = uplotAssets();
  // The boot script reports a failure in place of the charts rather than leaving a blank area.
  const boot = `(function () {
  var el = document.getElementById('charts');
  try {
    el.textContent = '';
    FedsimCharts.${render}(el, JSON.parse(document.getElementById('${REPORT_DATA_ID}').textContent));
  } catch (e) {
    el.textContent = 'Charts could not be drawn: ' + e;
  }
})();`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fedsim">
<title>${esc(title)}</title>
<style>${safeStyle(uplot.css)}</style>
<style>${PAGE_CSS}${CHARTS_CSS}</style>
</head>
<body>
<main>
${body}
</main>
<script type="application/json" id="${REPORT_DATA_ID}">${embedJson(data)}</script>
<script>${safeScript(uplot.js)}</script>
<script>${safeScript(CHARTS_JS)}</script>
<script>${boot}</script>
</body>
</html>
`;
}

/** In JS source `<\/script` means the same as `</script`, but cannot close the element early. */
function safeScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1');
}

function safeStyle(css: string): string {
  return css.replace(/<\/(style)/gi, '<\\/$1');
}

function chartsPlaceholder(): string {
  return `<div id="charts" class="charts"><noscript><p class="note">The charts need JavaScript; the tables read without it.</p></noscript></div>`;
}

function section(title: string, content: string): string {
  return `<section><h2>${esc(title)}</h2>${content}</section>`;
}

function factList(facts: [string, string][]): string {
  return `<dl class="facts">${facts.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl>`;
}

function summaryGroups(sections: SummarySection[]): string {
  const groups = sections.map(
    (group) =>
      `<div class="group"><h3>${esc(group.title)}</h3><table class="kv"><tbody>${group.rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</tbody></table></div>`,
  );
  return `<div class="summary">${groups.join('')}</div>`;
}

/** The membership-inference attacks, one row each, with the figures' names in words. */
function attacksTable(attacks: Record<string, unknown>[]): string {
  const columns: [string, (a: Record<string, unknown>) => string][] = [
    ['attack', (a) => (typeof a.attack === 'string' ? a.attack : '–')],
    ['AUC', (a) => maybeNumber(a.auc, (n) => n.toFixed(3))],
    ['TPR at 1% FPR', (a) => maybeNumber(a.tprAt1PctFpr, percent)],
    ['TPR at 10% FPR', (a) => maybeNumber(a.tprAt10PctFpr, percent)],
    ['advantage (max TPR − FPR)', (a) => maybeNumber(a.advantage, (n) => n.toFixed(3))],
  ];
  const head = columns.map(([label]) => `<th>${esc(label)}</th>`).join('');
  const body = attacks.map((a) => `<tr>${columns.map(([, cell]) => `<td>${esc(cell(a))}</td>`).join('')}</tr>`).join('');
  return `<table class="numbers"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table><p class="note">AUC 0.5 and advantage 0 are what guessing gets: the attack learns nothing about who trained the model.</p>`;
}

function roundsTable(rounds: RoundRecord[]): string {
  const columns: [string, (r: RoundRecord) => string][] = [['round', (r) => String(r.round)]];
  if (rounds.some((r) => r.testAccuracy !== null)) columns.push(['test accuracy', (r) => maybe(r.testAccuracy, percent)]);
  if (rounds.some((r) => r.testMse !== null)) columns.push(['test MSE', (r) => maybe(r.testMse, decimal)]);
  if (rounds.some((r) => r.attackSuccessRate !== null)) columns.push(['attack success', (r) => maybe(r.attackSuccessRate, percent)]);
  columns.push(['train loss', (r) => maybe(r.trainLoss, decimal)], ['test loss', (r) => maybe(r.testLoss, decimal)]);
  if (rounds.some((r) => r.privacy?.epsilon != null)) columns.push(['ε', (r) => maybe(r.privacy?.epsilon ?? null, decimal)]);
  columns.push(
    ['completed / selected', (r) => `${r.completed ?? '–'} / ${r.selected ?? '–'}`],
    ['dropped', (r) => maybe(r.dropped, String)],
    ['rejected', (r) => maybe(r.rejected, String)],
    ['bytes down', (r) => maybe(r.bytesDown, bytes)],
    ['bytes up', (r) => maybe(r.bytesUp, bytes)],
    ['wall', (r) => maybe(r.wallMs, duration)],
  );
  const head = columns.map(([label]) => `<th>${esc(label)}</th>`).join('');
  const body = rounds.map((r) => `<tr>${columns.map(([, cell]) => `<td>${esc(cell(r))}</td>`).join('')}</tr>`).join('\n');
  return `<table class="numbers"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function variantTable(variants: ComparisonVariant[], chartData: ComparisonChartData): string {
  const onFront = new Set(chartData.scatter.front.map((p) => p.index));
  const hasMse = variants.some((v) => v.finalMse !== null);
  const hasAccuracy = variants.some((v) => v.finalAccuracy !== null) || !hasMse;
  // Cells are HTML here (badges, error lines): every value goes through esc.
  const columns: [string, (v: ComparisonVariant, i: number) => string][] = [
    ['Variant', (v, i) => `${esc(v.name)}${onFront.has(i) ? ' <span class="badge">Pareto</span>' : ''}`],
    [
      'Status',
      (v) =>
        `<span class="status ${v.status === 'failed' ? 'failed' : 'ok'}">${esc(runStatusText(v.status, v.stopReason === 'stopped' ? 'stopped' : null))}</span>${v.error ? `<div class="error">${esc(v.error)}</div>` : ''}`,
    ],
    ['Overrides', (v) => overridesText(v.overrides)],
  ];
  if (hasAccuracy) columns.push(['Final accuracy', (v) => esc(maybe(v.finalAccuracy, percent))]);
  if (hasMse) columns.push(['Final MSE', (v) => esc(maybe(v.finalMse, decimal))]);
  if (variants.some((v) => v.attackSuccessRate !== null)) columns.push(['Attack success', (v) => esc(maybe(v.attackSuccessRate, percent))]);
  columns.push(
    ['ε', (v) => (v.epsilon !== null ? esc(decimal(v.epsilon)) : v.status === 'completed' ? '∞ (no DP)' : '–')],
    ['Rounds', (v) => esc(maybe(v.rounds, String) + (v.stopReason && v.stopReason !== 'rounds completed' ? ` (${v.stopReason})` : ''))],
    ['MIA AUC', (v) => esc(maybe(v.miaAuc, (n) => n.toFixed(3)))],
    ['Wall time', (v) => esc(maybe(v.wallMs, duration))],
    ['Bytes', (v) => esc(maybe(v.bytes, bytes))],
  );
  const head = columns.map(([label]) => `<th>${esc(label)}</th>`).join('');
  const body = variants
    .map((v, i) => `<tr class="${v.status === 'failed' ? 'failed' : ''}">${columns.map(([, cell]) => `<td>${cell(v, i)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table class="variants"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/**
 * Sweeps with crossWith (attacks × defences): final accuracy, and where a backdoor ran its attack
 * success rate, as row × column tables coloured by value; they read without JavaScript.
 */
function heatmaps(variants: ComparisonVariant[]): string {
  const cells = variants.filter((v) => v.cell !== null);
  if (cells.length === 0) return '';
  const rows = [...new Set(cells.map((v) => v.cell!.row))];
  const columns = [...new Set(cells.map((v) => v.cell!.column))];
  const heatmap = (title: string, value: (v: ComparisonVariant) => number | null, higherIsBetter: boolean) => {
    const head = `<tr><th></th>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
    const body = rows.map((row) => {
      const tds = columns.map((column) => {
        const variant = cells.find((v) => v.cell!.row === row && v.cell!.column === column);
        const x = variant ? value(variant) : null;
        if (x === null) return '<td class="muted">–</td>';
        // Green is good for the defender: high accuracy, low attack success.
        const hue = Math.round((higherIsBetter ? x : 1 - x) * 120);
        return `<td style="background:hsl(${hue},70%,80%)">${esc(percent(x))}</td>`;
      });
      return `<tr><th>${esc(row)}</th>${tds.join('')}</tr>`;
    });
    return `<h3>${esc(title)}</h3><table class="numbers heatmap"><thead>${head}</thead><tbody>${body.join('')}</tbody></table>`;
  };
  const parts = [heatmap('Final accuracy', (v) => v.finalAccuracy, true)];
  if (cells.some((v) => v.attackSuccessRate !== null)) parts.push(heatmap('Backdoor attack success rate', (v) => v.attackSuccessRate, false));
  return section('Heatmaps', parts.join(''));
}

function overridesText(overrides: Record<string, unknown>): string {
  const parts = Object.entries(overrides).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length > 0 ? `<code>${esc(parts.join(', '))}</code>` : '<span class="muted">(base)</span>';
}

/** The attacks of a membership-inference report (summary.membershipInference), or none. */
function attacksOf(report: unknown): Record<string, unknown>[] {
  return isObject(report) && Array.isArray(report.attacks) ? report.attacks.filter(isObject) : [];
}

function lastValue(rounds: RoundRecord[], get: (r: RoundRecord) => number | null): number | null {
  for (let i = rounds.length - 1; i >= 0; i--) {
    const v = get(rounds[i]!);
    if (v !== null) return v;
  }
  return null;
}

function sum(rounds: RoundRecord[], get: (r: RoundRecord) => number | null): number {
  return rounds.reduce((s, r) => s + (get(r) ?? 0), 0);
}

/** The summary's number when it has one, else what the rounds say. */
function numberOr(value: unknown, fallback: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return typeof fallback === 'number' && Number.isFinite(fallback) ? fallback : null;
}

function maybe(value: number | null, format: (n: number) => string): string {
  return value === null ? '–' : format(value);
}

function maybeNumber(value: unknown, format: (n: number) => string): string {
  return maybe(typeof value === 'number' && Number.isFinite(value) ? value : null, format);
}

const PAGE_CSS = `
:root { color-scheme: light; }
body { margin: 0; background: #f9fafb; color: #111827; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 12px; word-break: break-all; }
h2 { font-size: 17px; margin: 28px 0 10px; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 0; }
.facts dt { color: #6b7280; font-size: 12px; }
.facts dd { margin: 0; font-weight: 600; }
table { border-collapse: collapse; background: #fff; border: 1px solid #e5e7eb; }
th, td { padding: 5px 10px; border-bottom: 1px solid #e5e7eb; text-align: left; vertical-align: top; }
thead th { background: #f3f4f6; font-weight: 600; white-space: nowrap; }
table.kv th { font-weight: 500; color: #374151; }
.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 12px 20px; align-items: start; }
.summary h3 { font-size: 14px; margin: 0 0 6px; }
.summary table { width: 100%; }
table.numbers td, table.variants td { font-variant-numeric: tabular-nums; }
/* Names, numbers and units stay on one line; status (with its error) and overrides may wrap. */
table.numbers td, table.variants td:nth-child(1), table.variants td:nth-child(n+4) { white-space: nowrap; }
tr.failed td { background: #fef2f2; }
.status.ok { color: #15803d; }
.status.failed { color: #b91c1c; font-weight: 600; }
.error { color: #b91c1c; white-space: pre-wrap; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; background: #111827; color: #fff; font-size: 11px; }
.note, .muted { color: #6b7280; }
code { font-size: 12px; }
details { margin-top: 20px; }
summary { cursor: pointer; font-weight: 600; }
details table { margin-top: 8px; }
pre { background: #fff; border: 1px solid #e5e7eb; padding: 12px; overflow: auto; }
`;
