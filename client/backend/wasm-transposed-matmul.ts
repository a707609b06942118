/**
 * tfjs-backend-wasm 4.22's BatchMatMul is about 10× slower when asked to transpose an operand
 * (measured: [50,200]·[784,200]ᵀ 15.5 ms against 2 ms for an explicit transpose then a plain
 * product). Every dense layer's backward pass asks for exactly that, so this wraps the kernel:
 * transpose first with the wasm Transpose kernel, then multiply without flags.
 */
import * as tf from '../../shared/tf.js';

type TensorInfo = tf.TensorInfo;
type KernelRunner = (args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }) => TensorInfo;

let wrapped = false;

export function registerWasmTransposedMatMul(): void {
  if (wrapped) return;
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!original) return;
  const multiply = original.kernelFunc as unknown as KernelRunner;
  const transpose = tf.getKernel('Transpose', 'wasm')!.kernelFunc as unknown as KernelRunner;

  const kernelFunc = (args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: tf.KernelBackend; attrs: { transposeA: boolean; transposeB: boolean } }) => {
    const { backend, attrs } = args;
    const temporaries: TensorInfo[] = [];
    const swapLastTwo = (t: TensorInfo): TensorInfo => {
      const rank = t.shape.length;
      const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
      const out = transpose({ inputs: { x: t }, backend, attrs: { perm } });
      temporaries.push(out);
      return out;
    };
    try {
      const a = attrs.transposeA ? swapLastTwo(args.inputs.a) : args.inputs.a;
      const b = attrs.transposeB ? swapLastTwo(args.inputs.b) : args.inputs.b;
      return multiply({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } });
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  wrapped = true;
}
