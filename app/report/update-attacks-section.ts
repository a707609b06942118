/**
 * report.html's part on a curious coordinator's attacks on individual updates: the figures, the
 * per-round table and the grid of original vs reconstructed inputs (from reconstructions.json);
 * in a comparison, one row per variant. Input is read back from JSON, so every field is checked.
 */
import { greyPngDataUri } from './grey-png.js';
import { esc, isObject, num, text } from './record-values.js';

export function updateAttacksRunSection(report: unknown, reconstructions: unknown): string {
  if (!isObject(report)) return '';
  const observed = `<p>The coordinator held: ${esc(text(report.observed) ?? '–')}.</p>`;
  const notApplicable = text(report.notApplicable);
  if (notApplicable) return section(`${observed}<p><strong>Not applicable:</strong> ${esc(notApplicable)}.</p>`);
  const inversion = isObject(report.gradientInversion) ? report.gradientInversion : null;
  const mia = isObject(report.membershipInference) ? report.membershipInference : null;
  const parts = [observed, `<p>Updates attacked: ${esc(String(num(report.attackedUpdates) ?? 0))}.</p>`];
  if (inversion) parts.push(inversionPart(inversion), imageGrid(reconstructions));
  if (mia) parts.push(membershipPart(mia));
  return section(parts.join(''));
}

/** comparison report: one row per variant that ran the attacks (comparison.json's updateAttacks). */
export function updateAttacksComparisonSection(variants: readonly { name: string; updateAttacks?: unknown }[]): string {
  const rows = variants.filter((v) => isObject(v.updateAttacks));
  if (rows.length === 0) return '';
  const body = rows
    .map((v) => {
      const u = v.updateAttacks as Record<string, unknown>;
      const na = text(u.notApplicable);
      const cells = na
        ? [`<td colspan="4">not applicable: ${esc(na)}</td>`]
        : [
            `<td>${text(u.inversionNotApplicable) ? `not applicable: ${esc(text(u.inversionNotApplicable)!)}` : `${db(u.inversionPsnr)} / ${db(u.inversionMedianPsnr)}`}</td>`,
            `<td>${fixed(u.inversionSsim)}</td>`,
            `<td>${fixed(u.alignmentAuc)} / ${fixed(u.lossDropAuc)}</td>`,
            `<td>${pct(u.alignmentTprAt1PctFpr)}</td>`,
          ];
      return `<tr><td>${esc(v.name)}</td><td>${esc(text(u.observed) ?? '–')}</td>${cells.join('')}</tr>`;
    })
    .join('');
  const head =
    '<tr><th>Variant</th><th>The coordinator holds</th><th>Inversion PSNR mean / median</th><th>SSIM</th><th>Update MIA AUC: alignment / loss drop</th><th>TPR at 1% FPR</th></tr>';
  return section(`<table class="numbers"><thead>${head}</thead><tbody>${body}</tbody></table>${NOTE}`);
}

const NOTE =
  '<p class="note">Scored with ground truth only the simulator has: the attacked client’s own samples, looked up in the partition. A real coordinator sees only the update. PSNR is capped at 100 dB (exact up to float32 round-off); AUC 0.5 is guessing.</p>';

function section(content: string): string {
  return `<section><h2>Attacks by a curious coordinator on individual updates</h2>${content}</section>`;
}

function inversionPart(inversion: Record<string, unknown>): string {
  const na = text(inversion.notApplicable);
  if (na) return `<h3>Gradient inversion</h3><p>Not applicable: ${esc(na)}.</p>`;
  const perRound = Array.isArray(inversion.perRound) ? inversion.perRound.filter(isObject) : [];
  const rows = perRound.map((r) => `<tr><td>${num(r.round) ?? '–'}</td><td>${db(r.meanPsnr)}</td><td>${fixed(r.meanSsim)}</td></tr>`).join('');
  return (
    `<h3>Gradient inversion (analytic, dense first layer)</h3>` +
    `<p>${num(inversion.samples) ?? 0} samples: PSNR mean ${db(inversion.meanPsnr)}, median ${db(inversion.medianPsnr)}; SSIM mean ${fixed(inversion.meanSsim)}.</p>` +
    `<table class="numbers"><thead><tr><th>round</th><th>PSNR</th><th>SSIM</th></tr></thead><tbody>${rows}</tbody></table>`
  );
}

