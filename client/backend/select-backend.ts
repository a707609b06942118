/**
 * Chooses the tfjs backend a process trains on: tensorflow (native, GPU first) when
 * @tensorflow/tfjs-node(-gpu) is installed, else WebAssembly, else pure JS. `auto` takes the
 * first that loads; naming one that cannot load is an error that says why.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '../../shared/tf.js';
import { registerWasmConvGradients } from './wasm-conv-gradients.js';
import { registerWasmTransposedMatMul } from './wasm-transposed-matmul.js';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface ActiveBackend {
  name: 'tensorflow' | 'wasm' | 'cpu';
  /** For logs and summaries, e.g. "wasm (SIMD, 1 thread)". */
  detail: string;
}

const require = createRequire(import.meta.url);
let wasmRegistered = false;

export async function selectBackend(preference: BackendPreference): Promise<ActiveBackend> {
  if (preference === 'cpu') return useCpu();
  if (preference === 'wasm') return useWasm();
  const native = await tryNative();
  if (native.backend) return native.backend;
  if (preference === 'tensorflow') {
    throw new Error(
      `backend "tensorflow" is not available: ${native.failures.join('; ')}. ` +
        'Install @tensorflow/tfjs-node (or -gpu) where its install can download libtensorflow, or use backend wasm.',
    );
  }
  try {
    return await useWasm();
  } catch {
    return useCpu();
  }
}

async function useCpu(): Promise<ActiveBackend> {
  await setBackendOrThrow('cpu');
  return { name: 'cpu', detail: 'cpu (pure JS)' };
}

async function useWasm(): Promise<ActiveBackend> {
  if (!wasmRegistered) {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Load the .wasm binaries from node_modules: nothing is fetched at run time.
    const directory = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(`${directory}/`);
    wasmRegistered = true;
  }
  await setBackendOrThrow('wasm');
  registerWasmConvGradients();
  registerWasmTransposedMatMul();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return { name: 'wasm', detail: `wasm (${simd ? 'SIMD' : 'no SIMD'}, 1 thread)` };
}

async function tryNative(): Promise<{ backend?: ActiveBackend; failures: string[] }> {
  const failures: string[] = [];
  for (const [pkg, detail] of [
    ['@tensorflow/tfjs-node-gpu', 'tensorflow (tfjs-node-gpu, CUDA)'],
    ['@tensorflow/tfjs-node', 'tensorflow (tfjs-node, CPU)'],
  ] as const) {
    try {
      await import(pkg);
      await setBackendOrThrow('tensorflow');
      return { backend: { name: 'tensorflow', detail }, failures };
    } catch (error) {
      failures.push(`${pkg}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return { failures };
}

async function setBackendOrThrow(name: string): Promise<void> {
  if (tf.getBackend() === name) return;
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs could not initialise the ${name} backend`);
  await tf.ready();
}
