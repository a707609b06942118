import { FedsimCharts } from 'virtual:fedsim-charts';

const DASH = '–';

export function percent(n: number | null | undefined): string {
  return typeof n === 'number' && Number.isFinite(n) ? `${(n * 100).toFixed(2)}%` : DASH;
}

export function decimal(n: number | null | undefined): string {
  return typeof n === 'number' && Number.isFinite(n) ? String(Number(n.toPrecision(4))) : DASH;
}

export function bytes(n: number | null | undefined): string {
  return typeof n === 'number' && Number.isFinite(n) ? FedsimCharts.formatBytes(n) : DASH;
}

export function rate(n: number | null | undefined): string {
  return typeof n === 'number' && Number.isFinite(n) ? `${Math.round(n).toLocaleString('en')} samples/s` : DASH;
}

export function dateTime(iso: string | null): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Seconds as "42 s", "3 min 5 s", "2 h 10 min". */
export function duration(seconds: number): string {
  if (seconds < 120) return `${Number(seconds.toPrecision(3))} s`;
  const m = Math.floor(seconds / 60);
  return m < 120 ? `${m} min ${Math.round(seconds - m * 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
