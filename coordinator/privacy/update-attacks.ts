/**
 * The curious coordinator's attacks on the individual updates it kept (update-capture.ts):
 * gradient inversion of each attacked client's inputs and membership inference of candidate
 * samples against its update, scored per update, per round and over the run.
 *
 * Scoring needs ground truth that no real coordinator has: the client's own samples, looked up
 * here in the simulator's partition, only to measure how close the attack came (PSNR, SSIM) and
 * who the members were (AUC). The attacks themselves use only what the coordinator holds: the
 * update, the client's reported sample count, the global model, the data's value range, and
 * candidate samples to test.
 */
import { subset, type DataSplit } from '../../shared/data/dataset.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import type { FederatedData } from '../../shared/data/federated-data.js';
import { layoutOf } from '../../shared/models/parameters.js';
import { Rng } from '../../shared/random.js';
import type { Scenario, UpdateAttacksSpec } from '../../shared/scenario/schema.js';
import type { LayersModel } from '../../shared/tf.js';
import { denseInputLayer, reconstructInputs, type DenseInputLayer } from './gradient-inversion.js';
import { psnr, ssim } from './image-quality.js';
import { rocAuc, summarizeAttack, type AttackResult } from './membership-inference.js';
import type { CapturedUpdate, UpdateCapture } from './update-capture.js';
import { scoreAgainstUpdate, type UpdateAttackName, type UpdateMembershipScores } from './update-membership-inference.js';

export interface InversionOfUpdate {
  round: number;
  clientId: number;
  /** The client's samples: the inputs the attack tried to rebuild. */
  samples: number;
  /** Distinct reconstructions matched to the samples (fewer than samples when fewer units moved, or several samples look alike). */
  reconstructions: number;
  /** Over the client's samples, each matched one-to-one to a reconstruction. */
  meanPsnr: number;
  meanSsim: number | null;
}

export interface GradientInversionReport {
  /** Why the attack could not run on this model (a convolutional first layer), else null. */
  notApplicable: string | null;
  /** Original samples scored over all attacked updates. */
  samples: number;
  meanPsnr: number | null;
  medianPsnr: number | null;
  /** SSIM for image data (null otherwise). */
  meanSsim: number | null;
  perRound: { round: number; meanPsnr: number; meanSsim: number | null }[];
  perUpdate: InversionOfUpdate[];
}

export type UpdateAttackResult = Omit<AttackResult, 'attack'> & { attack: UpdateAttackName };

export interface UpdateMembershipReport {
  /** Candidate samples tested, over all attacked updates. */
  members: number;
  nonMembers: number;
  /** Pooled over every attacked update (one threshold for all). */
  attacks: UpdateAttackResult[];
  perRound: { round: number; members: number; nonMembers: number; auc: Record<UpdateAttackName, number> }[];
}

export interface UpdateAttacksReport {
  /** Why the coordinator had nothing to attack (secure aggregation), else null. */
  notApplicable: string | null;
  /** What the coordinator held of each client's update. */
  observed: string;
  attackedUpdates: number;
  gradientInversion: GradientInversionReport | null;
  membershipInference: UpdateMembershipReport | null;
}

export interface ReconstructionPair {
  round: number;
  clientId: number;
  /** The sample's index in the training set and its label. */
  sample: number;
  label: number;
  psnr: number;
  ssim: number | null;
  original: Float32Array;
  reconstruction: Float32Array;
}

export interface ReconstructionImages {
  featureShape: number[];
  /** The data's value range, for display. */
  range: [number, number];
  pairs: ReconstructionPair[];
}

const MIA_ATTACKS: readonly UpdateAttackName[] = ['gradient-alignment', 'loss-drop'];

/** The secure-aggregation reason, for runs where the attacks have nothing to work on. */
export function updateAttacksNotApplicable(scenario: Scenario): string | null {
  if (!scenario.privacy.secureAggregation) return null;
  return 'secure aggregation: the coordinator only ever holds masked updates and the survivors’ sum, never one client’s update';
}

/** What each protection leaves the coordinator holding. */
export function observedUpdates(scenario: Scenario): string {
  const dp = scenario.privacy.dp;
  if (scenario.privacy.secureAggregation) return 'masked updates and their sum only';
  if (!dp) return 'each client’s update, in the clear';
  if (dp.mode === 'local') return 'each client’s update, clipped and noised by the client (local DP)';
  return 'each client’s clipped update, in the clear: central DP adds its noise to the sum after the coordinator has seen every update';
}

