import { describe, expect, it } from 'vitest';
import { CodecError, HEADER_BYTES } from '../../shared/compression/codec.js';
import { COMPRESSION_SPEC } from '../../shared/compression/compression-spec.js';
import { ErrorFeedback } from '../../shared/compression/error-feedback.js';
import { float32ToHalfBits, halfBitsToFloat32 } from '../../shared/compression/half-precision.js';
import { createCodec, decodeVector, usesErrorFeedback } from '../../shared/compression/pipeline.js';
import { largestMagnitudes } from '../../shared/compression/topk.js';
import { Rng } from '../../shared/random.js';

const fp16 = createCodec([{ codec: 'fp16' }]);
const int8 = createCodec([{ codec: 'int8' }]);

function gaussian(n: number, seed: number, std = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal(0, std));
}

describe('fp16', () => {
  it('rounds to nearest, ties to even, subnormals included', () => {
    const roundTrip = (x: number) => halfBitsToFloat32(float32ToHalfBits(x));
    expect(roundTrip(1 / 3)).toBe(0.333251953125); // 0x3555
    // Halves between 2048 and 4096 are 2 apart: 2049 and 2051 are ties, broken to the even mantissa.
    expect(roundTrip(2049)).toBe(2048);
    expect(roundTrip(2051)).toBe(2052);
    expect(roundTrip(65519)).toBe(65504); // just under the midpoint to infinity (65520)
    expect(roundTrip(2 ** -24)).toBe(2 ** -24); // smallest subnormal
    expect(roundTrip(2 ** -25)).toBe(0); // a tie between 0 and 2^-24: 0 is even
    expect(roundTrip(1.5 * 2 ** -25)).toBe(2 ** -24);
    expect(roundTrip(2 ** -14 - 2 ** -25)).toBe(2 ** -14); // rounds up out of the subnormals into the smallest normal
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
  });

  it('gives the nearest half for random float32 of every magnitude (checked against both neighbours)', () => {
    const rng = new Rng(7);
    for (let t = 0; t < 20_000; t++) {
      const x = Math.fround((rng.next() < 0.5 ? -1 : 1) * 2 ** rng.uniform(-26, 15.99));
      const bits = float32ToHalfBits(x);
      const h = halfBitsToFloat32(bits);
      const magnitude = bits & 0x7fff;
      const below = magnitude === 0 ? 0 : halfBitsToFloat32((bits & 0x8000) | (magnitude - 1));
      const above = halfBitsToFloat32((bits & 0x8000) | (magnitude + 1));
      const error = Math.abs(x - h);
      expect(error).toBeLessThanOrEqual(Math.abs(x - below));
      expect(error).toBeLessThanOrEqual(Math.abs(x - above));
      if (error === Math.abs(x - above) || (magnitude > 0 && error === Math.abs(x - below))) expect(bits & 1).toBe(0);
    }
  });

  it('round-trips a vector within half precision', () => {
    const v = gaussian(5000, 1, 0.01);
    const bytes = fp16.encode(v, new Rng(0));
    expect(bytes.length).toBe(HEADER_BYTES + 2 * 5000);
    const back = fp16.decode(bytes);
    for (let i = 0; i < v.length; i++) {
      // Relative 2^-11 (half an ulp of an 11-bit significand) for normals, 2^-25 absolute below 2^-14.
      expect(Math.abs(back[i]! - v[i]!)).toBeLessThanOrEqual(Math.max(Math.abs(v[i]!) * 2 ** -11, 2 ** -25));
    }
  });

  it('refuses values half precision cannot hold', () => {
    expect(() => fp16.encode(new Float32Array([1, 65520]), new Rng(0))).toThrow("codec fp16: value 65520 at index 1 is beyond half precision's range (±65504)");
    expect(() => fp16.encode(new Float32Array([NaN]), new Rng(0))).toThrow('codec fp16: value NaN at index 0 is not finite');
  });
});

