/**
 * Measured privacy leakage: membership inference against the final global model of a run.
 *
 * The attacker holds the final model and some held-out data from the population, and asks of a
 * sample "was this in the training data of a client that took part?". Members are training
 * samples of participating clients; non-members are held-out test samples of the same
 * distribution. An AUC near 0.5 and TPR at low FPR near the FPR itself mean the attack learns
 * little; what matters most for privacy is TPR at low FPR (Carlini et al. 2022), since an attack
 * that confidently identifies a few members is a real leak even when its AUC is modest.
 *
 * Two attacks:
 *
 * - loss-threshold (Yeom, Giacomelli, Fredrikson, Jha, "Privacy Risk in Machine Learning:
 *   Analyzing the Connection to Overfitting", CSF 2018): score = −loss. Members tend to have
 *   lower loss because the model was fitted to them.
 *
 * - likelihood-ratio, shadow-free: a population-reference variant of LiRA (Carlini, Chien, Nasr,
 *   Song, Terzis, Tramèr, "Membership Inference Attacks From First Principles", IEEE S&P 2022;
 *   its "offline" form, which models only the non-member distribution). φ = log(p_y / (1 − p_y))
 *   is the logit-scaled confidence in the true class (−squared error for regression). On a
 *   reference slice of held-out data, disjoint from the evaluated non-members, a Gaussian is fitted
 *   to φ per class (one global fit for regression and for classes with too few reference
 *   samples); a sample's score is log Φ((φ − μ)/σ), the one-sided test of how unusually confident
 *   the model is on it compared with non-members of its class. Close in spirit to the population
 *   attack of Ye et al. ("Enhanced Membership Inference Attacks against Machine Learning Models",
 *   CCS 2022, attack P), with class-conditional reference distributions, scored the LiRA way.
 *
 *   It is weaker than full LiRA: LiRA trains shadow models with and without each target sample
 *   and fits the Gaussians per example, so it knows that an atypical sample is hard for any model
 *   and that a high confidence on it is evidence of membership. A population fit only knows what
 *   non-members of the same class look like on average, so it mostly catches members that are
 *   fitted better than their class usually is. Training shadow federations would cost as much as
 *   the run itself; this variant costs one forward pass per sample. With one global fit the score
 *   is a monotone function of the loss, so it ranks samples exactly as loss-threshold does.
 *
 * Results are lower bounds on leakage: a stronger attack can only do better.
 */
import type { DataSplit } from '../../shared/data/dataset.js';
import { subset } from '../../shared/data/dataset.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import type { FederatedData } from '../../shared/data/federated-data.js';
import { checkedFeatureSize, makeBatch } from '../../shared/models/batches.js';
import { Rng } from '../../shared/random.js';
import * as tf from '../../shared/tf.js';
import type { LayersModel } from '../../shared/tf.js';

export interface AttackResult {
  attack: 'loss-threshold' | 'likelihood-ratio';
  auc: number;
  tprAt1PctFpr: number;
  tprAt10PctFpr: number;
  /** max over thresholds of TPR − FPR (Yeom et al.'s membership advantage). */
  advantage: number;
}

export interface MembershipInferenceReport {
  members: number;
  nonMembers: number;
  referenceSamples: number;
  attacks: AttackResult[];
}

/** Probabilities are clipped as in training and evaluation, so losses here match evaluateModel's. */
const PROBABILITY_CLIP = 1e-7;
/** Fewest reference samples a class needs for its own Gaussian; below this its mean and spread are too noisy. */
const MIN_FIT_SAMPLES = 20;
/** A reference where every φ is equal (all clipped, say) has σ = 0; this keeps z finite. */
const MIN_STD = 1e-6;
const DEFAULT_MAX_PER_SIDE = 2000;

/** Per-sample losses of a model (cross-entropy of the true class, or squared error for regression), batched, no tensor leaks. */
export async function perSampleLosses(model: LayersModel, data: DataSplit, shape: DataShape, batchSize = 1000): Promise<Float64Array> {
  return (await sampleStatistics(model, data, shape, batchSize, 'perSampleLosses')).losses;
}

/** ROC AUC with ties counted half (Mann–Whitney), where a higher score means "member". */
export function rocAuc(memberScores: ArrayLike<number>, nonMemberScores: ArrayLike<number>): number {
  return aucOf(rocCorners(memberScores, nonMemberScores, 'rocAuc'));
}

