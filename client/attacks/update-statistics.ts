/** Per-coordinate statistics of benign updates, in float64, for the attacks that imitate them. */

export function meanOfUpdates(updates: readonly Float32Array[]): Float64Array {
  const mean = new Float64Array(updates[0]!.length);
  for (const update of updates) for (let i = 0; i < mean.length; i++) mean[i]! += update[i]!;
  for (let i = 0; i < mean.length; i++) mean[i]! /= updates.length;
  return mean;
}

/** Population standard deviation per coordinate (Baruch et al. 2019's σ). */
export function stdOfUpdates(updates: readonly Float32Array[], mean: Float64Array): Float64Array {
  const std = new Float64Array(mean.length);
  for (const update of updates) for (let i = 0; i < std.length; i++) std[i]! += (update[i]! - mean[i]!) ** 2;
  for (let i = 0; i < std.length; i++) std[i] = Math.sqrt(std[i]! / updates.length);
  return std;
}

export function scaledUpdate(update: ArrayLike<number>, factor: number): Float32Array {
  return Float32Array.from(update, (v) => v * factor);
}

/** The update an attacker's transform starts from: its own benign update, or under collusion the colluders' mean. */
export async function referenceUpdate(context: {
  colluding: boolean;
  honest(): Promise<{ delta: Float32Array }>;
  colluders(): Promise<Float32Array[]>;
}): Promise<ArrayLike<number>> {
  return context.colluding ? meanOfUpdates(await context.colluders()) : (await context.honest()).delta;
}
