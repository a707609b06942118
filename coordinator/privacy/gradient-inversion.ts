/**
 * Gradient inversion by a curious coordinator: the training inputs of one client, rebuilt from
 * the single update Δ it sent, by the analytic attack on a dense first layer with bias (Phong,
 * Aono, Hayashi, Wang, Moriai 2017; the "robbing the fed" imprint of Fowl et al. 2022 without
 * the malicious model). For a unit j of the layer z = x·W + b, a step on one sample x moves
 * the kernel's column j by −η·∂L/∂z_j·x and the bias by −η·∂L/∂z_j, so ΔW[:, j] / Δb[j] = x
 * exactly; over several SGD (or momentum) steps on the same sample the ratio stays x, since both
 * sides sum the same coefficients. Over several samples column j gives a mixture weighted by
 * each sample's ∂L/∂z_j, but a ReLU unit that only one sample switched on isolates that sample:
 * every such unit gives the same vector again. So the candidates that recur are the samples, and
 * the ones that do not are mixtures.
 *
 * Why not an optimisation attack (DLG, Zhu et al. 2019; Geiping et al. 2020's cosine attack):
 * both differentiate the distance between a dummy input's gradient and the observed one, which
 * needs second derivatives of the loss. In tfjs 4.22 those are silently wrong for every op whose
 * gradient is written in terms of its own output (exp, softmax, sigmoid, tanh) and for
 * customGrad ops (softmaxCrossEntropy): checked against finite differences, matMul, relu, log
 * and mul agree, softmax cross-entropy does not (0.80 vs 1.17). An optimiser would follow wrong
 * gradients, so fedsim does not offer one. The analytic attack needs no gradients at all, is
 * exact where it applies, and is what a coordinator would try first on a model with a dense
 * first layer (MLP, logistic regression). Convolutional first layers are out of its reach.
 */
import type { ParameterLayout } from '../../shared/models/parameters.js';
import { l2Norm } from '../../shared/vector/vector-math.js';

/** Where the first layer's kernel [inputs, units] and bias [units] sit in the flat parameter vector. */
export interface DenseInputLayer {
  kernelOffset: number;
  biasOffset: number;
  inputs: number;
  units: number;
}

export interface Reconstruction {
  /** The candidate input, inputs long. */
  values: Float32Array;
  /** How many units gave (within GROUP_TOLERANCE) this same vector: > 1 means a sample some unit isolated. */
  units: number;
}

/** Units whose bias moved less than this share of the largest move carry too little signal to divide by. */
const BIAS_FLOOR = 1e-6;
/** Two candidates within this relative L2 distance are the same vector (float32 round-off over a few steps is ≈ 1e-6). */
const GROUP_TOLERANCE = 1e-3;

/**
 * The model's first layer as the attack needs it, or the reason it cannot apply: the first
 * parameters must be a kernel [featureSize, units] directly on the (flattened) input, then its bias.
 */
export function denseInputLayer(layout: ParameterLayout, featureSize: number): DenseInputLayer | { reason: string } {
  const [kernel, bias] = layout.entries;
  if (!kernel || !bias) return { reason: 'the model has fewer than two parameter tensors (expected a dense first layer with kernel and bias)' };
  const [inputs, units] = kernel.shape;
  if (kernel.shape.length !== 2 || inputs !== featureSize) {
    return {
      reason: `the model's first layer is not dense on the input (its first parameters ${kernel.name} have shape [${kernel.shape.join(', ')}], expected [${featureSize}, units]); the analytic reconstruction needs a dense first layer with bias`,
    };
  }
  if (bias.shape.length !== 1 || bias.shape[0] !== units) {
    return { reason: `the model's first dense layer has no bias (${bias.name} has shape [${bias.shape.join(', ')}], expected [${units}])` };
  }
  return { kernelOffset: kernel.offset, biasOffset: bias.offset, inputs, units: units! };
}

/**
 * Up to `count` inputs rebuilt from one update: candidates ΔW[:, j] / Δb[j] for every unit whose
 * bias moved, grouped when equal; the groups that recur most come first (ties: the larger bias
 * move, the more reliable division), each represented by its largest-move unit.
 */
export function reconstructInputs(delta: Float32Array, layer: DenseInputLayer, count: number): Reconstruction[] {
  const { kernelOffset, biasOffset, inputs, units } = layer;
  if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`reconstructInputs: count must be an integer ≥ 1 (got ${count})`);
  if (delta.length < Math.max(kernelOffset + inputs * units, biasOffset + units)) {
    throw new RangeError(`reconstructInputs: the update has ${delta.length} values, too few for the layer (kernel at ${kernelOffset}, bias at ${biasOffset})`);
  }
  let largest = 0;
  for (let j = 0; j < units; j++) largest = Math.max(largest, Math.abs(delta[biasOffset + j]!));
  if (!(largest > 0) || !Number.isFinite(largest)) return [];
  const byMove = Array.from({ length: units }, (_, j) => j)
    .filter((j) => Math.abs(delta[biasOffset + j]!) > BIAS_FLOOR * largest)
    .sort((a, b) => Math.abs(delta[biasOffset + b]!) - Math.abs(delta[biasOffset + a]!) || a - b);
  const groups: { values: Float32Array; norm: number; units: number; rank: number }[] = [];
  for (const [rank, j] of byMove.entries()) {
    const values = unitCandidate(delta, layer, j);
    const norm = l2Norm(values);
    const same = groups.find((g) => distance(g.values, values) <= GROUP_TOLERANCE * Math.max(g.norm, Number.MIN_VALUE));
    if (same) same.units += 1;
    else groups.push({ values, norm, units: 1, rank });
  }
  groups.sort((a, b) => b.units - a.units || a.rank - b.rank);
  return groups.slice(0, count).map(({ values, units: n }) => ({ values, units: n }));
}

/** ΔW[:, j] / Δb[j]: the kernel is [inputs, units] row-major, so column j is strided by units. */
function unitCandidate(delta: Float32Array, layer: DenseInputLayer, j: number): Float32Array {
  const { kernelOffset, biasOffset, inputs, units } = layer;
  const bias = delta[biasOffset + j]!;
  return Float32Array.from({ length: inputs }, (_, i) => delta[kernelOffset + i * units + j]! / bias);
}

function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum);
}
