/**
 * Floating-point operations of training and evaluation, counted from a tfjs model's layers.
 *
 * Convention (the one behind published "training compute" figures, so fedsim's numbers compare):
 * - A multiply-add is 2 FLOPs. A dense or convolution layer does (output positions × kernel
 *   size) multiply-adds per sample, plus 1 FLOP per output element for the bias add.
 * - Convolutions count every kernel tap, including those over 'same' padding: the usual counter
 *   convention (fvcore, ptflops), and what dense kernels such as im2col compute anyway.
 * - Activations cost a few FLOPs per output element (ACTIVATION_FLOPS); exp, log and division
 *   count 1 each, as counters do, though hardware takes several cycles for them.
 * - Backward = 2 × forward for layers with weights: one product of the same size for the
 *   gradient with respect to the inputs, one for the weights (Kaplan et al. 2020, "Scaling Laws
 *   for Neural Language Models", §2.1: C ≈ 6N per token; Amodei & Hernandez 2018, "AI and
 *   Compute", whose method assumes backward ≈ 2 × forward; Hobbhahn & Sevilla 2021, Epoch, "What's
 *   the backward-forward FLOP ratio for neural networks?", measure ≈ 2:1). The 2× applies to the
 *   whole layer, fused bias and activation included: splitting off that ~0.1% would only make
 *   fedsim's figures differ from published ones. The first layer's input gradient, which no one
 *   needs, is counted too, as those conventions do.
 * - Layers without weights need only the input gradient: backward = 1 × forward. For max pooling
 *   that is literal: tfjs' MaxPoolGrad recomputes the argmax positions with the same comparisons.
 * - Flatten, Reshape and Dropout move or mask data: 0 FLOPs (dropout's per-element mask multiply
 *   during training is left out, like the loss and the optimizer step, ≈ 2N per batch for SGD,
 *   a few percent at FedAvg's batch sizes; Kaplan et al. leave them out too).
 *
 * A layer class or activation this file does not know is not counted as 0, which would silently
 * under-count a new model, nor fatal, which would stop every run of it before round 1: the
 * layer's FLOPs are null, so are the model's, and one warning names the layer and its class.
 */
import type * as tf from '../tf.js';

/** Where the warning about uncounted layers goes: a run's logger, or Node's process warnings. */
export interface FlopsLog {
  warn(message: string): void;
}

/** For callers without a logger; Node prints these on stderr, as it does its own warnings. */
const PROCESS_WARNINGS: FlopsLog = { warn: (message) => process.emitWarning(message, 'FedsimFlopsWarning') };

/** Forward FLOPs per output element of each activation, in the counting above. */
export const ACTIVATION_FLOPS: Readonly<Record<string, number>> = {
  linear: 0,
  relu: 1, // max(0, x)
  relu6: 2, // min(max(0, x), 6)
  sigmoid: 4, // 1 / (1 + exp(−x)): negate, exp, add, divide
  hardSigmoid: 3, // clip(0.2x + 0.5, 0, 1): multiply, add, clip
  tanh: 5, // (e^2x − 1) / (e^2x + 1): multiply, exp, subtract, add, divide
  elu: 3, // x > 0 ? x : exp(x) − 1: compare, exp, subtract
  selu: 5, // elu plus two scalings
  softplus: 3, // log(1 + exp(x))
  softsign: 3, // x / (1 + |x|)
  swish: 5, // x · sigmoid(x)
  softmax: 5, // max (compare), subtract, exp, sum, divide
  logSoftmax: 5, // max, subtract, exp, sum, log-and-subtract
};

/** Layer classes without weights and their forward cost per output element. */
const PARAMETER_FREE: Readonly<Record<string, (layer: tf.layers.Layer) => number>> = {
  Flatten: () => 0,
  Reshape: () => 0,
  Dropout: () => 0,
  // A k-element window takes k − 1 comparisons (max) or k − 1 adds and a divide (average).
  MaxPooling1D: (layer) => windowSize(layer) - 1,
  MaxPooling2D: (layer) => windowSize(layer) - 1,
  AveragePooling1D: (layer) => windowSize(layer),
  AveragePooling2D: (layer) => windowSize(layer),
  Activation: (layer) => activationFlops(layer),
  ReLU: () => ACTIVATION_FLOPS.relu!,
  Softmax: () => ACTIVATION_FLOPS.softmax!,
};

/** Layers whose kernel is applied at every output position: dense (1 position) and convolutions. */
const WEIGHTED = new Set(['Dense', 'Conv1D', 'Conv2D']);

export type LayerFlops =
  | {
      name: string;
      className: string;
      /** Per sample. */
      forward: number;
      /** Per sample. */
      backward: number;
    }
  | { name: string; className: string; forward: null; backward: null; /** Why the layer has no count. */ uncounted: string };

/** A layer this file cannot count, thrown only inside it and turned into a null count per layer. */
class UncountedLayer extends Error {}

/** Per-sample FLOPs of every layer, in model order; null for a layer that cannot be counted. */
export function layerFlops(model: tf.LayersModel): LayerFlops[] {
  return model.layers.map((layer) => {
    const className = layer.getClassName();
    try {
      return { name: layer.name, className, ...countedLayer(layer, className) };
    } catch (error) {
      if (!(error instanceof UncountedLayer)) throw error;
      return { name: layer.name, className, forward: null, backward: null, uncounted: error.message };
    }
  });
}