/** Runs both attacks on every captured update, in (round, client) order whatever order they arrived in. */
export async function runUpdateAttacks(p: {
  capture: UpdateCapture;
  scenario: Scenario;
  spec: UpdateAttacksSpec;
  model: LayersModel;
  shape: DataShape;
  data: FederatedData;
}): Promise<{ report: UpdateAttacksReport; images: ReconstructionImages | null }> {
  const { capture, scenario, spec, model, shape, data } = p;
  const updates = [...capture.updates].sort((a, b) => a.round - b.round || a.clientId - b.clientId);
  const observed = observedUpdates(scenario);
  if (updates.length === 0)
    return { report: { notApplicable: null, observed, attackedUpdates: 0, gradientInversion: null, membershipInference: null }, images: null };
  const inversion = invertUpdates(updates, model, shape, data, spec.imagesInReport);
  const membershipInference = await inferMembership(updates, capture, spec.candidates, scenario.seed, model, shape, data);
  return {
    report: { notApplicable: null, observed, attackedUpdates: updates.length, gradientInversion: inversion.report, membershipInference },
    images: inversion.images,
  };
}

function invertUpdates(
  updates: readonly CapturedUpdate[],
  model: LayersModel,
  shape: DataShape,
  data: FederatedData,
  imagesInReport: number,
): { report: GradientInversionReport; images: ReconstructionImages | null } {
  const { dataset } = data;
  const layer = denseInputLayer(layoutOf(model), dataset.featureSize);
  if ('reason' in layer) {
    return { report: { notApplicable: layer.reason, samples: 0, meanPsnr: null, medianPsnr: null, meanSsim: null, perRound: [], perUpdate: [] }, images: null };
  }
  const range = valueRange(dataset.train);
  const isImage = shape.featureShape.length === 3 || shape.featureShape.length === 2;
  const perUpdate: InversionOfUpdate[] = [];
  const pairsPerUpdate: ReconstructionPair[][] = [];
  for (const update of updates) {
    const pairs = invertOne(update, layer, data, range, isImage ? shape.featureShape : null);
    pairsPerUpdate.push(pairs);
    perUpdate.push({
      round: update.round,
      clientId: update.clientId,
      samples: pairs.length,
      reconstructions: new Set(pairs.map((pair) => pair.reconstruction)).size,
      meanPsnr: mean(pairs.map((pair) => pair.psnr)),
      meanSsim: isImage ? mean(pairs.map((pair) => pair.ssim!)) : null,
    });
  }
  const all = pairsPerUpdate.flat();
  const rounds = [...new Set(updates.map((u) => u.round))];
  const report: GradientInversionReport = {
    notApplicable: null,
    samples: all.length,
    meanPsnr: all.length > 0 ? mean(all.map((pair) => pair.psnr)) : null,
    medianPsnr: all.length > 0 ? median(all.map((pair) => pair.psnr)) : null,
    meanSsim: isImage && all.length > 0 ? mean(all.map((pair) => pair.ssim!)) : null,
    perRound: rounds.map((round) => {
      const inRound = pairsPerUpdate.filter((_, i) => updates[i]!.round === round).flat();
      return { round, meanPsnr: mean(inRound.map((pair) => pair.psnr)), meanSsim: isImage ? mean(inRound.map((pair) => pair.ssim!)) : null };
    }),
    perUpdate,
  };
  const images = isImage && imagesInReport > 0 ? { featureShape: shape.featureShape, range, pairs: roundRobin(pairsPerUpdate, imagesInReport) } : null;
  return { report, images };
}

/** Rebuilds the client's inputs from its update and scores each original against its matched reconstruction. */
function invertOne(
  update: CapturedUpdate,
  layer: DenseInputLayer,
  data: FederatedData,
  range: [number, number],
  imageShape: number[] | null,
): ReconstructionPair[] {
  const rows = data.clients[update.clientId] ?? [];
  const { featureSize, train } = data.dataset;
  const originals = rows.map((row) => train.features.subarray(row * featureSize, (row + 1) * featureSize));
  // The value range is public (pixels are in [0, 1]): an attacker clips to it.
  const rebuilt = reconstructInputs(update.delta, layer, Math.max(1, update.samples)).map((r) =>
    r.values.map((v) => Math.min(range[1], Math.max(range[0], v))),
  );
  if (rebuilt.length === 0) rebuilt.push(new Float32Array(featureSize).fill((range[0] + range[1]) / 2));
  const span = range[1] - range[0] || 1;
  const matches = matchOneToOne(originals, rebuilt, span);
  return rows.map((row, i) => {
    const reconstruction = rebuilt[matches[i]!]!;
    return {
      round: update.round,
      clientId: update.clientId,
      sample: row,
      label: train.labels[row]!,
      psnr: psnr(originals[i]!, reconstruction, span),
      ssim: imageShape ? ssim(originals[i]!, reconstruction, imageShape, span) : null,
      original: Float32Array.from(originals[i]!),
      reconstruction,
    };
  });
}