function membershipPart(mia: Record<string, unknown>): string {
  const attacks = Array.isArray(mia.attacks) ? mia.attacks.filter(isObject) : [];
  const perRound = Array.isArray(mia.perRound) ? mia.perRound.filter(isObject) : [];
  const overall = attacks
    .map(
      (a) =>
        `<tr><td>${esc(text(a.attack) ?? '–')}</td><td>${fixed(a.auc)}</td><td>${pct(a.tprAt1PctFpr)}</td><td>${pct(a.tprAt10PctFpr)}</td><td>${fixed(a.advantage)}</td></tr>`,
    )
    .join('');
  const rounds = perRound
    .map((r) => {
      const auc = isObject(r.auc) ? r.auc : {};
      return `<tr><td>${num(r.round) ?? '–'}</td><td>${num(r.members) ?? '–'} / ${num(r.nonMembers) ?? '–'}</td><td>${fixed(auc['gradient-alignment'])}</td><td>${fixed(auc['loss-drop'])}</td></tr>`;
    })
    .join('');
  return (
    `<h3>Membership inference from individual updates</h3>` +
    `<p>${num(mia.members) ?? 0} members (the attacked clients’ samples) against ${num(mia.nonMembers) ?? 0} held-out samples.</p>` +
    `<table class="numbers"><thead><tr><th>attack</th><th>AUC</th><th>TPR at 1% FPR</th><th>TPR at 10% FPR</th><th>advantage</th></tr></thead><tbody>${overall}</tbody></table>` +
    `<table class="numbers"><thead><tr><th>round</th><th>members / non-members</th><th>AUC alignment</th><th>AUC loss drop</th></tr></thead><tbody>${rounds}</tbody></table>` +
    NOTE
  );
}

/** Originals above, reconstructions below, one column per sample, each captioned with its PSNR. */
function imageGrid(reconstructions: unknown): string {
  if (!isObject(reconstructions) || !Array.isArray(reconstructions.pairs) || !Array.isArray(reconstructions.featureShape)) return '';
  const [height, width] = reconstructions.featureShape as unknown[];
  if (typeof height !== 'number' || typeof width !== 'number') return '';
  const image = (data: unknown) => {
    const pixels = typeof data === 'string' ? new Uint8Array(Buffer.from(data, 'base64')) : new Uint8Array(0);
    return pixels.length === width * height ? `<img src="${greyPngDataUri(pixels, width, height)}" width="56" height="56" alt="">` : '–';
  };
  const pairs = reconstructions.pairs.filter(isObject);
  const cells = pairs
    .map(
      (p) =>
        `<figure>${image(p.original)}${image(p.reconstruction)}<figcaption>r${num(p.round) ?? '?'} c${num(p.clientId) ?? '?'}<br>${db(p.psnr)}</figcaption></figure>`,
    )
    .join('');
  return `<p>Originals (top) and reconstructions (bottom), round r, client c:</p><div class="reconstructions" style="display:flex;flex-wrap:wrap;gap:6px">${cells}</div><style>.reconstructions figure{margin:0;display:flex;flex-direction:column;align-items:center;font-size:11px}.reconstructions img{image-rendering:pixelated;border:1px solid #e5e7eb}</style>`;
}

function db(value: unknown): string {
  const n = num(value);
  return n === null ? '–' : `${n.toFixed(1)} dB`;
}

function fixed(value: unknown): string {
  const n = num(value);
  return n === null ? '–' : n.toFixed(3);
}

function pct(value: unknown): string {
  const n = num(value);
  return n === null ? '–' : `${(n * 100).toFixed(1)}%`;
}