describe('int8 stochastic quantization', () => {
  it('is unbiased: the mean of many decodes converges to the input', () => {
    // One chunk whose largest magnitude is 127/128, so the scale is exactly s = 2^-7. x[1] = s/4
    // sits a quarter of the way between codes 0 and 1: nearest rounding would return 0, an error
    // of s/4 on every draw, which the tolerance below is far too tight to let through.
    const s = 2 ** -7;
    const x = gaussian(1024, 3, 0.3);
    for (let i = 0; i < x.length; i++) x[i] = Math.max(-0.99, Math.min(0.99, x[i]!));
    x[0] = 127 * s;
    x[1] = s / 4;
    const draws = 4000;
    const rng = new Rng(11);
    const sum = new Float64Array(x.length);
    for (let d = 0; d < draws; d++) {
      const back = int8.decode(int8.encode(x, rng));
      for (let i = 0; i < x.length; i++) sum[i]! += back[i]!;
    }
    // Each decode is x + s·(B − p) with B ~ Bernoulli(p): variance s²·p(1 − p) ≤ s²/4. The mean of
    // `draws` draws has standard deviation ≤ s / (2√draws) ≈ 0.0079 s; 5 of those (0.04 s) bounds
    // each coordinate (a 5σ miss has probability ~6e-7, so ~6e-4 for any of 1024), and the seed
    // is fixed, so the test cannot flake.
    const perCoordinate = (5 * s) / (2 * Math.sqrt(draws));
    let totalError = 0;
    for (let i = 0; i < x.length; i++) {
      const error = sum[i]! / draws - x[i]!;
      expect(Math.abs(error)).toBeLessThanOrEqual(perCoordinate);
      totalError += error;
    }
    expect(perCoordinate).toBeLessThan(s / 4 / 5);
    // Averaged over all 1024 coordinates the bound shrinks by √1024.
    expect(Math.abs(totalError / x.length)).toBeLessThanOrEqual(perCoordinate / Math.sqrt(x.length));
    expect(sum[0]! / draws).toBe(x[0]); // the chunk maximum is a code exactly
  });

  it('scales each chunk on its own and keeps every error within one step', () => {
    const v = gaussian(2500, 4);
    v.fill(0, 1024, 2048); // an all-zero chunk
    v[2100] = 1000; // a large value costs precision in its own chunk only
    const codec = createCodec([{ codec: 'int8', chunkSize: 1024 }]);
    const bytes = codec.encode(v, new Rng(2));
    expect(bytes.length).toBe(HEADER_BYTES + 4 + 3 * 4 + 2500);
    const back = codec.decode(bytes);
    for (let i = 0; i < v.length; i++) {
      const chunk = Math.floor(i / 1024);
      const chunkMax = Math.max(...Array.from(v.subarray(chunk * 1024, (chunk + 1) * 1024), Math.abs));
      expect(Math.abs(back[i]! - v[i]!)).toBeLessThanOrEqual((chunkMax / 127) * (1 + 1e-6));
    }
    expect(Array.from(back.subarray(1024, 2048)).every((x) => x === 0)).toBe(true);
  });
});

