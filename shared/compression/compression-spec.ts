/**
 * `compression` in a scenario: the codec pipelines of client updates (`update`) and of the
 * global model the coordinator broadcasts (`broadcast`; float32 when absent). An empty or absent
 * pipeline sends float32.
 *
 * A pipeline is at most one sparsifier (topk), first, then at most one quantizer (fp16 or int8)
 * that encodes the values left: "topk then fp16" is [{ codec: topk, ratio: 0.01 }, { codec: fp16 }].
 * Quantizing twice, or sparsifying quantized codes, has no meaning, so those are refused.
 */
import { z } from 'zod';
import { DEFAULT_INT8_CHUNK } from './int8.js';

export const CODEC_SPEC = z.discriminatedUnion(
  'codec',
  [
    z.strictObject({ codec: z.literal('fp16') }),
    z.strictObject({
      codec: z.literal('int8'),
      chunkSize: z
        .number()
        .int()
        .min(1)
        .max(2 ** 20)
        .default(DEFAULT_INT8_CHUNK),
    }),
    z.strictObject({
      codec: z.literal('topk'),
      /** Fraction of the values kept, in (0, 1]. */
      ratio: z.number().gt(0).max(1),
      /** Keep each client's dropped residual and add it to its next update (update pipelines only). */
      errorFeedback: z.boolean().default(true),
    }),
  ],
  { error: 'expected codec fp16, int8 or topk' },
);

export type CodecSpec = z.output<typeof CODEC_SPEC>;
export type CodecSpecInput = z.input<typeof CODEC_SPEC>;

export interface PipelineProblem {
  /** Index of the offending codec in the pipeline. */
  index: number;
  message: string;
}

/**
 * Why a pipeline cannot be built; empty when it can. A broadcast carries the model itself, which
 * top-k would cut down to a fraction of its weights, so `broadcast` refuses sparsifiers.
 */
export function pipelineProblems(pipeline: readonly { codec: string }[], kind: 'update' | 'broadcast'): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  let quantizer: string | null = null;
  pipeline.forEach((stage, index) => {
    if (stage.codec === 'topk') {
      if (kind === 'broadcast') problems.push({ index, message: 'topk sparsifies updates; the broadcast model must arrive whole (use fp16 or int8)' });
      else if (index !== 0) problems.push({ index, message: 'topk must come first: it chooses which values are sent, a quantizer then encodes them' });
    } else if (quantizer !== null) {
      problems.push({ index, message: `only one quantizer per pipeline (already ${quantizer}, got ${stage.codec})` });
    } else {
      quantizer = stage.codec;
    }
  });
  return problems;
}

const pipelineOf = (kind: 'update' | 'broadcast') =>
  z.array(CODEC_SPEC).superRefine((pipeline, ctx) => {
    for (const problem of pipelineProblems(pipeline, kind)) ctx.addIssue({ code: 'custom', path: [problem.index, 'codec'], message: problem.message });
  });

export const COMPRESSION_SPEC = z.strictObject({
  update: pipelineOf('update').default([]),
  broadcast: pipelineOf('broadcast').optional(),
});

export type CompressionSpec = z.output<typeof COMPRESSION_SPEC>;