/** Largest TPR achievable with FPR ≤ fpr (thresholding the scores, ties handled conservatively). */
export function tprAtFpr(memberScores: ArrayLike<number>, nonMemberScores: ArrayLike<number>, fpr: number): number {
  if (!(fpr >= 0 && fpr <= 1)) throw new RangeError(`tprAtFpr: fpr must be in [0, 1] (got ${fpr})`);
  return tprOf(rocCorners(memberScores, nonMemberScores, 'tprAtFpr'), fpr);
}

/** AUC, TPR at 1% and 10% FPR, and advantage of one attack's scores. */
export function summarizeAttack<A extends string = AttackResult['attack']>(
  attack: A,
  memberScores: ArrayLike<number>,
  nonMemberScores: ArrayLike<number>,
): Omit<AttackResult, 'attack'> & { attack: A } {
  const roc = rocCorners(memberScores, nonMemberScores, 'summarizeAttack');
  let advantage = 0;
  for (const point of roc.points) advantage = Math.max(advantage, point.truePositives / roc.members - point.falsePositives / roc.nonMembers);
  return { attack, auc: aucOf(roc), tprAt1PctFpr: tprOf(roc, 0.01), tprAt10PctFpr: tprOf(roc, 0.1), advantage };
}

/**
 * log Φ(z) for the standard normal, accurate in both tails: computed in log space, so far-below-
 * the-mean samples keep distinct scores instead of all underflowing to −∞. erfc is Numerical
 * Recipes' Chebyshev fit (relative error < 1.2e-7 everywhere), written as log erfc.
 */
export function logNormalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z === Infinity) return 0;
  if (z === -Infinity) return -Infinity;
  // Φ(z) = ½·erfc(−z/√2).
  const x = -z / Math.SQRT2;
  if (x >= 0) return Math.log(0.5) + logErfc(x);
  return Math.log1p(-0.5 * Math.exp(logErfc(-x)));
}

/** log erfc(x) for x ≥ 0. */
function logErfc(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - x * x + poly;
}

/**
 * Runs the attacks on the final model. Members: training samples of the clients that took part in at least one round
 * (`participants`); non-members: held-out test samples (the same distribution). The attacker sees only the final model
 * plus a disjoint slice of held-out data it may use as a population reference. At most `maxPerSide` samples per side (default 2000), seeded.
 */
export async function runMembershipInference(p: {
  model: LayersModel;
  shape: DataShape;
  data: FederatedData;
  participants: readonly number[];
  seed: number;
  maxPerSide?: number;
}): Promise<MembershipInferenceReport> {
  const { model, shape, data, participants, seed } = p;
  const maxPerSide = p.maxPerSide ?? DEFAULT_MAX_PER_SIDE;
  const { dataset, clients } = data;
  const caller = 'runMembershipInference';
  if (!Number.isInteger(seed)) throw new RangeError(`${caller}: seed must be an integer (got ${seed})`);
  if (!(Number.isInteger(maxPerSide) && maxPerSide >= MIN_FIT_SAMPLES)) {
    throw new RangeError(`${caller}: maxPerSide must be an integer ≥ ${MIN_FIT_SAMPLES} (got ${maxPerSide})`);
  }
  checkShapeMatchesDataset(shape, dataset, caller);
  if (participants.length === 0) {
    throw new RangeError(`${caller}: participants is empty (expected the ids of the clients that took part in at least one round)`);
  }
  const badIds = participants.filter((id) => !(Number.isInteger(id) && id >= 0 && id < clients.length));
  if (badIds.length > 0) {
    throw new RangeError(
      `${caller}: participants holds ids that are not clients (got ${badIds.slice(0, 5).join(', ')}, expected integers in [0, ${clients.length}))`,
    );
  }

  // Sorted, so the sample drawn depends on the seed and the set of participants, not their order.
  const memberPool = [...new Set(participants.flatMap((id) => clients[id]!))].sort((a, b) => a - b);
  if (memberPool.length === 0)
    throw new RangeError(
      `${caller}: the participants' clients hold no training samples (participants: ${participants.slice(0, 5).join(', ')}${participants.length > 5 ? ', …' : ''})`,
    );

  const testCount = dataset.test.count;
  if (testCount < 2 * MIN_FIT_SAMPLES) {
    throw new RangeError(
      `${caller}: the test set has ${testCount} samples, too few to split into evaluated non-members and a population reference ` +
        `(need at least ${2 * MIN_FIT_SAMPLES}: ${MIN_FIT_SAMPLES} of each)`,
    );
  }
  const rng = new Rng(seed).fork('membership-inference');
  const memberRows = rng
    .fork('members')
    .sampleWithoutReplacement(memberPool.length, Math.min(memberPool.length, maxPerSide))
    .map((i) => memberPool[i]!);
  // Evaluated non-members and the attacker's reference must not overlap: a reference that
  // contains the non-members would make them look typical by construction.
  const testOrder = rng.fork('test-split').shuffle(Array.from({ length: testCount }, (_, i) => i));
  const nonMemberCount = Math.min(Math.floor(testCount / 2), maxPerSide);
  const referenceCount = Math.min(testCount - nonMemberCount, maxPerSide);
  const nonMemberRows = testOrder.slice(0, nonMemberCount);
  const referenceRows = testOrder.slice(nonMemberCount, nonMemberCount + referenceCount);

  const featureSize = dataset.featureSize;
  const members = subset(dataset.train, featureSize, memberRows);
  const nonMembers = subset(dataset.test, featureSize, nonMemberRows);
  const reference = subset(dataset.test, featureSize, referenceRows);
  const memberStats = await sampleStatistics(model, members, shape, 1000, caller);
  const nonMemberStats = await sampleStatistics(model, nonMembers, shape, 1000, caller);
  const referenceStats = await sampleStatistics(model, reference, shape, 1000, caller);

  const fits = fitReference(referenceStats.phi, reference.labels, shape);
  const likelihoodScores = (stats: SampleStatistics, split: DataSplit) =>
    Float64Array.from(stats.phi, (phi, i) => {
      const fit = fits.byClass[split.labels[i]!] ?? fits.global;
      return logNormalCdf((phi - fit.mean) / fit.std);
    });
  const negated = (values: Float64Array) => values.map((v) => -v);

  return {
    members: members.count,
    nonMembers: nonMembers.count,
    referenceSamples: reference.count,
    attacks: [
      summarizeAttack('loss-threshold', negated(memberStats.losses), negated(nonMemberStats.losses)),
      summarizeAttack('likelihood-ratio', likelihoodScores(memberStats, members), likelihoodScores(nonMemberStats, nonMembers)),
    ],
  };
}

