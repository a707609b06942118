/**
 * Models as flat float32 vectors with a layout (name, shape, offset per weight), the form in
 * which parameters travel and are aggregated. Vector order is model.getWeights() order.
 */
import { Rng } from '../random.js';
import * as tf from '../tf.js';

export interface ParameterEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export interface ParameterLayout {
  entries: ParameterEntry[];
  totalSize: number;
}

export function layoutOf(model: tf.LayersModel): ParameterLayout {
  let offset = 0;
  const entries = model.weights.map((w) => {
    const size = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
    const entry = { name: w.originalName ?? w.name, shape: w.shape as number[], offset, size };
    offset += size;
    return entry;
  });
  return { entries, totalSize: offset };
}

export function layoutsEqual(a: ParameterLayout, b: ParameterLayout): boolean {
  return (
    a.totalSize === b.totalSize &&
    a.entries.length === b.entries.length &&
    a.entries.every((e, i) => e.name === b.entries[i]!.name && e.offset === b.entries[i]!.offset && e.shape.join('x') === b.entries[i]!.shape.join('x'))
  );
}

export function getFlatWeights(model: tf.LayersModel): Float32Array {
  const weights = model.getWeights();
  const flat = new Float32Array(weights.reduce((s, w) => s + w.size, 0));
  let offset = 0;
  for (const w of weights) {
    flat.set(w.dataSync(), offset);
    offset += w.size;
  }
  return flat;
}

export function setFlatWeights(model: tf.LayersModel, flat: Float32Array): void {
  const layout = layoutOf(model);
  if (flat.length !== layout.totalSize) {
    throw new RangeError(`setFlatWeights: vector has ${flat.length} values, expected ${layout.totalSize} for model ${model.name}`);
  }
  const tensors = layout.entries.map((e) => tf.tensor(flat.subarray(e.offset, e.offset + e.size), e.shape, 'float32'));
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

/**
 * Deterministic initial weights: Glorot-uniform kernels (Keras' fan-in/fan-out, including a conv
 * kernel's receptive field) and zero biases, drawn from the seed. tfjs' own initialisers draw
 * from an unseeded source, so they would differ between processes.
 */
export function initialWeights(model: tf.LayersModel, seed: number): Float32Array {
  const rng = new Rng(seed).fork('init');
  const layout = layoutOf(model);
  const flat = new Float32Array(layout.totalSize);
  for (const entry of layout.entries) {
    if (entry.shape.length < 2) continue; // biases start at zero
    const receptiveField = entry.shape.slice(0, -2).reduce((a, b) => a * b, 1);
    const fanIn = entry.shape[entry.shape.length - 2]! * receptiveField;
    const fanOut = entry.shape[entry.shape.length - 1]! * receptiveField;
    const limit = float32AtMost(Math.sqrt(6 / (fanIn + fanOut)));
    for (let i = 0; i < entry.size; i++) flat[entry.offset + i] = rng.uniform(-limit, limit);
  }
  return flat;
}

/**
 * The largest float32 not above x. Draws below this bound round to at most the bound when stored
 * as float32, so the Glorot limit holds for the stored weights, not only for the doubles drawn.
 */
function float32AtMost(x: number): number {
  const f = new Float32Array([x]);
  if (f[0]! > x) new Uint32Array(f.buffer)[0]! -= 1; // x > 0: one step down in the bit pattern
  return f[0]!;
}
