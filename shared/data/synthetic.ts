/**
 * FedProx Synthetic(α, β): Li et al. 2020, "Federated Optimization in Heterogeneous Networks",
 * after the generator in the FedProx repository (data/synthetic_<α>_<β>/generate_synthetic.py,
 * also used by LEAF). Each client k has its own softmax-regression model and its own input distribution:
 *
 *   u_k ~ N(0, α²)      W_k ∈ R^{C×d}, b_k ∈ R^C with entries ~ N(u_k, 1)
 *   B_k ~ N(0, β²)      v_k ∈ R^d with entries ~ N(B_k, 1)
 *   x ~ N(v_k, Σ), Σ diagonal with Σ_jj = j^(−1.2) (j = 1…d)
 *   y = argmax softmax(W_k x + b_k)
 *
 * β controls how much the clients' inputs differ. α is meant to control how much their models
 * differ, but because every entry of W_k and b_k shares the one mean u_k, u_k adds the same
 * amount, u_k·(Σx + 1), to every logit and never changes the argmax: in this generator (the
 * paper's as much as ours) α leaves the labels' distribution unchanged. Label skew across clients
 * comes from the per-client draws of W_k, b_k, v_k, and grows with β.
 *
 * α and β are STANDARD DEVIATIONS here. The paper writes N(0, α), which reads as a variance, but
 * its code draws `np.random.normal(0, alpha, NUM_USER)` and numpy's second argument is the scale
 * (std). The published Synthetic(0.5, 0.5) and Synthetic(1, 1) results come from that code, so
 * following it keeps our numbers comparable. (For α = β = 1, the common setting, both readings
 * agree.) As in that code, W_k and b_k share the same mean u_k.
 *
 * Client sizes follow the code too: floor(lognormal(4, 2)) + 50 samples. The lognormal part is
 * capped at e^(4 + 3·2) ≈ 22,026 (its 3σ point, exceeded by 0.13 % of clients) so that one
 * client cannot dominate memory and round time; below the cap the distribution is the paper's.
 */
import type { Rng } from '../random.js';
import type { Dataset } from './dataset.js';

export interface SyntheticOptions {
  alpha: number;
  beta: number;
  clients: number;
  /** d, 60 in the paper. */
  featureSize?: number;
  /** C, 10 in the paper. */
  numClasses?: number;
  /**
   * Rescales the paper's client sizes so that their mean is about this (each client keeps at
   * least 2 samples); omit for the paper's sizes (mean ≈ 450, heavy-tailed).
   */
  meanSamples?: number;
  /** Share of each client's samples held out; the held-out samples are pooled into one test set. */
  testFraction: number;
}

const SIZE_LOG_MEAN = 4;
const SIZE_LOG_STD = 2;
const SIZE_OFFSET = 50;
const SIZE_LOGNORMAL_CAP = Math.exp(SIZE_LOG_MEAN + 3 * SIZE_LOG_STD);
const MIN_CLIENT_SAMPLES = 2;