interface SampleStatistics {
  losses: Float64Array;
  /** LiRA's statistic: log(p_y / (1 − p_y)) for classification, −squared error for regression. */
  phi: Float64Array;
}

/**
 * One forward pass, read back per sample. For classification the device returns p_y and the
 * probability of all other classes together: near p_y = 1 that sum keeps the precision that
 * 1 − p_y computed in float32 would lose.
 */
async function sampleStatistics(model: LayersModel, data: DataSplit, shape: DataShape, batchSize: number, caller: string): Promise<SampleStatistics> {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`${caller}: batchSize must be a positive integer (got ${batchSize})`);
  const featureSize = checkedFeatureSize(data, shape, caller);
  checkModelOutput(model, shape, caller);
  const losses = new Float64Array(data.count);
  const phi = new Float64Array(data.count);
  const clip = (p: number) => Math.min(Math.max(p, PROBABILITY_CLIP), 1 - PROBABILITY_CLIP);
  for (let start = 0; start < data.count; start += batchSize) {
    const rows = Array.from({ length: Math.min(batchSize, data.count - start) }, (_, i) => start + i);
    const { x, y } = makeBatch(data, rows, featureSize, shape);
    let outputs: tf.Tensor | undefined;
    try {
      outputs = tf.tidy(() => {
        const predictions = model.predict(x) as tf.Tensor;
        if (shape.task === 'regression') return predictions.reshape([rows.length]);
        const trueClass = tf.sum(tf.mul(predictions, y), 1);
        const otherClasses = tf.sum(tf.mul(predictions, tf.sub(1, y)), 1);
        return tf.stack([trueClass, otherClasses], 1);
      });
      const values = await outputs.data();
      for (let i = 0; i < rows.length; i++) {
        const row = start + i;
        if (shape.task === 'regression') {
          const error = values[i]! - data.labels[row]!;
          losses[row] = error * error;
          phi[row] = -error * error;
        } else {
          const trueClass = clip(values[2 * i]!);
          const otherClasses = clip(values[2 * i + 1]!);
          losses[row] = -Math.log(trueClass);
          phi[row] = Math.log(trueClass) - Math.log(otherClasses);
        }
      }
    } finally {
      tf.dispose([x, y, ...(outputs ? [outputs] : [])]);
    }
  }
  return { losses, phi };
}

interface GaussianFit {
  mean: number;
  std: number;
}