/**
 * Greedy one-to-one assignment by PSNR, best pair first, as gradient-inversion papers score a
 * batch; once every reconstruction is taken, the remaining originals take their best one again.
 */
export function matchOneToOne(originals: readonly ArrayLike<number>[], reconstructions: readonly ArrayLike<number>[], range: number): number[] {
  const scores = originals.map((o) => reconstructions.map((r) => psnr(o, r, range)));
  const match = new Array<number>(originals.length).fill(-1);
  const taken = new Set<number>();
  const pairs = scores.flatMap((row, i) => row.map((score, j) => ({ i, j, score }))).sort((a, b) => b.score - a.score || a.i - b.i || a.j - b.j);
  for (const { i, j } of pairs) {
    if (match[i] !== -1 || taken.has(j)) continue;
    match[i] = j;
    taken.add(j);
  }
  return match.map((j, i) => (j !== -1 ? j : scores[i]!.indexOf(Math.max(...scores[i]!))));
}

async function inferMembership(
  updates: readonly CapturedUpdate[],
  capture: UpdateCapture,
  candidates: number,
  seed: number,
  model: LayersModel,
  shape: DataShape,
  data: FederatedData,
): Promise<UpdateMembershipReport> {
  const { featureSize, train, test } = data.dataset;
  const scored: { round: number; members: UpdateMembershipScores; nonMembers: UpdateMembershipScores }[] = [];
  for (const update of updates) {
    const rng = new Rng(seed).fork(`update-membership:${update.round}:${update.clientId}`);
    const own = data.clients[update.clientId] ?? [];
    const memberRows = rng
      .fork('members')
      .sampleWithoutReplacement(own.length, Math.min(candidates, own.length))
      .map((i) => own[i]!);
    const nonMemberRows = rng.fork('non-members').sampleWithoutReplacement(test.count, Math.min(candidates, test.count));
    if (memberRows.length === 0) continue;
    const global = capture.globals.get(update.round)!;
    const score = (split: DataSplit) => scoreAgainstUpdate({ model, shape, global, delta: update.delta, candidates: split });
    scored.push({
      round: update.round,
      members: await score(subset(train, featureSize, memberRows)),
      nonMembers: await score(subset(test, featureSize, nonMemberRows)),
    });
  }
  const pooled = (list: typeof scored, attack: UpdateAttackName, side: 'members' | 'nonMembers') => list.flatMap((s) => Array.from(s[side][attack]));
  const rounds = [...new Set(scored.map((s) => s.round))];
  return {
    members: pooled(scored, 'loss-drop', 'members').length,
    nonMembers: pooled(scored, 'loss-drop', 'nonMembers').length,
    attacks: MIA_ATTACKS.map((attack) => summarizeAttack(attack, pooled(scored, attack, 'members'), pooled(scored, attack, 'nonMembers'))),
    perRound: rounds.map((round) => {
      const inRound = scored.filter((s) => s.round === round);
      const auc = Object.fromEntries(
        MIA_ATTACKS.map((attack) => [attack, rocAuc(pooled(inRound, attack, 'members'), pooled(inRound, attack, 'nonMembers'))]),
      ) as Record<UpdateAttackName, number>;
      return { round, members: pooled(inRound, 'loss-drop', 'members').length, nonMembers: pooled(inRound, 'loss-drop', 'nonMembers').length, auc };
    }),
  };
}

/** First pair of every update, then the second of every update, …: the report shows many clients before many samples of one. */
function roundRobin<T>(lists: readonly T[][], limit: number): T[] {
  const out: T[] = [];
  for (let k = 0; out.length < limit && lists.some((list) => list.length > k); k++) {
    for (const list of lists) if (list[k] !== undefined && out.length < limit) out.push(list[k]!);
  }
  return out;
}

function valueRange(split: DataSplit): [number, number] {
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of split.features) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