describe('top-k', () => {
  it('keeps the k largest magnitudes, ties to the lower index', () => {
    const v = new Float32Array([0.1, -5, 3, 3, -3, 0, 4]);
    expect(Array.from(largestMagnitudes(v, 3))).toEqual([1, 2, 6]);
    expect(Array.from(largestMagnitudes(v, 4))).toEqual([1, 2, 3, 6]);
    const codec = createCodec([{ codec: 'topk', ratio: 0.5 }]); // k = round(3.5) = 4
    expect(Array.from(codec.decode(codec.encode(v, new Rng(0))))).toEqual([0, -5, 3, 3, 0, 0, 4]);
  });

  it('matches a sort on large random vectors', () => {
    const v = gaussian(100_003, 5);
    const k = 1000;
    const expected = Array.from(v.keys())
      .sort((a, b) => Math.abs(v[b]!) - Math.abs(v[a]!) || a - b)
      .slice(0, k)
      .sort((a, b) => a - b);
    expect(Array.from(largestMagnitudes(v, k))).toEqual(expected);
  });

  it('converges with error feedback on distributed least squares, where plain top-k stalls', () => {
    // M clients each hold (A_i, b_i) from a different true model, so at the global optimum w* of
    // (1/M) Σ ‖A_i w − b_i‖² / 2m every client's own gradient is non-zero and only their sum
    // vanishes. Each round every client sends the update −η∇f_i(w) through top-k (10% of d).
    // Plain top-k keeps each client's largest coordinates, whose mean is not 0 at w*: w* is not a
    // fixed point and the iterates stall at a distance. With error feedback the dropped mass is
    // sent later: the iterates circle w* at a distance O(η) and their running average converges
    // to it, which is what Stich et al. 2018 and Karimireddy et al. 2019 prove for the averaged
    // iterate.
    const d = 40;
    const m = 60;
    const clients = 8;
    const rng = new Rng(21);
    const data = Array.from({ length: clients }, (_, c) => {
      const truth = Float64Array.from({ length: d }, () => rng.normal(c % 2 === 0 ? 1 : -1, 1));
      const a = Array.from({ length: m }, () => Float64Array.from({ length: d }, () => rng.normal()));
      const b = a.map((row) => row.reduce((s, x, j) => s + x * truth[j]!, 0) + rng.normal(0, 0.1));
      return { a, b };
    });
    const optimum = solveLeastSquares(data, d);
    const gradient = (w: Float32Array, c: number) => {
      const g = new Float32Array(d);
      const { a, b } = data[c]!;
      for (let r = 0; r < m; r++) {
        let residual = -b[r]!;
        for (let j = 0; j < d; j++) residual += a[r]![j]! * w[j]!;
        for (let j = 0; j < d; j++) g[j]! += (a[r]![j]! * residual) / m;
      }
      return g;
    };
    const codec = createCodec([{ codec: 'topk', ratio: 0.1 }]);
    const rounds = 4000;
    const run = (errorFeedback: boolean) => {
      const w = new Float32Array(d);
      const average = new Float64Array(d); // of the last half of the iterates
      const memories = Array.from({ length: clients }, () => new ErrorFeedback(d));
      const encodeRng = new Rng(0);
      for (let t = 0; t < rounds; t++) {
        const step = new Float32Array(d);
        for (let c = 0; c < clients; c++) {
          const update = gradient(w, c).map((g) => -0.01 * g);
          const bytes = errorFeedback ? memories[c]!.encode(update, codec, encodeRng) : codec.encode(update, encodeRng);
          const sent = codec.decode(bytes);
          for (let j = 0; j < d; j++) step[j]! += sent[j]! / clients;
        }
        for (let j = 0; j < d; j++) w[j]! += step[j]!;
        if (t >= rounds / 2) for (let j = 0; j < d; j++) average[j]! += w[j]! / (rounds / 2);
      }
      return { last: relativeDistance(w, optimum), average: relativeDistance(average, optimum) };
    };
    const withFeedback = run(true);
    const without = run(false);
    expect(withFeedback.average).toBeLessThan(1e-3);
    expect(withFeedback.last).toBeLessThan(0.05);
    expect(without.average).toBeGreaterThan(0.5);
    expect(without.last).toBeGreaterThan(0.5);
  });

  it('feeds back what the encoding left out, quantization included', () => {
    const codec = createCodec([{ codec: 'topk', ratio: 0.25 }, { codec: 'fp16' }]);
    const memory = new ErrorFeedback(4);
    const update = new Float32Array([1, 0.5, 0.25, 1 / 3]);
    const sent = codec.decode(memory.encode(update, codec, new Rng(0)));
    expect(Array.from(sent)).toEqual([1, 0, 0, 0]);
    expect(Array.from(memory.residual())).toEqual([0, 0.5, 0.25, Math.fround(1 / 3)]);
    // Next round the residual rides along: 0.5 + 0.1 is now the largest.
    const second = codec.decode(memory.encode(new Float32Array([0, 0.1, 0, 0]), codec, new Rng(0)));
    expect(second[1]).toBe(halfBitsToFloat32(float32ToHalfBits(Math.fround(Math.fround(0.5) + Math.fround(0.1)))));
    expect(memory.residual()[1]).toBeCloseTo(0.6 - second[1]!, 7);
    expect(() => memory.encode(new Float32Array(3), codec, new Rng(0))).toThrow('ErrorFeedback: update has 3 values, expected 4');
  });
});

describe('encoded sizes', () => {
  const pipelines = [
    [],
    [{ codec: 'fp16' }],
    [{ codec: 'int8' }],
    [{ codec: 'int8', chunkSize: 100 }],
    [{ codec: 'topk', ratio: 0.01 }],
    [{ codec: 'topk', ratio: 0.1 }, { codec: 'fp16' }],
    [
      { codec: 'topk', ratio: 0.3 },
      { codec: 'int8', chunkSize: 7 },
    ],
  ] as const;

  it('equal encodedSize() for every pipeline and length', () => {
    for (const pipeline of pipelines) {
      const codec = createCodec(pipeline);
      for (const n of [0, 1, 99, 1023, 1024, 1025, 5000]) {
        const v = gaussian(n, n);
        const bytes = codec.encode(v, new Rng(n));
        expect(bytes.length, `${codec.name} n=${n}`).toBe(codec.encodedSize(n));
        expect(decodeVector(bytes)).toEqual(codec.decode(bytes));
      }
    }
  });

  it('follow the documented layouts', () => {
    const n = 5000;
    expect(createCodec([]).encodedSize(n)).toBe(7 + 4 * n);
    expect(fp16.encodedSize(n)).toBe(7 + 2 * n);
    expect(int8.encodedSize(n)).toBe(7 + 4 + 4 * 5 + n); // ⌈5000/1024⌉ = 5 scales
    // k = 50: header, count, 50 u32 indices, then an fp16 block of 50 values.
    expect(createCodec([{ codec: 'topk', ratio: 0.01 }, { codec: 'fp16' }]).encodedSize(n)).toBe(7 + 4 + 4 * 50 + 7 + 2 * 50);
    // The FedAvg CNN's 1,663,370 parameters: 6.65 MB as float32, 1.66 MB as int8, 99.8 kB at 1% top-k + fp16.
    expect(createCodec([{ codec: 'topk', ratio: 0.01 }, { codec: 'fp16' }]).encodedSize(1_663_370)).toBe(7 + 4 + 4 * 16_634 + 7 + 2 * 16_634);
  });
});

