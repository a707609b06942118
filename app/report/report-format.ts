/**
 * Numbers as a report shows them: with their unit, rounded to what is worth reading. A report
 * never prints float noise such as 0.009999999999999953.
 */

export function percent(n: number): string {
  return `${(n * 100).toFixed(2)}%`;
}

/** Up to 4 significant digits; JS switches to exponents only for very small or large values. */
export function decimal(n: number): string {
  return String(Number(n.toPrecision(4)));
}

export function bytes(n: number): string {
  return scaled(n, 1000, ['B', 'kB', 'MB', 'GB', 'TB']);
}

/** Floating-point operations: 45846000 → "45.8 MFLOP". */
export function flops(n: number): string {
  return scaled(n, 1000, ['FLOP', 'kFLOP', 'MFLOP', 'GFLOP', 'TFLOP', 'PFLOP', 'EFLOP']);
}

/** Joules, and watt-hours once there is at least one: what a battery or a bill counts in. */
export function energy(joules: number): string {
  const wattHours = joules / 3600;
  return `${scaled(joules, 1000, ['J', 'kJ', 'MJ', 'GJ'])}${wattHours >= 1 ? ` (${scaled(wattHours, 1000, ['Wh', 'kWh', 'MWh'])})` : ''}`;
}

/** Grams of CO2-equivalent, from milligrams (a small simulation) to tonnes. */
export function emissions(grams: number): string {
  if (grams !== 0 && Math.abs(grams) < 1) return `${Number((grams * 1000).toPrecision(3))} mg CO2e`;
  return `${scaled(grams, 1000, ['g', 'kg', 't'])} CO2e`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 120 ? `${m} min ${Math.round(s - m * 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A whole number with thousands separators: 1,660,000 parameters. */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en');
}

function scaled(n: number, step: number, units: readonly string[]): string {
  let v = Math.abs(n);
  let i = 0;
  while (v >= step && i < units.length - 1) {
    v /= step;
    i++;
  }
  return `${n < 0 ? '-' : ''}${i === 0 && Number.isInteger(v) ? v : Number(v.toPrecision(3))} ${units[i]}`;
}
