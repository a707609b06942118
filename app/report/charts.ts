/**
 * Charts of runs and comparisons, drawn in the browser with uPlot. One module for the static HTML
 * reports and the live dashboard: the Node side prepares the data (`comparisonChartData`,
 * `paretoFront`) and the assets to inline (`uplotAssets`), and `CHARTS_JS` is the page script
 * that turns that data into charts.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ComparisonRecords, RoundRecord } from './run-records.js';

/**
 * What `FedsimCharts.renderRun` reads: the rounds of a run, and the summary and scenario the
 * target comes from (RunRecords satisfies it).
 */
export interface RunChartData {
  rounds: RoundRecord[];
  summary?: Record<string, unknown> | null;
  scenario?: unknown;
}

/** The target the run stops at, drawn as a line on its quality chart. */
export interface ChartTarget {
  accuracy?: number;
  mse?: number;
}

export interface ParetoPoint {
  name: string;
  epsilon: number;
  value: number;
}

/** A variant on the ε scatter; `index` is its place in comparison.variants (it picks its colour). */
export interface ScatterPoint extends ParetoPoint {
  index: number;
}

/** What `FedsimCharts.renderComparison` reads. */
export interface ComparisonChartData extends ComparisonRecords {
  scatter: {
    metric: 'accuracy' | 'mse';
    points: ScatterPoint[];
    front: ScatterPoint[];
  };
}

/**
 * The privacy–utility Pareto front: the points that no other point beats, i.e. that give the best
 * value among all points with ε at most theirs. Sorted by ε; as a step function it reads "the best
 * value reachable within budget ε". Of equal points only the first is kept; points with a
 * non-finite ε or value (no DP, no evaluation) are not candidates.
 */
export function paretoFront<T extends ParetoPoint>(points: readonly T[], better: 'higher' | 'lower' = 'higher'): T[] {
  const sign = better === 'higher' ? 1 : -1;
  const candidates = points
    .filter((p) => Number.isFinite(p.epsilon) && Number.isFinite(p.value))
    // Cheapest first; at equal ε the best first, so the others at that ε can't join.
    .sort((a, b) => a.epsilon - b.epsilon || sign * (b.value - a.value));
  const front: T[] = [];
  for (const p of candidates) {
    const best = front.at(-1);
    if (best === undefined || sign * (p.value - best.value) > 0) front.push(p);
  }
  return front;
}

/**
 * The data of a comparison's charts: the rounds as read, plus the ε scatter of final quality.
 * Accuracy where any variant has it, MSE (lower is better) for regression sweeps.
 */
export function comparisonChartData(records: ComparisonRecords): ComparisonChartData {
  const variants = records.comparison.variants;
  const metric = variants.some((v) => v.finalAccuracy !== null) || !variants.some((v) => v.finalMse !== null) ? 'accuracy' : 'mse';
  const points: ScatterPoint[] = [];
  variants.forEach((v, index) => {
    const value = metric === 'accuracy' ? v.finalAccuracy : v.finalMse;
    // Without DP ε is ∞: such variants are listed in the table, not placed on the scatter.
    if (v.status === 'completed' && v.epsilon !== null && value !== null) points.push({ name: v.name, epsilon: v.epsilon, value, index });
  });
  return { ...records, scatter: { metric, points, front: paretoFront(points, metric === 'accuracy' ? 'higher' : 'lower') } };
}

/** uPlot's minified browser build and stylesheet, to inline into a page (no network at view time). */
export function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  return {
    js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
}

/** Styles of the chart containers that CHARTS_JS creates; pages add their own around them. */
export const CHARTS_CSS = `
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.charts .chart { min-width: 0; overflow: hidden; background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px; }
.charts .u-title { font-size: 14px; font-weight: 600; }
.charts .u-legend { font-size: 12px; }
.charts .empty { color: #6b7280; }
`;

