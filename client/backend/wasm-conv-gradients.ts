/**
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so no Conv2D layer can train on it.
 * This registers one built from the wasm backend's own fast kernels (pad, transpose, conv2d,
 * slice), so the filter gradient runs in wasm like everything else.
 *
 * dW[kh, kw, ci, co] = Σ_{n, oh, ow} x_pad[n, oh·s + kh, ow·s + kw, ci] · dy[n, oh, ow, co]
 * is itself a convolution once batch and channels swap places: convolve the input, transposed to
 * [ci, H, W, n], with the output gradient transposed to a filter [oh, ow, n, co] dilated by the
 * stride; the result [ci, kh, kw, co] transposed back is dW.
 */
import * as tf from '../../shared/tf.js';

type TensorInfo = tf.TensorInfo;
type KernelRunner = (args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }) => TensorInfo | TensorInfo[];

let registered = false;

export function registerWasmConvGradients(): void {
  if (registered || tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined) return;
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc });
  registered = true;
}

function wasmKernel(name: string): KernelRunner {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`the wasm backend has no ${name} kernel, which the conv filter gradient needs`);
  return kernel.kernelFunc as unknown as KernelRunner;
}

function conv2dBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: tf.KernelBackend; attrs: Record<string, unknown> }): TensorInfo {
  const { x, dy } = args.inputs;
  const { backend } = args;
  const strides = args.attrs.strides as [number, number] | number;
  const pad = args.attrs.pad as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  const dataFormat = (args.attrs.dataFormat as string | undefined) ?? 'NHWC';
  const dimRoundingMode = args.attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined;
  const filterShape = args.attrs.filterShape as [number, number, number, number];
  if (dataFormat !== 'NHWC') throw new Error(`wasm Conv2DBackpropFilter: dataFormat ${dataFormat} is not supported (expected NHWC)`);

  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { top, bottom, left, right } = info.padInfo;
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const temporaries: TensorInfo[] = [];
  const keep = <T extends TensorInfo>(t: T): T => {
    temporaries.push(t);
    return t;
  };
  try {
    const padded = top + bottom + left + right > 0
      ? keep(wasmKernel('PadV2')({ inputs: { x }, backend, attrs: { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 } }) as TensorInfo)
      : x;
    const xT = keep(wasmKernel('Transpose')({ inputs: { x: padded }, backend, attrs: { perm: [3, 1, 2, 0] } }) as TensorInfo);
    const dyT = keep(wasmKernel('Transpose')({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } }) as TensorInfo);
    const dilated = keep(
      wasmKernel('Conv2D')({
        inputs: { x: xT, filter: dyT },
        backend,
        attrs: { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth] },
      }) as TensorInfo,
    );
    // With strides > 1 the padded input can be a little longer than the windows use.
    const cropped = dilated.shape[1] !== kh || dilated.shape[2] !== kw
      ? keep(wasmKernel('Slice')({ inputs: { x: dilated }, backend, attrs: { begin: [0, 0, 0, 0], size: [-1, kh, kw, -1] } }) as TensorInfo)
      : dilated;
    return wasmKernel('Transpose')({ inputs: { x: cropped }, backend, attrs: { perm: [1, 2, 0, 3] } }) as TensorInfo;
  } finally {
    for (const t of temporaries) backend.disposeData(t.dataId);
  }
}
