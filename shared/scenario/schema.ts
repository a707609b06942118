/**
 * The scenario file's schema. A scenario is the whole description of one federated run; the
 * resolved form (defaults filled in) is saved with the run and sent to every worker, so both
 * sides agree on data, partition, model and training settings.
 */
import { z } from 'zod';
import { COMPRESSION_SPEC } from '../compression/compression-spec.js';
import { DEFAULT_STRAGGLER_SPEC, STRAGGLER_SPEC } from '../compute/straggler-spec.js';
import { DATASET_FRAGMENTS } from '../data/registry.js';
import { DEVICES_SPEC } from '../devices/device-profiles.js';
import { MODEL_FRAGMENTS } from '../models/registry.js';
import { PARTITION_FRAGMENTS } from '../partition/registry.js';
import { positiveInt, timerSeconds } from './spec-fields.js';
import { STRATEGY_SPEC } from '../../coordinator/strategies/registry.js';
import { ADVERSARIES_SPEC } from '../../client/attacks/registry.js';

export const DATASET_SPEC = z.discriminatedUnion('name', DATASET_FRAGMENTS);
export const PARTITION_SPEC = z.discriminatedUnion('kind', PARTITION_FRAGMENTS);
export const MODEL_SPEC = z.discriminatedUnion('name', MODEL_FRAGMENTS);

export const TRAINING_SPEC = z.strictObject({
  epochs: positiveInt,
  /** "all" is FedAvg's B = ∞: one full-batch step per epoch. */
  batchSize: z.union([positiveInt, z.literal('all')], { error: 'expected a positive integer or "all"' }),
  optimizer: z.enum(['sgd', 'momentum', 'adam']).default('sgd'),
  learningRate: z.number().gt(0),
  momentum: z.number().min(0).lt(1).optional(),
});

export const EVALUATION_SPEC = z.strictObject({
  /** Evaluate the global model on the held-out test set every k rounds (and after the last). */
  every: positiveInt.default(1),
  /** Stop as soon as test accuracy reaches this (classification). */
  targetAccuracy: z.number().gt(0).max(1).optional(),
  /** Stop as soon as test MSE falls to this (regression). */
  targetMse: z.number().gt(0).optional(),
  /**
   * Federated evaluation: every k rounds (and after the last) sampled clients score the global
   * model on their own held-out samples, which they never train on. Absent: no client holds any out.
   */
  federated: z
    .strictObject({
      every: positiveInt.default(1),
      /** How many clients evaluate (default: every client), or `fraction` of them. */
      clients: positiveInt.optional(),
      fraction: z.number().gt(0).max(1).optional(),
      /** The share of each client's samples held out from its training (clients with one sample hold none). */
      heldOutFraction: z.number().gt(0).max(0.9).default(0.2),
      /**
       * After scoring the global model, each evaluating client fine-tunes it for this many epochs
       * on its own training samples and scores it again: personalised accuracy beside the global's.
       */
      fineTuneEpochs: z.number().int().min(0).max(100).default(0),
    })
    .refine((f) => f.clients === undefined || f.fraction === undefined, { error: 'expected clients or fraction, not both' })
    .optional(),
});

/** Each worker process holds the data and a model: more than this on one coordinator is a typo, not a plan. */
export const MAX_WORKER_PROCESSES = 1024;