describe('malformed encodings', () => {
  const v = gaussian(300, 9);
  const rng = () => new Rng(1);
  const patched = (bytes: Uint8Array, at: number, write: (view: DataView) => void) => {
    const copy = bytes.slice();
    write(new DataView(copy.buffer, at));
    return copy;
  };

  it('are refused with a CodecError that names the check', () => {
    const f = fp16.encode(v, rng());
    const q = int8.encode(v, rng());
    const topk = createCodec([{ codec: 'topk', ratio: 0.1 }, { codec: 'fp16' }]);
    const t = topk.encode(v, rng()); // k = 30
    const cases: [Uint8Array, string | RegExp][] = [
      [new Uint8Array(3), 'encoded vector too short: 3 bytes, expected at least a 7-byte header'],
      [patched(f, 0, (x) => x.setUint8(0, 0x46)), 'not an encoded vector: bad magic byte 0x46 (expected 0xfc)'],
      [patched(f, 1, (x) => x.setUint8(0, 9)), 'unsupported codec format version 9, expected 1'],
      [patched(f, 2, (x) => x.setUint8(0, 99)), /unknown codec id 99 \(known: 1 fp32, 2 fp16, 3 int8, 4 topk\)/],
      [f.subarray(0, f.length - 1), 'fp16 block is 606 bytes, expected 607 for 300 half values (truncated)'],
      [Uint8Array.from([...f, 0]), 'fp16 block is 608 bytes, expected 607 for 300 half values (trailing bytes)'],
      [patched(f, 3, (x) => x.setUint32(0, 2 ** 31, true)), /fp16 block claims 2147483648 values, more than the 268435456 accepted/],
      [patched(f, 7, (x) => x.setUint16(0, 0x7c00, true)), 'fp16 block: value at index 0 is infinite (0x7c00), which no encoder produces'],
      [patched(createCodec([]).encode(v, rng()), 11, (x) => x.setFloat32(0, Infinity, true)), 'fp32 block: value Infinity at index 1 is not finite'],
      [patched(q, 7, (x) => x.setUint32(0, 0, true)), 'int8 block: chunk size 0'],
      [patched(q, 11, (x) => x.setFloat32(0, NaN, true)), 'int8 block: scale of chunk 0 is NaN, expected a finite number ≥ 0'],
      [patched(q, 15, (x) => x.setInt8(5, -128)), 'int8 block: code −128 at index 5 is outside the symmetric range [−127, 127]'],
      [patched(t, 7, (x) => x.setUint32(0, 301, true)), 'topk block keeps 301 values of a vector of 300'],
      [patched(t, 11, (x) => x.setUint32(0, 300, true)), /topk block: index 300 \(pair 0\) is outside a vector of 300/],
      [patched(t, 15, (x) => x.setUint32(0, 0, true)), /topk block: indices must be strictly increasing \(pair 1: 0 after \d+\)/],
      [patched(t, 7, (x) => x.setUint32(0, 29, true)), 'not an encoded vector: bad magic byte'], // the values block now starts inside the indices
      [topkBlock(300, [0, 1], createCodec([]).encode(new Float32Array(3), rng())), 'topk block lists 2 indices but 3 values'],
      [
        topkBlock(300, [0, 1], createCodec([{ codec: 'topk', ratio: 1 }]).encode(new Float32Array(2), rng())),
        'topk block holds another topk block; a pipeline sparsifies once',
      ],
      [t.subarray(0, 100), /topk block is 100 bytes, truncated before its 30 indices and values/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => decodeVector(bytes)).toThrow(CodecError);
      expect(() => decodeVector(bytes)).toThrow(message);
    }
  });

  it('of another pipeline are refused by a pipeline codec', () => {
    expect(() => fp16.decode(int8.encode(v, rng()))).toThrow('expected a block of codec fp16, got int8');
    const topkFp16 = createCodec([{ codec: 'topk', ratio: 0.1 }, { codec: 'fp16' }]);
    expect(() => topkFp16.decode(createCodec([{ codec: 'topk', ratio: 0.1 }]).encode(v, rng()))).toThrow('expected a block of codec fp16, got fp32');
  });
});

