/**
 * Error feedback (memory) for biased compressors such as top-k: what a client's compressed
 * update left out is added to its next update, so every coordinate is eventually sent
 * (Stich, Cordonnier & Jaggi 2018, "Sparsified SGD with Memory"; Karimireddy et al. 2019,
 * "Error Feedback Fixes SignSGD and other Gradient Compression Schemes").
 *
 * One per client and round, started from the client's residual in the client state store (so it
 * follows the client from worker to worker; O(model) memory each). The residual is taken against what the
 * receiver will decode, so quantization error after top-k is fed back too. With partial
 * participation a residual waits, unchanged, until the client is selected again.
 */
import type { Rng } from '../random.js';
import type { VectorCodec } from './codec.js';

export class ErrorFeedback {
  private memory: Float32Array;

  /** `residual`: what earlier updates left unsent (none: zeros). */
  constructor(
    readonly length: number,
    residual?: Float32Array,
  ) {
    if (residual && residual.length !== length) throw new RangeError(`ErrorFeedback: residual has ${residual.length} values, expected ${length}`);
    this.memory = residual ? residual.slice() : new Float32Array(length);
  }

  /** Encodes update + residual, and keeps as the new residual what the encoding left out. */
  encode(update: Float32Array, codec: VectorCodec, rng: Rng): Uint8Array {
    if (update.length !== this.length) throw new RangeError(`ErrorFeedback: update has ${update.length} values, expected ${this.length}`);
    const corrected = new Float32Array(this.length);
    for (let i = 0; i < this.length; i++) corrected[i] = update[i]! + this.memory[i]!;
    const bytes = codec.encode(corrected, rng);
    const sent = codec.decode(bytes);
    for (let i = 0; i < this.length; i++) corrected[i] = corrected[i]! - sent[i]!;
    this.memory = corrected;
    return bytes;
  }

  /** A copy of what has not been sent yet. */
  residual(): Float32Array {
    return this.memory.slice();
  }

  reset(): void {
    this.memory.fill(0);
  }
}
