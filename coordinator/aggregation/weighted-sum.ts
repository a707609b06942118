/**
 * A streaming weighted sum of update vectors in O(model) memory, whose result does not depend
 * on the order the updates arrive in. Updates come back from workers in whatever order training
 * finishes; plain float accumulation would make the aggregate (and so the whole run) differ
 * bit-wise between a NATS run and an in-process run of the same seed. Each coordinate is kept as
 * an unevaluated double-double (hi + lo, Knuth's TwoSum), about 106 bits: the float32 result
 * then rounds identically for any order except in cases ~2^-80 rare.
 */
export class WeightedSum {
  private readonly hi: Float64Array;
  private readonly lo: Float64Array;
  private weightHi = 0;
  private weightLo = 0;
  private count = 0;

  constructor(readonly length: number) {
    this.hi = new Float64Array(length);
    this.lo = new Float64Array(length);
  }

  add(vector: Float32Array, weight: number): void {
    if (vector.length !== this.length) {
      throw new RangeError(`WeightedSum.add: vector has ${vector.length} values, expected ${this.length}`);
    }
    const { hi, lo } = this;
    for (let i = 0; i < vector.length; i++) {
      // weight · float32 is exact in float64 for integer weights below 2^29.
      const term = weight * vector[i]!;
      const s = hi[i]! + term;
      const bp = s - hi[i]!;
      lo[i]! += hi[i]! - (s - bp) + (term - bp);
      hi[i] = s;
    }
    const s = this.weightHi + weight;
    const bp = s - this.weightHi;
    this.weightLo += this.weightHi - (s - bp) + (weight - bp);
    this.weightHi = s;
    this.count += 1;
  }

  get totalWeight(): number {
    return this.weightHi + this.weightLo;
  }

  get added(): number {
    return this.count;
  }

  /** Σ wᵢ·vᵢ in float64, for mechanisms that act on the sum before it is divided (DP noise). */
  sum(): Float64Array {
    const out = new Float64Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.hi[i]! + this.lo[i]!;
    return out;
  }

  /** Σ wᵢ·vᵢ / divisor as float32; the divisor defaults to Σ wᵢ (the weighted mean). */
  result(divisor = this.totalWeight): Float32Array {
    if (!(divisor > 0)) throw new RangeError(`WeightedSum.result: divisor must be > 0 (got ${divisor})`);
    const out = new Float32Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = (this.hi[i]! + this.lo[i]!) / divisor;
    return out;
  }
}
