/**
 * Every message that crosses the bus, with its header schema. A frame is a small JSON header
 * (validated with these schemas) plus an optional binary payload (weights or update bytes).
 *
 * Subjects, all under `fedsim.<run>.`:
 *   join      worker → coordinator, request: a worker announces itself and gets the scenario
 *   ready     worker → coordinator, request: data loaded and model built; tasks may come
 *   tasks     coordinator → workers, JetStream work queue (shared/bus/task-queue.ts): one
 *             client's training task; a worker pulls one, claims it, trains, sends the update,
 *             then acks it
 *   claim     worker → coordinator, request: "I took this task"; the reply (ack) says whether
 *             to train it (no for a finished round, a client already reported, or a secure-
 *             aggregation client already bound to another worker)
 *   model     worker → coordinator, request: one chunk of the round's global weights
 *   results   worker → coordinator, request: one chunk of a client's update (under secure
 *             aggregation: of its masked-input message, encoding "secagg-masked")
 *   control   coordinator → all workers, publish: the run ended
 *   secagg    worker → coordinator, request: a batch of secure-aggregation messages from the
 *             worker's clients (advertised keys with the training report, encrypted shares,
 *             unmasking shares)
 *   secagg.<workerId>  coordinator → one worker, request: a batch of secure-aggregation messages
 *             for that worker's clients (key rosters, relayed share pairs, unmask requests,
 *             aborts); acknowledged at once, answered later on `secagg` or `results`
 */
import { z } from 'zod';
import { RoundConfigSchema } from '../secure-aggregation/parameters.js';
import { CONFIG_RECORD, VECTOR_NAME } from './config-record.js';

/**
 * 2: tasks moved from a core-NATS queue group to a JetStream work queue with claims.
 * 3: tasks carry the strategy's config record and names of round vectors; model requests name a vector.
 * 4: the coordinator's heartbeat on the control subject, so workers notice a dead coordinator.
 * 5: tasks carry a claim token, claims present it and are answered with a grant, and updates
 *    (and secure-aggregation messages) carry the grant: only the worker granted a client's claim
 *    can report for it.
 * 9: evaluation reports may carry a two-class client's AUC.
 */
export const PROTOCOL_VERSION = 9;

/** The round vector an evaluation task scores: the global model after the round. */
export const EVALUATED_MODEL_VECTOR = 'evaluate';
/** SCAFFOLD's round vector: the server's control variate c. */
export const SERVER_CONTROL_VECTOR = 'serverControl';

const id = z.string().min(1).max(200);
/**
 * 128 random bits in hex. A task's claim token reaches only the worker the queue delivered the
 * task to (its own inbox); the grant in the claim's reply only the worker granted the claim.
 */
const SECRET = z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 lowercase hex digits');
const count = z.number().int().min(0);
/** Raw little-endian float32, or a self-describing block of shared/compression (absent = float32). */
const VECTOR_ENCODING = z.enum(['float32', 'codec']).optional();
/** An update's encodings, plus a secure-aggregation masked-input message (shared/secure-aggregation/messages.ts). */
const UPDATE_ENCODING = z.enum(['float32', 'codec', 'secagg-masked']).optional();

const UPDATE_REPORT = z.strictObject({
  samples: count,
  steps: count,
  loss: z.number(),
  /** q-FedAvg (config.reportStartLoss): the global model's data loss on the client's samples before training. */
  startLoss: z.number().min(0).optional(),
  trainMs: z.number().min(0),
  backend: z.string(),
  /** DP runs: whether the update was inside the clip norm before clipping (adaptive clipping's count). */
  unclipped: z.boolean().optional(),
});

/**
 * A batch of secure-aggregation messages: the payload is their wire encodings back to back, each
 * `bytes` long, in the order listed; `clientId` is the client that sends or receives it.
 */
const SECAGG_ENTRY = { clientId: count, bytes: z.number().int().min(1) };