export function generateSynthetic(options: SyntheticOptions, rng: Rng): Dataset {
  const { alpha, beta, clients, testFraction } = options;
  const d = options.featureSize ?? 60;
  const numClasses = options.numClasses ?? 10;
  checkOptions(options, d, numClasses);

  const sizes = clientSizes(clients, options.meanSamples, rng.fork('sizes'));
  const testCounts = sizes.map((n) => Math.min(Math.round(n * testFraction), n - 1));
  const trainTotal = sizes.reduce((s, n, k) => s + n - testCounts[k]!, 0);
  const testTotal = testCounts.reduce((s, n) => s + n, 0);
  const train = { features: new Float32Array(trainTotal * d), labels: new Float32Array(trainTotal), count: trainTotal };
  const test = { features: new Float32Array(testTotal * d), labels: new Float32Array(testTotal), count: testTotal };

  const inputStd = Float64Array.from({ length: d }, (_, j) => Math.sqrt(Math.pow(j + 1, -1.2)));
  const naturalPartition: number[][] = [];
  const logits = new Float64Array(numClasses);
  const x = new Float64Array(d);
  let trainRow = 0;
  let testRow = 0;
  for (let k = 0; k < clients; k++) {
    // One stream per client: client k's data depends on (seed, k) alone, not on how many
    // clients come before it or how large they are.
    const r = rng.fork(`client:${k}`);
    const u = r.normal(0, alpha);
    const B = r.normal(0, beta);
    const W = Float64Array.from({ length: numClasses * d }, () => r.normal(u, 1));
    const b = Float64Array.from({ length: numClasses }, () => r.normal(u, 1));
    const v = Float64Array.from({ length: d }, () => r.normal(B, 1));

    const mine: number[] = [];
    const trainCount = sizes[k]! - testCounts[k]!;
    for (let s = 0; s < sizes[k]!; s++) {
      for (let j = 0; j < d; j++) x[j] = v[j]! + inputStd[j]! * r.normal();
      for (let c = 0; c < numClasses; c++) {
        let z = b[c]!;
        for (let j = 0; j < d; j++) z += W[c * d + j]! * x[j]!;
        logits[c] = z;
      }
      // softmax is monotone, so the argmax of the logits is the argmax of the probabilities.
      let y = 0;
      for (let c = 1; c < numClasses; c++) if (logits[c]! > logits[y]!) y = c;

      const isTrain = s < trainCount;
      const split = isTrain ? train : test;
      const row = isTrain ? trainRow++ : testRow++;
      split.features.set(x, row * d);
      split.labels[row] = y;
      if (isTrain) mine.push(row);
    }
    naturalPartition.push(mine);
  }

  return {
    name: 'synthetic',
    task: 'classification',
    featureShape: [d],
    featureSize: d,
    numClasses,
    train,
    test,
    naturalPartition,
    description:
      `FedProx Synthetic(α=${alpha}, β=${beta}), ${clients} clients, d=${d}, ${numClasses} classes, ` +
      `${trainTotal} train / ${testTotal} test, generated in-process (no package)`,
  };
}

function clientSizes(clients: number, meanSamples: number | undefined, rng: Rng): number[] {
  const raw = Array.from({ length: clients }, () => Math.floor(Math.min(rng.logNormal(SIZE_LOG_MEAN, SIZE_LOG_STD), SIZE_LOGNORMAL_CAP)) + SIZE_OFFSET);
  if (meanSamples === undefined) return raw;
  // Scaling by the realised mean (not the distribution's) makes meanSamples mean what it says.
  const scale = meanSamples / (raw.reduce((s, n) => s + n, 0) / clients);
  return raw.map((n) => Math.max(MIN_CLIENT_SAMPLES, Math.round(n * scale)));
}

function checkOptions(options: SyntheticOptions, d: number, numClasses: number): void {
  const { alpha, beta, clients, meanSamples, testFraction } = options;
  const fail = (field: string, got: number, expected: string) => {
    throw new Error(`dataset.${field}: invalid (got ${got}, expected ${expected})`);
  };
  if (!(alpha >= 0 && Number.isFinite(alpha))) fail('alpha', alpha, 'a finite number ≥ 0');
  if (!(beta >= 0 && Number.isFinite(beta))) fail('beta', beta, 'a finite number ≥ 0');
  if (!Number.isInteger(clients) || clients < 1) fail('clients', clients, 'an integer ≥ 1');
  if (!Number.isInteger(d) || d < 1) fail('featureSize', d, 'an integer ≥ 1');
  if (!Number.isInteger(numClasses) || numClasses < 2) fail('numClasses', numClasses, 'an integer ≥ 2');
  if (meanSamples !== undefined && !(meanSamples >= MIN_CLIENT_SAMPLES)) {
    fail('meanSamples', meanSamples, `a number ≥ ${MIN_CLIENT_SAMPLES}`);
  }
  if (!(testFraction > 0 && testFraction < 1)) fail('testFraction', testFraction, 'a number between 0 and 1, exclusive');
}