function countedLayer(layer: tf.layers.Layer, className: string): { forward: number; backward: number } {
  if (className === 'InputLayer') return { forward: 0, backward: 0 };
  const outputs = outputElements(layer);
  if (WEIGHTED.has(className)) {
    const forward = weightedLayerForward(layer, outputs);
    return { forward, backward: 2 * forward };
  }
  const perElement = PARAMETER_FREE[className];
  if (perElement === undefined) throw new UncountedLayer(`layer ${layer.name} (${className}) has no FLOP count yet`);
  const forward = perElement(layer) * outputs;
  return { forward, backward: forward };
}

/** Forward FLOPs of one sample through the model; null (and one warning) if a layer cannot be counted. */
export function forwardFlopsPerSample(model: tf.LayersModel, log: FlopsLog = PROCESS_WARNINGS): number | null {
  return totalOf(model, log, (l) => l.forward);
}

/** Forward + backward FLOPs of one training sample; null (and one warning) if a layer cannot be counted. */
export function trainingFlopsPerSample(model: tf.LayersModel, log: FlopsLog = PROCESS_WARNINGS): number | null {
  return totalOf(model, log, (l) => l.forward + l.backward);
}

/** FLOPs of `epochs` passes over `samples` training samples (each sample: forward + backward). */
export function trainingFlops(model: tf.LayersModel, samples: number, epochs: number, log: FlopsLog = PROCESS_WARNINGS): number | null {
  checkCount('samples', samples);
  checkCount('epochs', epochs);
  const perSample = trainingFlopsPerSample(model, log);
  return perSample === null ? null : perSample * samples * epochs;
}

/** FLOPs of predicting `samples` samples (forward only). */
export function evaluationFlops(model: tf.LayersModel, samples: number, log: FlopsLog = PROCESS_WARNINGS): number | null {
  checkCount('samples', samples);
  const perSample = forwardFlopsPerSample(model, log);
  return perSample === null ? null : perSample * samples;
}

type CountedLayer = Extract<LayerFlops, { forward: number }>;

function totalOf(model: tf.LayersModel, log: FlopsLog, cost: (layer: CountedLayer) => number): number | null {
  const layers = layerFlops(model);
  const counted = layers.filter((l): l is CountedLayer => l.forward !== null);
  if (counted.length < layers.length) {
    const why = layers.flatMap((l) => ('uncounted' in l ? [l.uncounted] : []));
    warnOnce(
      log,
      `training FLOPs of model ${model.name} are unknown (reported as null): ${why.join('; ')} (known layers: ${KNOWN_LAYERS}; activations: ${Object.keys(ACTIVATION_FLOPS).join(', ')})`,
    );
    return null;
  }
  return counted.reduce((sum, l) => sum + cost(l), 0);
}

const KNOWN_LAYERS = [...WEIGHTED, ...Object.keys(PARAMETER_FREE)].join(', ');

/** Each message once per log: callers may count a model's FLOPs again and again. */
const warned = new WeakMap<FlopsLog, Set<string>>();

function warnOnce(log: FlopsLog, message: string): void {
  const seen = warned.get(log) ?? new Set<string>();
  warned.set(log, seen);
  if (seen.has(message)) return;
  seen.add(message);
  log.warn(message);
}

function weightedLayerForward(layer: tf.layers.Layer, outputs: number): number {
  const config = layer.getConfig();
  const kernel = layer.weights.find((w) => (w.originalName ?? w.name).endsWith('kernel'));
  if (kernel === undefined) throw new UncountedLayer(`${layer.getClassName()} layer ${layer.name} has no kernel weight`);
  const kernelShape = kernel.shape as number[];
  const kernelSize = kernelShape.reduce((a, b) => a * b, 1);
  const units = kernelShape[kernelShape.length - 1]!;
  // Each output position (1 for a dense layer on flat input; H×W for a 2-D convolution) applies
  // the whole kernel once: kernelSize multiply-adds, spread over `units` output channels.
  const positions = outputs / units;
  const multiplyAdds = positions * kernelSize;
  const bias = config.useBias === false ? 0 : outputs;
  return 2 * multiplyAdds + bias + activationFlops(layer) * outputs;
}

function activationFlops(layer: tf.layers.Layer): number {
  const activation = layer.getConfig().activation;
  if (activation === undefined || activation === null) return 0;
  // Serialised layers name their activation; anything else is one this file cannot know.
  const name = typeof activation === 'string' ? activation : JSON.stringify(activation);
  const flops = ACTIVATION_FLOPS[name];
  if (flops === undefined) throw new UncountedLayer(`layer ${layer.name} uses activation ${name}, which has no FLOP count yet`);
  return flops;
}

function windowSize(layer: tf.layers.Layer): number {
  const pool = layer.getConfig().poolSize as number | number[];
  return Array.isArray(pool) ? pool.reduce((a, b) => a * b, 1) : pool;
}

function outputElements(layer: tf.layers.Layer): number {
  const shape = layer.outputShape;
  if (Array.isArray(shape[0])) throw new UncountedLayer(`layer ${layer.name} has several outputs, which is not counted yet`);
  // Drop the batch dimension; every other dimension is known once the model is built.
  return (shape as (number | null)[]).slice(1).reduce((a: number, b) => a * (b ?? 1), 1);
}

function checkCount(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`training FLOPs: ${name} must be a finite number ≥ 0 (got ${value})`);
}