/**
 * The page script. Needs uPlot loaded first; defines `window.FedsimCharts`:
 *   renderRun(container, { rounds, summary?, scenario? }) → handle
 *   renderComparison(container, chartData)     → handle
 *   runChartSpecs(rounds, target?), runTarget(run), comparisonChartSpecs(chartData), mount(container, specs) → handle
 * where handle = { update(specs), destroy() }: a dashboard re-derives specs as rounds arrive and
 * calls update, which only redraws charts whose set of series changed.
 *
 * Plain JS source rather than a TS function's toString(): tsx and vitest compile TS functions and
 * may insert helpers (esbuild's __name) that do not exist in a page. It avoids backticks and
 * dollar-brace so it can live in this template literal unchanged.
 */
export const CHARTS_JS = String.raw`
(function (root) {
  'use strict';

  var HEIGHT = 260;
  var PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c'];

  function colour(i) { return PALETTE[i % PALETTE.length]; }
  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function column(rounds, get) { return rounds.map(function (r) { var v = get(r); return isNum(v) ? v : null; }); }
  function field(name) { return function (r) { return r[name]; }; }
  function privacyField(name) { return function (r) { return r.privacy ? r.privacy[name] : null; }; }

  function formatBytes(n) {
    if (!isNum(n)) return '';
    var units = ['B', 'kB', 'MB', 'GB', 'TB'];
    var v = Math.abs(n);
    var i = 0;
    while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
    return (n < 0 ? '-' : '') + (i === 0 ? String(v) : String(Number(v.toPrecision(3)))) + ' ' + units[i];
  }

  // A spec says what to draw, independent of uPlot: { key, title, xLabel, yLabel, yFormat, xPad, x, series }
  // with series [{ label, values, colour, scatter, step, dash }]. Series without any value are
  // dropped, and a chart left without series is not drawn.
  function spec(key, title, xLabel, yLabel, x, series, yFormat) {
    var kept = series.filter(function (s) { return s.values.some(isNum); });
    // A target line alone is no chart: there is nothing yet to compare with it.
    if (kept.every(function (s) { return s.target; })) return null;
    return { key: key, title: title, xLabel: xLabel, yLabel: yLabel, yFormat: yFormat || null, x: x, series: kept };
  }

  // The run's target from its summary, else from its scenario; null without one.
  function runTarget(run) {
    var fromSummary = run.summary && run.summary.target;
    var evaluation = run.scenario && run.scenario.evaluation;
    var accuracy = fromSummary && isNum(fromSummary.accuracy) ? fromSummary.accuracy : evaluation && isNum(evaluation.targetAccuracy) ? evaluation.targetAccuracy : null;
    var mse = fromSummary && isNum(fromSummary.mse) ? fromSummary.mse : evaluation && isNum(evaluation.targetMse) ? evaluation.targetMse : null;
    if (accuracy === null && mse === null) return null;
    var target = {};
    if (accuracy !== null) target.accuracy = accuracy;
    if (mse !== null) target.mse = mse;
    return target;
  }

  function targetSeries(x, value, label) {
    return { label: label, values: x.map(function () { return value; }), colour: '#6b7280', dash: [6, 4], target: true };
  }

  // target: { accuracy, mse } or null; drawn as a dashed level line on the quality chart.
  function runChartSpecs(rounds, target) {
    var x = rounds.map(function (r) { return r.round; });
    var line = function (label, get, c) { return { label: label, values: column(rounds, get), colour: c }; };
    var accuracy = line('test accuracy', field('testAccuracy'), colour(0));
    var goal = target || {};
    // Regression runs have MSE instead of accuracy.
    var quality = accuracy.values.some(isNum)
      ? spec('quality', 'Test accuracy', 'round', 'accuracy', x, [accuracy].concat(isNum(goal.accuracy) ? [targetSeries(x, goal.accuracy, 'target')] : []))
      : spec('quality', 'Test MSE', 'round', 'MSE', x, [line('test MSE', field('testMse'), colour(0))].concat(isNum(goal.mse) ? [targetSeries(x, goal.mse, 'target')] : []));
    var clip = line('clip norm', privacyField('clipNorm'), colour(4));
    var clipValues = clip.values.filter(isNum);
    // A fixed clip norm is one number, already in the summary; only adaptive clipping gets a chart.
    var clipVaries = clipValues.some(function (v) { return v !== clipValues[0]; });
    return [
      quality,
      spec('loss', 'Loss', 'round', 'loss', x, [line('train loss', field('trainLoss'), colour(3)), line('test loss', field('testLoss'), colour(0))]),
      spec('epsilon', 'Privacy spent (ε)', 'round', 'ε', x, [line('ε', privacyField('epsilon'), colour(1))]),
      clipVaries ? spec('clip', 'Clip norm', 'round', 'clip norm', x, [clip]) : null,
      spec('bytes', 'Bytes per round', 'round', 'bytes', x, [line('down', field('bytesDown'), colour(0)), line('up', field('bytesUp'), colour(3))], 'bytes'),
      spec('clients', 'Clients per round', 'round', 'clients', x, [
        line('completed', field('completed'), colour(2)),
        line('dropped', field('dropped'), colour(3)),
        line('rejected', field('rejected'), colour(1)),
      ]),
    ].filter(Boolean);
  }

  function comparisonChartSpecs(data) {
    var variants = data.comparison.variants;
    var perVariant = data.variantRounds;
    // All variants share one round axis; one that stopped early simply ends.
    var roundSet = new Set();
    perVariant.forEach(function (rounds) { (rounds || []).forEach(function (r) { roundSet.add(r.round); }); });
    var x = Array.from(roundSet).sort(function (a, b) { return a - b; });
    function perVariantSeries(get) {
      var series = [];
      variants.forEach(function (v, i) {
        var rounds = perVariant[i];
        if (!rounds) return;
        var byRound = new Map();
        rounds.forEach(function (r) { var value = get(r); if (isNum(value)) byRound.set(r.round, value); });
        series.push({ label: v.name, colour: colour(i), values: x.map(function (round) { return byRound.has(round) ? byRound.get(round) : null; }) });
      });
      return series;
    }
    var accuracy = spec('quality', 'Test accuracy per variant', 'round', 'accuracy', x, perVariantSeries(field('testAccuracy')));
    var specs = [
      accuracy || spec('quality', 'Test MSE per variant', 'round', 'MSE', x, perVariantSeries(field('testMse'))),
      spec('epsilon', 'Privacy spent (ε) per variant', 'round', 'ε', x, perVariantSeries(privacyField('epsilon'))),
    ];
    var scatter = data.scatter;
    if (scatter && scatter.points.length > 0) {
      var epsilons = Array.from(new Set(scatter.points.map(function (p) { return p.epsilon; }))).sort(function (a, b) { return a - b; });
      var at = function (list) {
        return epsilons.map(function (e) { var p = list.find(function (q) { return q.epsilon === e; }); return p ? p.value : null; });
      };
      var label = scatter.metric === 'accuracy' ? 'final accuracy' : 'final MSE';
      var series = scatter.points.map(function (p) { return { label: p.name, colour: colour(p.index), values: at([p]), scatter: true }; });
      series.push({ label: 'Pareto front', colour: '#111827', values: at(scatter.front), step: true, dash: [6, 4] });
      var pareto = spec('pareto', label.charAt(0).toUpperCase() + label.slice(1) + ' vs ε', 'ε', label, epsilons, series);
      // Points at the ends of the axis would be cut in half.
      pareto.xPad = true;
      specs.push(pareto);
    }
    return specs.filter(Boolean);
  }

  // Legend values as the report's tables show them, not as floats print (0.8123000000000001).
  function legendValue(yFormat) {
    return function (u, v) {
      if (!isNum(v)) return '--';
      return yFormat === 'bytes' ? formatBytes(v) : String(Number(v.toPrecision(4)));
    };
  }

  function seriesOptions(s, yFormat) {
    var o = { label: s.label, stroke: s.colour, width: s.target ? 1.5 : 2, spanGaps: true, value: legendValue(yFormat) };
    if (s.dash) o.dash = s.dash;
    if (s.target) o.points = { show: false };
    if (s.scatter) {
      o.paths = function () { return null; };
      o.points = { show: true, size: 10, fill: s.colour };
    } else if (s.step) {
      // The front as "best value reachable within this ε": flat until the next front point.
      // Its own points would hide the variants' dots underneath.
      o.paths = uPlot.paths.stepped({ align: 1 });
      o.points = { show: false };
    }
    return o;
  }

  function uplotOptions(s, width) {
    var yAxis = { label: s.yLabel, size: 64 };
    if (s.yFormat === 'bytes') yAxis.values = function (u, ticks) { return ticks.map(formatBytes); };
    var xScale = { time: false };
    if (s.xPad) {
      xScale.range = function (u, min, max) {
        var pad = (max - min) * 0.05 || Math.abs(min) * 0.1 || 1;
        return [min - pad, max + pad];
      };
    }
    var scatter = s.series.some(function (series) { return series.scatter; });
    var xAxis = { label: s.xLabel };
    // Rounds are whole: no tick at round 1.25.
    if (s.xLabel === 'round') xAxis.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
    return {
      title: s.title,
      width: width,
      height: HEIGHT,
      scales: { x: xScale },
      axes: [xAxis, yAxis],
      series: [{ label: s.xLabel, value: function (u, v) { return isNum(v) ? String(Number(v.toPrecision(4))) : ''; } }].concat(s.series.map(function (series) { return seriesOptions(series, s.yFormat); })),
      hooks: { ready: [showFinalValues(scatter)], setLegend: [showFinalValues(scatter)] },
    };
  }

  // A static page has no cursor, and uPlot's legend then reads "round: -- accuracy: --". With
  // the cursor off the chart, the legend shows each series' last value instead; on a scatter
  // every series is one point at its own x, so the x entry stays empty there.
  function showFinalValues(scatter) {
    return function (u) {
      if (u.cursor.idx != null) return;
      var idxs = u.data.map(function (values, i) {
        if (i === 0 && scatter) return null;
        for (var j = values.length - 1; j >= 0; j--) if (values[j] != null) return j;
        return null;
      });
      // Without firing setLegend again, which would call this hook once more.
      u.setLegend({ idxs: idxs }, false);
    };
  }

  function chartData(s) {
    return [s.x].concat(s.series.map(function (series) { return series.values; }));
  }

  function signature(specs) {
    return specs.map(function (s) { return s.key + ':' + s.series.map(function (series) { return series.label; }).join(','); }).join('|');
  }

  function mount(container, specs) {
    var charts = [];
    var drawn = null;
    var widthOf = function (el) { return Math.max(280, Math.floor(el.clientWidth || container.clientWidth || 800) - 16); };

    function draw(list) {
      destroyCharts();
      if (list.length === 0) {
        var note = document.createElement('p');
        note.className = 'empty';
        note.textContent = 'Nothing to chart yet.';
        container.appendChild(note);
        charts.push({ el: note, plot: null });
      }
      list.forEach(function (s) {
        var el = document.createElement('div');
        el.className = 'chart';
        container.appendChild(el);
        charts.push({ el: el, plot: new uPlot(uplotOptions(s, widthOf(el)), chartData(s), el) });
      });
      drawn = signature(list);
    }

    function update(list) {
      if (signature(list) !== drawn) return draw(list);
      list.forEach(function (s, i) { charts[i].plot.setData(chartData(s)); });
    }

    function destroyCharts() {
      charts.forEach(function (c) { if (c.plot) c.plot.destroy(); container.removeChild(c.el); });
      charts = [];
    }

    function resize() {
      charts.forEach(function (c) { if (c.plot) c.plot.setSize({ width: widthOf(c.el), height: HEIGHT }); });
    }

    if (root.addEventListener) root.addEventListener('resize', resize);
    draw(specs);
    return {
      update: update,
      destroy: function () {
        if (root.removeEventListener) root.removeEventListener('resize', resize);
        destroyCharts();
      },
    };
  }

  root.FedsimCharts = {
    runChartSpecs: runChartSpecs,
    comparisonChartSpecs: comparisonChartSpecs,
    mount: mount,
    renderRun: function (container, run) { return mount(container, runChartSpecs(run.rounds, runTarget(run))); },
    runTarget: runTarget,
    renderComparison: function (container, data) { return mount(container, comparisonChartSpecs(data)); },
    formatBytes: formatBytes,
  };
})(typeof window !== 'undefined' ? window : globalThis);
`;
