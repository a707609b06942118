/**
 * The parts of a flat parameter vector that belong to named layers (a weight `hidden1/kernel`
 * belongs to layer `hidden1`): what partial aggregation keeps on the client (FedPer's personal
 * layers, `strategy.localLayers`). Kept as one packed vector per client, in layout order.
 */
import type { ParameterEntry, ParameterLayout } from './parameters.js';

export interface LayerSlices {
  entries: ParameterEntry[];
  /** Values in all the slices together. */
  size: number;
}

/** Why `layers` cannot be kept local in a model with these layers (each naming `field`); [] when they can. */
export function localLayerProblems(layers: readonly string[], known: readonly string[], field = 'strategy.localLayers'): string[] {
  const unknown = layers.filter((layer) => !known.includes(layer));
  if (unknown.length > 0) return [`${field}: no layer ${unknown.map((l) => `"${l}"`).join(', ')} in this model (expected some of ${known.join(', ')})`];
  if (layers.length > 0 && known.every((layer) => layers.includes(layer))) {
    return [`${field}: [${layers.join(', ')}] is every layer of the model (expected at least one layer left to aggregate)`];
  }
  return [];
}

/** Throws naming `field`, the unknown layer and the model's layers. */
export function layerSlices(layout: ParameterLayout, layers: readonly string[], field = 'strategy.localLayers'): LayerSlices {
  const layerOf = (entry: ParameterEntry) => entry.name.split('/')[0]!;
  const problems = localLayerProblems(layers, [...new Set(layout.entries.map(layerOf))], field);
  if (problems.length > 0) throw new Error(problems[0]);
  const entries = layout.entries.filter((entry) => layers.includes(layerOf(entry)));
  return { entries, size: entries.reduce((s, e) => s + e.size, 0) };
}

/** The slices' values, packed. */
export function gatherSlices(vector: Float32Array, slices: LayerSlices): Float32Array {
  const packed = new Float32Array(slices.size);
  let at = 0;
  for (const e of slices.entries) {
    packed.set(vector.subarray(e.offset, e.offset + e.size), at);
    at += e.size;
  }
  return packed;
}

/** Writes packed values (gatherSlices' form) into the slices of `vector`, in place. */
export function scatterSlices(vector: Float32Array, slices: LayerSlices, packed: Float32Array): void {
  if (packed.length !== slices.size) throw new RangeError(`layer slices: ${packed.length} values for slices of ${slices.size}`);
  let at = 0;
  for (const e of slices.entries) {
    vector.set(packed.subarray(at, at + e.size), e.offset);
    at += e.size;
  }
}

/** Copies the slices of `from` into `into`, in place. */
export function copySlices(into: Float32Array, from: Float32Array, slices: LayerSlices): void {
  for (const e of slices.entries) into.set(from.subarray(e.offset, e.offset + e.size), e.offset);
}

/** Zeroes the slices of `vector`, in place. */
export function zeroSlices(vector: Float32Array, slices: LayerSlices): void {
  for (const e of slices.entries) vector.fill(0, e.offset, e.offset + e.size);
}