export const SYSTEM_SPEC = z.strictObject({
  /** Worker processes that `fedsim run` starts itself; "auto" = one per core. 0 = only workers started by hand. */
  workers: z
    .union([z.literal('auto'), z.number().int().min(0).max(MAX_WORKER_PROCESSES)], {
      error: `expected "auto" or a whole number from 0 to ${MAX_WORKER_PROCESSES}`,
    })
    .default('auto'),
  backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  transport: z.enum(['auto', 'nats', 'in-process']).default('auto'),
  /** A NATS server to use; NATS_URL in the environment wins over it. */
  natsUrl: z
    .string()
    .regex(/^(nats|tls|ws|wss):\/\/.+/, 'expected a URL such as nats://host:4222')
    .optional(),
  /** Clients that have not reported this long after the round started count as dropped. */
  roundTimeoutSeconds: timerSeconds.default(600),
  /**
   * A task a worker took and neither finished nor reported progress on for this long goes to
   * another worker: the first one is presumed dead. Working workers extend it every third of it.
   */
  taskAckWaitSeconds: z.number().gt(0).max(3600).default(30),
  /**
   * A worker that hears nothing from its coordinator (a heartbeat every sixth of this, at most
   * every 10 s) for this long presumes it dead and leaves, or, with --keep-alive, waits for the next run.
   */
  coordinatorSilenceSeconds: z.number().min(3).max(86_400).default(120),
  /** What an aggregator that keeps every update of a round (a median, Krum) may hold, in MiB. */
  aggregationMemoryMB: z.number().gt(0).default(2048),
  /**
   * What the client state store (SCAFFOLD's control variates, top-k residuals, personal layers)
   * may hold, in MiB, over every client the run may draw: checked before the run starts.
   */
  clientStateMB: z.number().gt(0).max(1_048_576).default(1024),
  /** Simulated devices: speed, bandwidth, power and availability per share of the population. */
  devices: DEVICES_SPEC.optional(),
  /** What happens to clients that are slow in simulated time (needs devices). */
  stragglers: STRAGGLER_SPEC.default(DEFAULT_STRAGGLER_SPEC),
});

export const OUTPUT_SPEC = z.strictObject({
  dir: z.string().min(1).default('runs'),
  saveModel: z.boolean().default(true),
});

/**
 * Differential privacy of the federation (client-level: a neighbouring federation differs in one
 * client's whole data). `central`: clients clip, the trusted coordinator adds Gaussian noise to
 * the sum (DP-FedAvg, McMahan et al. 2018). `local`: every client also noises its own update
 * before it leaves the worker, so the coordinator need not be trusted.
 */
export const DP_SPEC = z.strictObject({
  mode: z.enum(['central', 'local']).default('central'),
  /** `fixed`: clip at clipNorm. `adaptive`: clipNorm is the starting point of Andrew et al. 2021's quantile tracking. */
  clipping: z.enum(['fixed', 'adaptive']).default('fixed'),
  /** S, the L2 bound of one client's update. */
  clipNorm: z.number().gt(0),
  /** z: noise standard deviation per coordinate is z·S. Omit with calibrate: true. */
  noiseMultiplier: z.number().min(0).optional(),
  delta: z.number().gt(0).lt(1).default(1e-5),
  /** Stop before ε would exceed this, or, with calibrate: true, choose z to meet it over the planned rounds. */
  targetEpsilon: z.number().gt(0).optional(),
  calibrate: z.boolean().default(false),
  /** ε from RDP: Balle et al. 2020's tighter conversion, or the classic one. */
  conversion: z.enum(['tight', 'classic']).default('tight'),
  /** Adaptive clipping (Andrew et al. 2021): target quantile γ, learning rate η, count noise σ_b (default: expected clients / 20, as in the paper). */
  targetQuantile: z.number().gt(0).lt(1).default(0.5),
  clipLearningRate: z.number().gt(0).default(0.2),
  countNoise: z.number().gt(0).optional(),
});

/**
 * Secure aggregation (Bonawitz et al. 2017; SecAgg+, Bell et al. 2020): each client masks its
 * fixed-point encoded update so that the coordinator can recover only the sum of the round's
 * survivors, never one client's update. The combinations it refuses, and why, are in
 * load-scenario.ts (secureAggregationProblems) and README.md.
 */
export const SECURE_AGGREGATION_SPEC = z.strictObject({
  /** secagg: every client pairs with every other (O(n) per client); secagg+: a random k-regular graph with k = O(log n). */
  variant: z.enum(['secagg', 'secagg+']).default('secagg+'),
  /** τ: the share of each secret's holders needed to rebuild it, t = max(2, ⌈τ·holders⌉); below t survivors the round aborts. */
  thresholdFraction: z.number().gt(0).max(1).default(0.5),
  /** c: each coordinate of an update is clipped to [−c, c] (L∞) before fixed-point encoding. With privacy.dp, defaults to its clipNorm (L∞ ≤ L2 ≤ S: nothing more is clipped). */
  clipNorm: z.number().gt(0).optional(),
  /** Precision per value; default the most the 2^32 modulus leaves once the cohort's sum has room, 32 − ⌈log2 cohort⌉. */
  bits: z.number().int().min(2).max(31).optional(),
  /** δ: the dropout rate SecAgg+ sizes its neighbourhoods for. */
  dropoutRate: z.number().min(0).lt(1).default(0.1),
  /** η: SecAgg+ picks k so that dropouts within dropoutRate abort a round with probability ≤ 2^−η (default 20; the security bound stays 2^−40). */
  failureProbabilityLog2: z.number().gt(0).max(128).optional(),
  /** How long each protocol step after training waits for slow or dead clients before counting them as dropped. */
  stepTimeoutSeconds: timerSeconds.default(30),
});

