/**
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so no Conv2D layer can train on it,
 * and its Conv2DBackpropInput is ~7× slower than its forward Conv2D. Both gradients are
 * registered here, built from the wasm backend's own fast kernels (pad, transpose, reverse,
 * conv2d, slice), so they run in wasm like everything else.
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
  if (registered) return;
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') === undefined) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc });
  }
  const nativeInputGradient = tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc as unknown as KernelRunner | undefined;
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: ((args: ConvGradientArgs<'dy' | 'filter'>) => conv2dBackpropInput(args, nativeInputGradient)) as unknown as tf.KernelFunc,
  });
  registered = true;
}

type ConvGradientArgs<Names extends string> = { inputs: Record<Names, TensorInfo>; backend: tf.KernelBackend; attrs: Record<string, unknown> };

/**
 * dx = the full correlation of dy with the filter rotated 180° and its channels swapped:
 * pad dy by (k − 1 − pad) on each side, then a 'valid' convolution with W'[i, j, co, ci] =
 * W[kh − 1 − i, kw − 1 − j, ci, co]. Written for stride 1 (every layer of fedsim's models);
 * strided convolutions keep the backend's own kernel.
 */
function conv2dBackpropInput(args: ConvGradientArgs<'dy' | 'filter'>, fallback: KernelRunner | undefined): TensorInfo {
  const { dy, filter } = args.inputs;
  const { backend } = args;
  const inputShape = args.attrs.inputShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    args.attrs.strides as [number, number] | number,
    1,
    args.attrs.pad as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
    args.attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
  const dataFormat = (args.attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || dataFormat !== 'NHWC') {
    if (!fallback) throw new Error('wasm Conv2DBackpropInput: strided or NCHW convolutions need the backend kernel, which is missing');
    return fallback(args as never) as TensorInfo;
  }
  const { top, bottom, left, right } = info.padInfo;
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const temporaries: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => {
    temporaries.push(t);
    return t;
  };
  try {
    const paddedDy = keep(
      wasmKernel('PadV2')({
        inputs: { x: dy },
        backend,
        attrs: {
          paddings: [
            [0, 0],
            [kh - 1 - top, kh - 1 - bottom],
            [kw - 1 - left, kw - 1 - right],
            [0, 0],
          ],
          constantValue: 0,
        },
      }) as TensorInfo,
    );
    const flipped = keep(wasmKernel('Reverse')({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } }) as TensorInfo);
    const swapped = keep(wasmKernel('Transpose')({ inputs: { x: flipped }, backend, attrs: { perm: [0, 1, 3, 2] } }) as TensorInfo);
    return wasmKernel('Conv2D')({
      inputs: { x: paddedDy, filter: swapped },
      backend,
      attrs: { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] },
    }) as TensorInfo;
  } finally {
    for (const t of temporaries) backend.disposeData(t.dataId);
  }
}

function wasmKernel(name: string): KernelRunner {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`the wasm backend has no ${name} kernel, which the conv filter gradient needs`);
  return kernel.kernelFunc;
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
    const padded =
      top + bottom + left + right > 0
        ? keep(
            wasmKernel('PadV2')({
              inputs: { x },
              backend,
              attrs: {
                paddings: [
                  [0, 0],
                  [top, bottom],
                  [left, right],
                  [0, 0],
                ],
                constantValue: 0,
              },
            }) as TensorInfo,
          )
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
    const cropped =
      dilated.shape[1] !== kh || dilated.shape[2] !== kw
        ? keep(wasmKernel('Slice')({ inputs: { x: dilated }, backend, attrs: { begin: [0, 0, 0, 0], size: [-1, kh, kw, -1] } }) as TensorInfo)
        : dilated;
    return wasmKernel('Transpose')({ inputs: { x: cropped }, backend, attrs: { perm: [1, 2, 0, 3] } }) as TensorInfo;
  } finally {
    for (const t of temporaries) backend.disposeData(t.dataId);
  }
}