describe('compression spec', () => {
  it('parses pipelines with defaults', () => {
    expect(COMPRESSION_SPEC.parse({ update: [{ codec: 'topk', ratio: 0.01 }, { codec: 'int8' }], broadcast: [{ codec: 'fp16' }] })).toEqual({
      update: [
        { codec: 'topk', ratio: 0.01, errorFeedback: true },
        { codec: 'int8', chunkSize: 1024 },
      ],
      broadcast: [{ codec: 'fp16' }],
    });
    expect(COMPRESSION_SPEC.parse({})).toEqual({ update: [] });
    expect(usesErrorFeedback([{ codec: 'topk', ratio: 0.1 }])).toBe(true);
    expect(usesErrorFeedback([{ codec: 'topk', ratio: 0.1, errorFeedback: false }])).toBe(false);
  });

  it('refuses pipelines that make no sense, naming the stage', () => {
    const issues = (input: unknown) => {
      const result = COMPRESSION_SPEC.safeParse(input);
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ update: [{ codec: 'fp16' }, { codec: 'topk', ratio: 0.1 }] })).toEqual([
      'update.1.codec: topk must come first: it chooses which values are sent, a quantizer then encodes them',
    ]);
    expect(issues({ update: [{ codec: 'fp16' }, { codec: 'int8' }] })).toEqual(['update.1.codec: only one quantizer per pipeline (already fp16, got int8)']);
    expect(issues({ broadcast: [{ codec: 'topk', ratio: 0.1 }] })).toEqual([
      'broadcast.0.codec: topk sparsifies updates; the broadcast model must arrive whole (use fp16 or int8)',
    ]);
    expect(issues({ update: [{ codec: 'zip' }] })).toEqual(['update.0.codec: expected codec fp16, int8 or topk']);
    expect(issues({ update: [{ codec: 'topk', ratio: 0 }] })[0]).toMatch(/^update\.0\.ratio: /);
    expect(() => createCodec([{ codec: 'int8' }, { codec: 'fp16' }])).toThrow(
      'compression.update[1]: only one quantizer per pipeline (already int8, got fp16)',
    );
  });
});

/** A top-k block assembled by hand around any values block. */
function topkBlock(length: number, indices: number[], values: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + 4 + 4 * indices.length + values.length);
  const view = new DataView(bytes.buffer);
  bytes.set([0xfc, 1, 4]);
  view.setUint32(3, length, true);
  view.setUint32(7, indices.length, true);
  indices.forEach((index, j) => view.setUint32(11 + 4 * j, index, true));
  bytes.set(values, 11 + 4 * indices.length);
  return bytes;
}

function relativeDistance(w: Float32Array | Float64Array, optimum: Float64Array): number {
  let diff = 0;
  let norm = 0;
  for (let j = 0; j < w.length; j++) {
    diff += (w[j]! - optimum[j]!) ** 2;
    norm += optimum[j]! ** 2;
  }
  return Math.sqrt(diff / norm);
}

/** w* of the average least-squares objective, by the normal equations and Gauss–Jordan elimination. */
function solveLeastSquares(data: { a: Float64Array[]; b: number[] }[], d: number): Float64Array {
  const h = Array.from({ length: d }, () => new Float64Array(d + 1));
  for (const { a, b } of data) {
    a.forEach((row, r) => {
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) h[i]![j]! += row[i]! * row[j]!;
        h[i]![d]! += row[i]! * b[r]!;
      }
    });
  }
  for (let col = 0; col < d; col++) {
    let pivot = col;
    for (let r = col + 1; r < d; r++) if (Math.abs(h[r]![col]!) > Math.abs(h[pivot]![col]!)) pivot = r;
    [h[col], h[pivot]] = [h[pivot]!, h[col]!];
    for (let r = 0; r < d; r++) {
      if (r === col) continue;
      const factor = h[r]![col]! / h[col]![col]!;
      for (let j = col; j <= d; j++) h[r]![j]! -= factor * h[col]![j]!;
    }
  }
  return Float64Array.from({ length: d }, (_, i) => h[i]![d]! / h[i]![i]!);
}