/**
 * A curious coordinator: it attacks the individual updates it receives (gradient inversion of
 * the client's inputs, membership inference of candidate samples). Under secure aggregation it
 * never holds one, and the run says so instead of scoring.
 */
export const UPDATE_ATTACKS_SPEC = z.strictObject({
  /** How many of each attacked round's cohort it attacks (a seeded choice). */
  clientsPerRound: positiveInt.default(4),
  /** The rounds it attacks; default every round. */
  rounds: z.array(positiveInt).min(1).optional(),
  /** Membership inference: up to this many of the client's samples (members) and this many held-out samples (non-members) per update. */
  candidates: positiveInt.default(32),
  /** Original-vs-reconstruction pairs kept for report.html. */
  imagesInReport: z.number().int().min(0).max(256).default(16),
});

export const PRIVACY_SPEC = z.strictObject({
  dp: DP_SPEC.optional(),
  secureAggregation: SECURE_AGGREGATION_SPEC.optional(),
  /** After the run, attack the final model's membership (loss threshold, likelihood ratio); results in summary.json. */
  membershipInference: z.boolean().default(true),
  updateAttacks: UPDATE_ATTACKS_SPEC.optional(),
});

export const MAX_DESCRIPTION_LENGTH = 10_000;

export const SCENARIO_SPEC = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'expected letters, digits, "-" or "_" (it names NATS subjects and the run folder)'),
  /** Travels to every worker in the join reply, so it is bounded well below any max_payload. */
  description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  dataset: DATASET_SPEC,
  partition: PARTITION_SPEC,
  model: MODEL_SPEC,
  rounds: positiveInt,
  /** K, the clients sampled each round… */
  clientsPerRound: positiveInt.optional(),
  /** …or C, the fraction of all clients: K = max(round(C·N), 1) as in McMahan et al. */
  clientFraction: z.number().gt(0).max(1).optional(),
  training: TRAINING_SPEC,
  strategy: STRATEGY_SPEC.default({ name: 'fedavg', aggregator: { name: 'weighted-mean' } }),
  evaluation: EVALUATION_SPEC.default({ every: 1 }),
  system: SYSTEM_SPEC.default({
    workers: 'auto',
    backend: 'auto',
    transport: 'auto',
    roundTimeoutSeconds: 600,
    taskAckWaitSeconds: 30,
    coordinatorSilenceSeconds: 120,
    aggregationMemoryMB: 2048,
    clientStateMB: 1024,
    stragglers: DEFAULT_STRAGGLER_SPEC,
  }),
  output: OUTPUT_SPEC.default({ dir: 'runs', saveModel: true }),
  privacy: PRIVACY_SPEC.default({ membershipInference: true }),
  /** Update (client → coordinator) and broadcast (coordinator → client) codecs. */
  compression: COMPRESSION_SPEC.default({ update: [] }),
  /** Malicious clients and their attack (client/attacks/); absent: every client is honest. */
  adversaries: ADVERSARIES_SPEC.optional(),
});

export type Scenario = z.output<typeof SCENARIO_SPEC>;
export type ScenarioInput = z.input<typeof SCENARIO_SPEC>;
export type TrainingSpec = Scenario['training'];
export type SystemSpec = Scenario['system'];
export type DpSpec = z.output<typeof DP_SPEC>;
export type SecureAggregationSpec = z.output<typeof SECURE_AGGREGATION_SPEC>;
export type UpdateAttacksSpec = z.output<typeof UPDATE_ATTACKS_SPEC>;

/** The dataset, partition and model sections: unions of their registries' entries, and the entries' names for errors. */
export { DATASET_NAMES, type DatasetSpec } from '../data/registry.js';
export { PARTITION_KINDS, type PartitionSpec } from '../partition/registry.js';
export { MODEL_NAMES, type ModelSpec } from '../models/registry.js';
