/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The repository's tsconfig is Node-only; these references give the dashboard's browser code its
// DOM types when the whole repository is type-checked.

/** window.FedsimCharts of app/report/charts.ts, served as a module by vite.config.ts. */
declare module 'virtual:fedsim-charts' {
  export interface ChartSeriesSpec {
    label: string;
    values: (number | null)[];
    colour: string;
    scatter?: boolean;
    step?: boolean;
    dash?: number[];
    /** A level line (the run's target), not data. */
    target?: boolean;
  }

  export interface ChartTarget {
    accuracy?: number;
    mse?: number;
  }

  export interface ChartSpec {
    key: string;
    title: string;
    xLabel: string;
    yLabel: string;
    yFormat?: 'bytes' | null;
    xPad?: boolean;
    x: number[];
    series: ChartSeriesSpec[];
  }

  export interface ChartsHandle {
    /** Redraws only the charts whose set of series changed; the others get new data. */
    update(specs: ChartSpec[]): void;
    destroy(): void;
  }

  export const FedsimCharts: {
    runChartSpecs(rounds: readonly object[], target?: ChartTarget | null): ChartSpec[];
    /** The target of a run, from its summary or else its scenario; null without one. */
    runTarget(run: { summary?: Record<string, unknown> | null; scenario?: unknown }): ChartTarget | null;
    mount(container: HTMLElement, specs: ChartSpec[]): ChartsHandle;
    formatBytes(n: number): string;
  };
}
