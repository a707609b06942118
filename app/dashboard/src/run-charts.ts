/**
 * A run's charts, drawn by the report's chart code (FedsimCharts): the same specs as report.html,
 * re-derived as rounds arrive, plus the charts only a live run may have.
 */
import { FedsimCharts, type ChartSpec, type ChartsHandle } from 'virtual:fedsim-charts';
import type { RoundMetricsView, RunState } from '../../api/api-types.js';
import { numberOrNull } from './run-state.js';

/** The run's rounds, and the scenario and summary its target line comes from. */
export type ChartedRun = Pick<RunState, 'rounds' | 'scenario' | 'summary'>;

export function runSpecs(run: ChartedRun): ChartSpec[] {
  const rounds: readonly RoundMetricsView[] = run.rounds;
  const specs = FedsimCharts.runChartSpecs(rounds, FedsimCharts.runTarget(run));
  const simulated = rounds.map((r) => numberOrNull(r.simulatedSeconds));
  // Runs on simulated devices report how long each round would have taken on them.
  if (simulated.some((v) => v !== null)) {
    specs.push({
      key: 'simulated',
      title: 'Simulated time per round',
      xLabel: 'round',
      yLabel: 'seconds',
      x: rounds.map((r) => r.round),
      series: [{ label: 'simulated s', values: simulated, colour: '#7c3aed' }],
    });
  }
  return specs;
}

export class RunCharts {
  private handle: ChartsHandle | null = null;

  constructor(private readonly container: HTMLElement) {}

  update(run: ChartedRun): void {
    const specs = runSpecs(run);
    if (this.handle) this.handle.update(specs);
    else this.handle = FedsimCharts.mount(this.container, specs);
    this.label(specs);
  }

  destroy(): void {
    this.handle?.destroy();
    this.handle = null;
  }

  /**
   * mount() puts one .chart element per spec, in order (recreated when the series change), so
   * each is labelled again after every update: data-testid chart-<key>, and data-points, the
   * number of rounds with a value in the chart's first series, for tests to wait on.
   */
  private label(specs: ChartSpec[]): void {
    const charts = this.container.querySelectorAll<HTMLElement>(':scope > .chart');
    specs.forEach((spec, i) => {
      const el = charts[i];
      if (!el) return;
      el.dataset.testid = `chart-${spec.key}`;
      el.dataset.points = String(spec.series[0]?.values.filter((v) => v !== null).length ?? 0);
    });
    this.container.dataset.charts = String(specs.length);
  }
}
