/**
 * The comparison's columns for a curious coordinator's attacks on individual updates: what it
 * held, how well it rebuilt the clients' inputs, how well it told members from non-members, or,
 * where it held no individual update (secure aggregation), why there is no number.
 */
import type { RunSummary } from '../run/run-simulation.js';

export interface UpdateAttacksCells {
  /** What the coordinator held of each update. */
  observed: string;
  /** Why there is nothing to attack (secure aggregation), else null. */
  notApplicable: string | null;
  inversionPsnr: number | null;
  inversionMedianPsnr: number | null;
  inversionSsim: number | null;
  /** Why the inversion could not run on this model (a convolutional first layer), else null. */
  inversionNotApplicable: string | null;
  /** Pooled AUC of the gradient-alignment and loss-drop tests, and the first's TPR at 1% FPR. */
  alignmentAuc: number | null;
  lossDropAuc: number | null;
  alignmentTprAt1PctFpr: number | null;
}

export function updateAttacksOfSummary(summary: RunSummary): UpdateAttacksCells | null {
  const report = summary.updateAttacks;
  if (!report) return null;
  const inversion = report.gradientInversion;
  const attack = (name: string) => report.membershipInference?.attacks.find((a) => a.attack === name) ?? null;
  return {
    observed: report.observed,
    notApplicable: report.notApplicable,
    inversionPsnr: inversion?.meanPsnr ?? null,
    inversionMedianPsnr: inversion?.medianPsnr ?? null,
    inversionSsim: inversion?.meanSsim ?? null,
    inversionNotApplicable: inversion?.notApplicable ?? null,
    alignmentAuc: attack('gradient-alignment')?.auc ?? null,
    lossDropAuc: attack('loss-drop')?.auc ?? null,
    alignmentTprAt1PctFpr: attack('gradient-alignment')?.tprAt1PctFpr ?? null,
  };
}

/** comparison.md's second table, when some variant ran the attacks; empty otherwise. */
export function updateAttacksCells(rows: readonly { name: string; updateAttacks: UpdateAttacksCells | null }[]): string[] {
  const attacked = rows.filter((r) => r.updateAttacks !== null);
  if (attacked.length === 0) return [];
  const lines = [
    '',
    '## Attacks by a curious coordinator on individual updates',
    '',
    '| variant | the coordinator holds | inversion PSNR mean / median | SSIM | update MIA AUC: gradient alignment / loss drop | TPR at 1% FPR |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const { name, updateAttacks: u } of attacked) {
    if (u!.notApplicable) {
      lines.push(`| ${name} | ${u!.observed} | not applicable: ${u!.notApplicable} | not applicable | not applicable | not applicable |`);
      continue;
    }
    const psnr = u!.inversionNotApplicable
      ? `not applicable: ${u!.inversionNotApplicable}`
      : `${decibels(u!.inversionPsnr)} / ${decibels(u!.inversionMedianPsnr)}`;
    lines.push(
      `| ${name} | ${u!.observed} | ${psnr} | ${fixed(u!.inversionSsim)} | ${fixed(u!.alignmentAuc)} / ${fixed(u!.lossDropAuc)} | ${u!.alignmentTprAt1PctFpr !== null ? `${(u!.alignmentTprAt1PctFpr * 100).toFixed(1)}%` : '–'} |`,
    );
  }
  lines.push(
    '',
    'Inversion: the analytic dense-layer attack on each attacked update, scored against the client’s own images (which only the simulator can look up); PSNR is capped at 100 dB (exact up to float32 round-off), SSIM 1 is identical. MIA: the client’s samples against held-out samples, tested on its update alone; AUC 0.5 is guessing.',
  );
  return lines;
}

function decibels(value: number | null): string {
  return value === null ? '–' : `${value.toFixed(1)} dB`;
}

function fixed(value: number | null): string {
  return value === null ? '–' : value.toFixed(3);
}
