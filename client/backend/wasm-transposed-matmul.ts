/**
 * tfjs-backend-wasm 4.22's BatchMatMul is about 10× slower when asked to transpose an operand
 * (measured: [50,200]·[784,200]ᵀ 15.5 ms against 2 ms for an explicit transpose then a plain
 * product). Every dense layer's backward pass asks for exactly that, so this wraps the kernel to
 * multiply without flags after explicit transposes. Transposing is itself not free (24 ms for
 * the CNN's 3136×512 weights), so it picks the identity that moves fewer values:
 *   a·bᵀ = (b·aᵀ)ᵀ,  aᵀ·b = (bᵀ·a)ᵀ,  aᵀ·bᵀ = (b·a)ᵀ.
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
  const transpose = tf.getKernel('Transpose', 'wasm').kernelFunc as unknown as KernelRunner;

  const kernelFunc = (args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: tf.KernelBackend; attrs: { transposeA: boolean; transposeB: boolean } }) => {
    const { backend, attrs } = args;
    const temporaries: TensorInfo[] = [];
    const swap = (t: TensorInfo): TensorInfo => {
      const rank = t.shape.length;
      return transpose({ inputs: { x: t }, backend, attrs: { perm: [...Array(rank - 2).keys(), rank - 1, rank - 2] } });
    };
    const swapLastTwo = (t: TensorInfo): TensorInfo => {
      const out = swap(t);
      temporaries.push(out);
      return out;
    };
    // The product computed transposed becomes a temporary; its transpose is the result.
    const transposeBack = (product: TensorInfo): TensorInfo => {
      temporaries.push(product);
      return swap(product);
    };
    const plain = (a: TensorInfo, b: TensorInfo) => multiply({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } });
    try {
      const { a, b } = args.inputs;
      const { transposeA, transposeB } = attrs;
      if (!transposeA && !transposeB) return plain(a, b);
      const outputSize = matrixSize(a, transposeA ? 1 : 2) * matrixSize(b, transposeB ? 2 : 1);
      if (transposeA && transposeB) return transposeBack(plain(b, a));
      const direct = transposeA ? size(a) : size(b);
      const swapped = (transposeA ? size(b) : size(a)) + outputSize;
      if (direct <= swapped) return transposeA ? plain(swapLastTwo(a), b) : plain(a, swapLastTwo(b));
      return transposeA ? transposeBack(plain(swapLastTwo(b), a)) : transposeBack(plain(b, swapLastTwo(a)));
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  wrapped = true;
}

function size(t: TensorInfo): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

/** Rows (axis 1) or columns (axis 2) of a batched [batch, rows, cols] operand, times the batch for rows. */
function matrixSize(t: TensorInfo, axis: 1 | 2): number {
  const rank = t.shape.length;
  const dim = axis === 1 ? t.shape[rank - 2]! : t.shape[rank - 1]!;
  return axis === 1 ? dim * t.shape.slice(0, rank - 2).reduce((a, b) => a * b, 1) : dim;
}
