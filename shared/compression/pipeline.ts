/**
 * Builds a codec from a pipeline spec, and decodes any encoded vector from its bytes alone.
 */
import { CodecError, readHeader, type VectorCodec } from './codec.js';
import { pipelineProblems, type CodecSpecInput } from './compression-spec.js';
import { decodeFp16Block, fp16Codec } from './fp16.js';
import { decodeFp32Block, fp32Codec } from './fp32.js';
import { decodeInt8Block, int8Codec } from './int8.js';
import { decodeTopkBlock, topkCodec } from './topk.js';

/** The codec of a pipeline; an empty pipeline is plain float32. */
export function createCodec(pipeline: readonly CodecSpecInput[], kind: 'update' | 'broadcast' = 'update'): VectorCodec {
  const problems = pipelineProblems(pipeline, kind);
  if (problems.length > 0) throw new RangeError(problems.map((p) => `compression.${kind}[${p.index}]: ${p.message}`).join('\n'));
  let values: VectorCodec = fp32Codec();
  let sparsifier: Extract<CodecSpecInput, { codec: 'topk' }> | null = null;
  for (const stage of pipeline) {
    if (stage.codec === 'topk') sparsifier = stage;
    else values = stage.codec === 'fp16' ? fp16Codec() : int8Codec(stage.chunkSize);
  }
  return sparsifier === null ? values : topkCodec(sparsifier.ratio, values);
}

/** Whether the pipeline's topk asks for error feedback (the worker then keeps one ErrorFeedback per client). */
export function usesErrorFeedback(pipeline: readonly CodecSpecInput[]): boolean {
  return pipeline.some((stage) => stage.codec === 'topk' && stage.errorFeedback !== false);
}

/** Decodes a block of any codec, nested blocks included, without knowing the pipeline. */
export function decodeVector(bytes: Uint8Array): Float32Array {
  const { codec } = readHeader(bytes);
  switch (codec) {
    case 'fp32':
      return decodeFp32Block(bytes);
    case 'fp16':
      return decodeFp16Block(bytes);
    case 'int8':
      return decodeInt8Block(bytes);
    case 'topk':
      return decodeTopkBlock(bytes, (inner) => {
        if (readHeader(inner).codec === 'topk') throw new CodecError('topk block holds another topk block; a pipeline sparsifies once');
        return decodeVector(inner);
      });
  }
}