/** Per class with enough reference samples (classification only), plus the global fit for everything else. */
function fitReference(phi: Float64Array, labels: Float32Array, shape: DataShape): { byClass: (GaussianFit | undefined)[]; global: GaussianFit } {
  const global = fitGaussian(Array.from(phi));
  if (shape.task === 'regression') return { byClass: [], global };
  const groups = Array.from({ length: shape.numClasses }, () => [] as number[]);
  phi.forEach((value, i) => groups[labels[i]!]!.push(value));
  return { byClass: groups.map((values) => (values.length >= MIN_FIT_SAMPLES ? fitGaussian(values) : undefined)), global };
}

function fitGaussian(values: number[]): GaussianFit {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.max(Math.sqrt(variance), MIN_STD) };
}

interface RocCorners {
  /** Counts at each distinct threshold, highest score first, starting from (0, 0) and ending at (all, all). */
  points: { truePositives: number; falsePositives: number }[];
  members: number;
  nonMembers: number;
}

/**
 * The ROC curve of "score ≥ t means member", one corner per distinct score: samples with equal
 * scores are always classified together, so ties never buy a better operating point.
 */
function rocCorners(memberScores: ArrayLike<number>, nonMemberScores: ArrayLike<number>, caller: string): RocCorners {
  const members = memberScores.length;
  const nonMembers = nonMemberScores.length;
  if (members === 0 || nonMembers === 0) throw new RangeError(`${caller}: needs scores on both sides (got ${members} members and ${nonMembers} non-members)`);
  const scored: { score: number; member: boolean }[] = [];
  for (let i = 0; i < members; i++) scored.push({ score: memberScores[i]!, member: true });
  for (let i = 0; i < nonMembers; i++) scored.push({ score: nonMemberScores[i]!, member: false });
  if (scored.some((s) => Number.isNaN(s.score))) throw new RangeError(`${caller}: scores must not be NaN`);
  // `|| 0`: ∞ − ∞ is NaN, and equal infinities are a tie.
  scored.sort((a, b) => b.score - a.score || 0);
  const points = [{ truePositives: 0, falsePositives: 0 }];
  let truePositives = 0;
  let falsePositives = 0;
  for (let i = 0; i < scored.length; i++) {
    if (scored[i]!.member) truePositives += 1;
    else falsePositives += 1;
    if (i === scored.length - 1 || scored[i + 1]!.score !== scored[i]!.score) points.push({ truePositives, falsePositives });
  }
  return { points, members, nonMembers };
}

/**
 * The trapezoid rule over the ROC's corners: a tie between a member and a non-member is a
 * diagonal step, which counts exactly half, as in Mann–Whitney.
 */
function aucOf(roc: RocCorners): number {
  let area = 0;
  for (let i = 1; i < roc.points.length; i++) {
    const [a, b] = [roc.points[i - 1]!, roc.points[i]!];
    area += ((b.falsePositives - a.falsePositives) * (b.truePositives + a.truePositives)) / 2;
  }
  return area / (roc.members * roc.nonMembers);
}

function tprOf(roc: RocCorners, fpr: number): number {
  // Counted in samples, with slack for products such as 0.29 × 100 = 28.999999999999996.
  const allowedFalsePositives = Math.floor(fpr * roc.nonMembers + 1e-9);
  let best = 0;
  for (const point of roc.points) if (point.falsePositives <= allowedFalsePositives) best = Math.max(best, point.truePositives);
  return best / roc.members;
}

function checkShapeMatchesDataset(shape: DataShape, dataset: FederatedData['dataset'], caller: string): void {
  const featureSize = shape.featureShape.reduce((a, b) => a * b, 1);
  if (shape.task !== dataset.task || featureSize !== dataset.featureSize || shape.numClasses !== dataset.numClasses) {
    throw new RangeError(
      `${caller}: shape does not match dataset ${dataset.name} (got ${shape.task} [${shape.featureShape.join(', ')}] with ${shape.numClasses} classes, ` +
        `expected ${dataset.task} [${dataset.featureShape.join(', ')}] with ${dataset.numClasses} classes)`,
    );
  }
}

/** A model with the wrong output width would broadcast silently against the one-hot labels. */
function checkModelOutput(model: LayersModel, shape: DataShape, caller: string): void {
  const outputShape = model.outputs[0]!.shape;
  const expected = shape.task === 'regression' ? 1 : shape.numClasses;
  if (model.outputs.length !== 1 || outputShape.length !== 2 || outputShape[1] !== expected) {
    throw new RangeError(
      `${caller}: model output does not fit the data (got ${model.outputs.length} output(s) of shape [${outputShape.map((d) => d ?? 'null').join(', ')}], expected one of shape [null, ${expected}])`,
    );
  }
}