export const MESSAGE_SCHEMAS = {
  join: z.strictObject({ workerId: id, host: z.string(), pid: count, backend: z.string() }),
  'join-reply': z.strictObject({ runName: id, runId: id, scenario: z.unknown() }),
  ready: z.strictObject({ workerId: id, backend: z.string(), detail: z.string() }),
  task: z.strictObject({
    round: count,
    clientId: count,
    seed: count,
    deadline: z.number(),
    /** Presented with the claim: proof that the claimant was delivered this task by the queue. */
    claimToken: SECRET,
    /** DP runs: the client clips its update to clipNorm, and under local DP adds N(0, localNoiseStd²) itself. */
    privacy: z.strictObject({ clipNorm: z.number().gt(0), localNoiseStd: z.number().min(0).optional() }).optional(),
    /** Partial work (straggler policy): stop local training after this many steps. */
    maxSteps: z.number().int().min(1).optional(),
    /** The strategy's instructions to local training (Flower's config record), e.g. a proximal μ. */
    config: CONFIG_RECORD.optional(),
    /** Round vectors to fetch beside the global model (model-request `vector`), e.g. a server control variate. */
    vectors: z.array(VECTOR_NAME).max(16).optional(),
    /**
     * Federated evaluation instead of training: score the round's vector `evaluate` (the model
     * after the round) on the client's held-out samples and send an evaluation-report.
     */
    evaluate: z.literal(true).optional(),
    /**
     * Secure aggregation: the round's protocol parameters, this client's index in the cohort,
     * and the fixed-point encoding (clip range c, bits; the cohort size is config.clients).
     * `countUnclipped`: append the DP clip bit (as c or 0) so adaptive clipping can count it in the sum.
     */
    secureAggregation: z
      .strictObject({ config: RoundConfigSchema, index: count, clip: z.number().gt(0), bits: z.number().int().min(2).max(31), countUnclipped: z.boolean() })
      .optional(),
  }),
  'task-claim': z.strictObject({
    workerId: id,
    round: count,
    clientId: count,
    delivery: z.number().int().min(1),
    claimToken: SECRET,
    /** The task was an evaluation (its claim must not match the round's training tasks, nor they it). */
    evaluate: z.literal(true).optional(),
  }),
  /** `vector`: one of the round's named vectors instead of the global model. */
  'model-request': z.strictObject({ round: count, chunk: count, vector: VECTOR_NAME.optional() }),
  'model-chunk': z.strictObject({ round: count, chunk: count, chunks: count, totalBytes: count, encoding: VECTOR_ENCODING }),
  'result-chunk': z.strictObject({
    transferId: id,
    workerId: id,
    round: count,
    clientId: count,
    chunk: count,
    chunks: z.number().int().min(1),
    totalBytes: count,
    encoding: UPDATE_ENCODING,
    /** The grant of the claim (every chunk): frames without the current grant are refused and change nothing. */
    grant: SECRET,
    /** Training facts; carried by chunk 0 only (secure aggregation: with the advertised keys instead). */
    report: UPDATE_REPORT.optional(),
  }),
  /** A client's score of the global model on its held-out samples (federated evaluation), sent on the results subject. */
  'evaluation-report': z.strictObject({
    workerId: id,
    round: count,
    clientId: count,
    grant: SECRET,
    samples: count,
    loss: z.number().min(0),
    accuracy: z.number().min(0).max(1).optional(),
    mse: z.number().min(0).optional(),
    mae: z.number().min(0).optional(),
    /** Ratings: 1 when one of the client's liked held-out items is in its top 10, else 0. */
    hitRate10: z.number().min(0).max(1).optional(),
    /** Two-class data: the area under the ROC curve on the held-out samples (absent when they hold one class). */
    auc: z.number().min(0).max(1).optional(),
    /** evaluation.federated.fineTuneEpochs: the same held-out samples after the client fine-tuned the model on its own. */
    personalized: z
      .strictObject({
        loss: z.number().min(0),
        accuracy: z.number().min(0).max(1).optional(),
        mse: z.number().min(0).optional(),
        mae: z.number().min(0).optional(),
      })
      .optional(),
  }),
  /** `grant`: in the answer to an accepted claim, what the worker's reports for that client must carry. */
  ack: z.strictObject({ ok: z.boolean(), error: z.string().optional(), grant: SECRET.optional() }),
  'run-end': z.strictObject({ reason: z.string() }),
  /** The coordinator is alive (workers leave after system.coordinatorSilenceSeconds without one). */
  heartbeat: z.strictObject({}),
  'secagg-to-clients': z.strictObject({ round: count, messages: z.array(z.strictObject(SECAGG_ENTRY)).min(1) }),
  'secagg-from-clients': z.strictObject({
    workerId: id,
    round: count,
    /** `report`: the client's training facts, sent with its advertised keys (the end of its training). */
    messages: z.array(z.strictObject({ ...SECAGG_ENTRY, grant: SECRET, report: UPDATE_REPORT.optional() })).min(1),
  }),
} as const;

export type MessageType = keyof typeof MESSAGE_SCHEMAS;
export type MessageHeader<T extends MessageType> = z.output<(typeof MESSAGE_SCHEMAS)[T]>;

/** Wire codes; never reuse a number for a different message (4 was task-ack, retired). */
export const MESSAGE_CODES: Record<MessageType, number> = {
  join: 1,
  'join-reply': 2,
  task: 3,
  'model-request': 5,
  'model-chunk': 6,
  'result-chunk': 7,
  ack: 8,
  'run-end': 9,
  ready: 10,
  'secagg-to-clients': 11,
  'secagg-from-clients': 12,
  'task-claim': 13,
  heartbeat: 14,
  'evaluation-report': 15,
};

export function subjects(runName: string) {
  const base = `fedsim.${runName}`;
  return {
    join: `${base}.join`,
    ready: `${base}.ready`,
    tasks: `${base}.tasks`,
    claim: `${base}.claim`,
    model: `${base}.model`,
    results: `${base}.results`,
    control: `${base}.control`,
    secAgg: `${base}.secagg`,
    /** One worker's secure-aggregation inbox; characters that are not safe in a subject token become "_". */
    secAggWorker: (workerId: string) => `${base}.secagg.${workerId.replace(/[^A-Za-z0-9_-]/g, '_')}`,
    /** Every worker's secure-aggregation inbox (a subscription wildcard). */
    secAggWorkers: `${base}.secagg.*`,
    /** Everything of the run (a subscription wildcard). */
    everything: `${base}.>`,
  };
}

export type RunSubjects = ReturnType<typeof subjects>;
type SubjectName = { [K in keyof RunSubjects]: RunSubjects[K] extends string ? K : never }[keyof RunSubjects];

/**
 * Which subjects of the header above a worker sends on and listens to; the NATS permissions
 * `fedsim deploy creds` writes are derived from these lists, so the two cannot drift apart.
 */
export const WORKER_SENDS: readonly SubjectName[] = ['join', 'ready', 'model', 'claim', 'results', 'secAgg'];
export const WORKER_HEARS: readonly SubjectName[] = ['control', 'secAggWorkers'];
