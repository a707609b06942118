/**
 * Every message that crosses the bus, with its header schema. A frame is a small JSON header
 * (validated with these schemas) plus an optional binary payload (weights or update bytes).
 *
 * Subjects, all under `fedsim.<run>.`:
 *   join      worker → coordinator, request: a worker announces itself and gets the scenario
 *   ready     worker → coordinator, request: data loaded and model built; tasks may come
 *   tasks     coordinator → queue group "workers", request: one client's training task
 *   model     worker → coordinator, request: one chunk of the round's global weights
 *   results   worker → coordinator, request: one chunk of a client's update
 *   control   coordinator → all workers, publish: the run ended
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

const id = z.string().min(1).max(200);
const count = z.number().int().min(0);
/** Raw little-endian float32, or a self-describing block of shared/compression (absent = float32). */
const VECTOR_ENCODING = z.enum(['float32', 'codec']).optional();

export const MESSAGE_SCHEMAS = {
  join: z.strictObject({ workerId: id, host: z.string(), pid: count, backend: z.string() }),
  'join-reply': z.strictObject({ runName: id, runId: id, scenario: z.unknown() }),
  ready: z.strictObject({ workerId: id, backend: z.string(), detail: z.string() }),
  task: z.strictObject({
    round: count,
    clientId: count,
    seed: count,
    deadline: z.number(),
    /** DP runs: the client clips its update to clipNorm, and under local DP adds N(0, localNoiseStd²) itself. */
    privacy: z.strictObject({ clipNorm: z.number().gt(0), localNoiseStd: z.number().min(0).optional() }).optional(),
    /** Partial work (straggler policy): stop local training after this many steps. */
    maxSteps: z.number().int().min(1).optional(),
  }),
  'task-ack': z.strictObject({ workerId: id }),
  'model-request': z.strictObject({ round: count, chunk: count }),
  'model-chunk': z.strictObject({ round: count, chunk: count, chunks: count, totalBytes: count, encoding: VECTOR_ENCODING }),
  'result-chunk': z.strictObject({
    transferId: id,
    workerId: id,
    round: count,
    clientId: count,
    chunk: count,
    chunks: z.number().int().min(1),
    totalBytes: count,
    encoding: VECTOR_ENCODING,
    /** Training facts; carried by chunk 0 only. */
    report: z
      .strictObject({
        samples: count,
        steps: count,
        loss: z.number(),
        trainMs: z.number().min(0),
        backend: z.string(),
        /** DP runs: whether the update was inside the clip norm before clipping (adaptive clipping's count). */
        unclipped: z.boolean().optional(),
      })
      .optional(),
  }),
  ack: z.strictObject({ ok: z.boolean(), error: z.string().optional() }),
  'run-end': z.strictObject({ reason: z.string() }),
} as const;

export type MessageType = keyof typeof MESSAGE_SCHEMAS;
export type MessageHeader<T extends MessageType> = z.output<(typeof MESSAGE_SCHEMAS)[T]>;

/** Wire codes; never reuse a number for a different message. */
export const MESSAGE_CODES: Record<MessageType, number> = {
  join: 1,
  'join-reply': 2,
  task: 3,
  'task-ack': 4,
  'model-request': 5,
  'model-chunk': 6,
  'result-chunk': 7,
  ack: 8,
  'run-end': 9,
  ready: 10,
};

export function subjects(runName: string) {
  const base = `fedsim.${runName}`;
  return {
    join: `${base}.join`,
    ready: `${base}.ready`,
    tasks: `${base}.tasks`,
    model: `${base}.model`,
    results: `${base}.results`,
    control: `${base}.control`,
  };
}

export const WORKER_QUEUE_GROUP = 'workers';
