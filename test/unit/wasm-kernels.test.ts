/**
 * fedsim's wasm kernels (conv filter and input gradients, transposed matmul) against the pure-JS
 * cpu backend, on fixed pseudo-random data.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../client/backend/select-backend.js';
import { Rng } from '../../shared/random.js';
import * as tf from '../../shared/tf.js';

type Pad = 'same' | 'valid';
const rng = new Rng(2024);
const random = (n: number, std = 1) => Float32Array.from({ length: n }, () => rng.normal(0, std));

async function convGradients(backend: 'cpu' | 'wasm', xShape: number[], wShape: number[], pad: Pad, stride: number, xs: Float32Array, ws: Float32Array) {
  await selectBackend(backend);
  const before = tf.memory().numTensors;
  const x = tf.tensor4d(xs, xShape as [number, number, number, number]);
  const w = tf.tensor4d(ws, wShape as [number, number, number, number]);
  const [dx, dw] = tf.grads((a: tf.Tensor, f: tf.Tensor) =>
    tf
      .conv2d(a as tf.Tensor4D, f as tf.Tensor4D, stride, pad)
      .square()
      .sum(),
  )([x, w]);
  const out = { dx: await dx!.data(), dw: await dw!.data() };
  tf.dispose([x, w, dx!, dw!]);
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

function relativeError(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  let maxDiff = 0;
  let magnitude = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(expected[i]! - actual[i]!));
    magnitude = Math.max(magnitude, Math.abs(expected[i]!));
  }
  return maxDiff / magnitude;
}

afterAll(async () => {
  await selectBackend('cpu');
});

describe('wasm conv gradients match the cpu backend', () => {
  const cases: [number[], number[], Pad, number][] = [
    [[2, 28, 28, 1], [5, 5, 1, 32], 'same', 1], // the FedAvg CNN's first layer
    [[1, 14, 14, 16], [5, 5, 16, 32], 'same', 1], // like its second (fewer channels: the cpu reference is slow)
    [[1, 7, 7, 3], [3, 3, 3, 4], 'valid', 1],
    [[2, 8, 8, 3], [4, 4, 3, 2], 'same', 1], // even kernel: asymmetric 'same' padding
    [[2, 9, 9, 3], [3, 3, 3, 5], 'same', 2], // strided: filter gradient via dilation
    [[2, 10, 10, 2], [3, 3, 2, 3], 'valid', 2],
  ];
  for (const [xShape, wShape, pad, stride] of cases) {
    it(`x ${xShape.join('×')}, filter ${wShape.join('×')}, ${pad}, stride ${stride}`, async () => {
      const xs = random(xShape.reduce((a, b) => a * b));
      const ws = random(
        wShape.reduce((a, b) => a * b),
        0.1,
      );
      const cpu = await convGradients('cpu', xShape, wShape, pad, stride, xs, ws);
      const wasm = await convGradients('wasm', xShape, wShape, pad, stride, xs, ws);
      expect(relativeError(cpu.dw, wasm.dw)).toBeLessThan(1e-5);
      expect(relativeError(cpu.dx, wasm.dx)).toBeLessThan(1e-5);
    });
  }
});

describe('wasm transposed matmul matches the cpu backend', () => {
  const shapes: [number[], number[], boolean, boolean][] = [
    [[10, 200], [784, 200], false, true], // dense backward: dy·Wᵀ, W large
    [[784, 10], [784, 200], true, false], // dense backward: xᵀ·dy
    [[3, 5], [4, 3], true, true],
    [[2, 6, 4], [2, 5, 4], false, true], // batched
  ];
  for (const [aShape, bShape, ta, tb] of shapes) {
    it(`${aShape.join('×')}${ta ? 'ᵀ' : ''} · ${bShape.join('×')}${tb ? 'ᵀ' : ''}`, async () => {
      const as = random(aShape.reduce((x, y) => x * y));
      const bs = random(bShape.reduce((x, y) => x * y));
      const product = async (backend: 'cpu' | 'wasm') => {
        await selectBackend(backend);
        const c = tf.tidy(() => tf.matMul(tf.tensor(as, aShape), tf.tensor(bs, bShape), ta, tb));
        const out = { shape: c.shape, data: await c.data() };
        c.dispose();
        return out;
      };
      const cpu = await product('cpu');
      const wasm = await product('wasm');
      expect(wasm.shape).toEqual(cpu.shape);
      expect(relativeError(cpu.data, wasm.data)).toBeLessThan(1e-5);
    });
  }
});

describe('backend selection', () => {
  it('reports the backend it chose', async () => {
    expect((await selectBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await selectBackend('wasm');
    expect(wasm.name).toBe('wasm');
    expect(wasm.detail).toMatch(/^wasm/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('explains why the native backend is unavailable when asked for it', async () => {
    let native: unknown;
    // A variable, not a literal, so tsc does not try to resolve an optional package that may be absent.
    const nativePackage: string = '@tensorflow/tfjs-node';
    try {
      native = await import(nativePackage);
    } catch {
      native = undefined;
    }
    if (native === undefined) {
      await expect(selectBackend('tensorflow')).rejects.toThrow(/@tensorflow\/tfjs-node/);
      expect((await selectBackend('auto')).name).toBe('wasm');
    } else {
      expect((await selectBackend('tensorflow')).name).toBe('tensorflow');
    }
  });
});
