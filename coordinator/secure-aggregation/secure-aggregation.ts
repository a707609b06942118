/**
 * The coordinator's side of secure aggregation over the bus. It runs the SecAggServer of each
 * round and relays between it and the workers that host the round's clients:
 *
 *   tasks (each with the round config and the client's index)  ──▶ workers train, encode, mask
 *   secagg             ◀── advertised keys + training report, one message per trained client
 *   secagg.<workerId>  ──▶ key rosters                (once training ends: all trained, or the round deadline)
 *   secagg             ◀── encrypted share pairs      (sealed client to client; relayed unopened)
 *   secagg.<workerId>  ──▶ share deliveries
 *   results            ◀── masked inputs, chunked     (encoding "secagg-masked"; added to the sum, not kept)
 *   secagg.<workerId>  ──▶ unmask requests
 *   secagg             ◀── unmasking shares           → the survivors' sum, decoded to floats
 *
 * Each step after training ends when every client still in it has answered or is known to be
 * gone (its worker did not take the batch, or its message was refused), or after
 * stepTimeoutSeconds; whoever is missing then has dropped out, and the server's threshold checks
 * decide whether the round can go on. The clients' secrets stay in the worker processes; what
 * arrives here is public keys, ciphertexts, masked vectors and one share per secret the server is
 * entitled to, never an individual update.
 */
import type { FrameRefusals } from '../transport/frame-refusals.js';
import { sameSecret } from '../transport/secrets.js';
import type { Logger } from 'pino';
import type { Bus, BusSubscription } from '../../shared/bus/bus.js';
import { decodeFrameOf, encodeFrame } from '../../shared/protocol/frame.js';
import type { subjects as runSubjects } from '../../shared/protocol/messages.js';
import { batchSecAggEntries, concatEntries, splitEntries, type SecAggEntry, type UpdateReport } from '../../shared/protocol/transfers.js';
import { Rng } from '../../shared/random.js';
import {
  decodeSecAggMessage,
  decodeSum,
  encodeSecAggMessage,
  fixedPointSpec,
  planRound,
  SecAggError,
  SecAggServer,
  type FixedPointSpec,
  type RoundAborted,
  type RoundConfig,
  type SecAggMessage,
  type SecAggStep,
  type Variant,
} from '../../shared/secure-aggregation/index.js';
import type { SecAggSettings } from './secure-aggregation-settings.js';
import type { MaskedIntake } from '../transport/update-receiver.js';
import type { TaskSecureAggregation } from '../transport/task-dispatcher.js';

/** Per round, in the round's metrics line. */
export interface SecAggRoundMetrics {
  variant: Variant;
  /** n: clients in the cohort (every client sent a task); k: neighbours each pairs with; t: shares needed per secret. */
  cohort: number;
  degree: number | null;
  threshold: number | null;
  /** Fixed-point precision and range. */
  bits: number | null;
  clipRange: number;
  /** Clients whose masked input is in the sum. */
  survivors: number;
  /**
   * Clients lost at each step: no keys (training not finished by the round deadline), no shares,
   * no masked input; `unmasking`: survivors that sent no unmasking shares (their input still counts).
   */
  droppedAt: { advertiseKeys: number; shareKeys: number; maskedInput: number; unmasking: number };
  aborted: boolean;
  abortStep: SecAggStep | null;
  abortReason: string | null;
  /** Client messages refused (malformed, tampered, misaddressed, late, duplicate). */
  refused: number;
  /** Coordinator CPU in the protocol (codec and SecAggServer); wall time from the end of training to the result. */
  serverMs: number;
  protocolMs: number;
  /** Protocol bytes this round: to the workers; from them, masked inputs included. */
  bytesDown: number;
  bytesUp: number;
}

export interface SecureRoundCallbacks {
  /** A client finished training: its keys arrived with its training report. */
  onTrained(clientId: number, workerId: string, report: UpdateReport): void;
}

export type SecureRoundResult =
  { ok: true; sum: Float32Array; unclipped?: number; survivors: number[]; metrics: SecAggRoundMetrics } | { ok: false; metrics: SecAggRoundMetrics };

/** How long a worker may take to acknowledge a batch (it answers the batch itself later). */
const BATCH_ACK_TIMEOUT_MS = 5_000;

export interface SecureAggregationOptions {
  bus: Bus;
  subjects: ReturnType<typeof runSubjects>;
  settings: SecAggSettings;
  /** Bound into every key and ciphertext: a message of another run can never be replayed into this one. */
  session: string;
  seed: number;
  /** Messages from a worker that does not hold the client's grant are counted here. */
  refusals: FrameRefusals;
  log: Logger;
}

export class SecureAggregation {
  private subscription: BusSubscription | null = null;
  private current: SecureRound | null = null;
  /** Test seam: every secure-aggregation message the coordinator receives, decoded, with the client it came from. */
  onMessage: ((message: SecAggMessage, clientId: number) => void) | null = null;

  constructor(readonly options: SecureAggregationOptions) {}

  get settings(): SecAggSettings {
    return this.options.settings;
  }

  start(): void {
    const { bus, subjects, log } = this.options;
    this.subscription = bus.subscribe(subjects.secAgg, (message) => {
      let reply: Uint8Array;
      try {
        const frame = decodeFrameOf(message.data, 'secagg-from-clients');
        const round = this.current;
        if (!round || round.round !== frame.header.round) {
          reply = encodeFrame('ack', { ok: false, error: `round ${frame.header.round} is not aggregating now` });
        } else {
          const errors = round.receiveBatch(frame.header.workerId, splitEntries(frame.header.messages, frame.payload), message.data.byteLength);
          reply = encodeFrame('ack', errors.length === 0 ? { ok: true } : { ok: false, error: errors.join('; ').slice(0, 4000) });
        }
      } catch (error) {
        log.warn({ err: (error as Error).message }, 'secure-aggregation batch refused');
        reply = encodeFrame('ack', { ok: false, error: (error as Error).message });
      }
      message.respond(reply);
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.current = null;
  }

  /** The round's protocol, planned for `cohort` (the clients that will be sent tasks). */
  beginRound(round: number, cohort: readonly number[], parameterCount: number, callbacks: SecureRoundCallbacks): SecureRound {
    this.current = new SecureRound(
      this,
      round,
      [...cohort].sort((a, b) => a - b),
      parameterCount,
      callbacks,
    );
    return this.current;
  }

  endRound(round: SecureRound): void {
    if (this.current === round) this.current = null;
  }
}

export class SecureRound {
  /** Clients whose masked input the update receiver should take (those sent share deliveries). */
  readonly maskedAwaited = new Set<number>();
  /** Set when the round cannot run at all (too small a cohort, parameters that do not fit). */
  readonly abortBeforeStart: string | null = null;
  private readonly server: SecAggServer | null = null;
  private readonly config: RoundConfig | null = null;
  private readonly spec: FixedPointSpec | null = null;
  private readonly indexOf: Map<number, number>;
  /** Each client's host and the grant of its claim: only that worker's messages for it, carrying the grant, count. */
  private readonly claimOf = new Map<number, { workerId: string; grant: string }>();
  /** Indices that will not answer the current step: their worker is unreachable, or their message was refused. */
  private readonly gone = new Set<number>();
  private readonly refusedIds = new Set<number>();
  /** Accepted messages per step, for the dropout counts. */
  private readonly advertised = new Set<number>();
  private shared = 0;
  private masked = 0;
  private unmasked = 0;
  private wake: (() => void) | null = null;
  private readonly metrics: SecAggRoundMetrics;
  private batchBytes = 0;
  private readonly vectorLength: number;

  constructor(
    private readonly owner: SecureAggregation,
    readonly round: number,
    private readonly cohort: readonly number[],
    private readonly parameterCount: number,
    private readonly callbacks: SecureRoundCallbacks,
  ) {
    const { settings, session, seed } = owner.options;
    this.indexOf = new Map(cohort.map((clientId, index) => [clientId, index]));
    this.vectorLength = parameterCount + (settings.countUnclipped ? 1 : 0);
    this.metrics = {
      variant: settings.variant,
      cohort: cohort.length,
      degree: null,
      threshold: null,
      bits: null,
      clipRange: settings.clip,
      survivors: 0,
      droppedAt: { advertiseKeys: 0, shareKeys: 0, maskedInput: 0, unmasking: 0 },
      aborted: false,
      abortStep: null,
      abortReason: null,
      refused: 0,
      serverMs: 0,
      protocolMs: 0,
      bytesDown: 0,
      bytesUp: 0,
    };
    if (cohort.length < 2) {
      this.abortBeforeStart = `a cohort of ${cohort.length} client${cohort.length === 1 ? '' : 's'}: secure aggregation needs at least 2, or the sum would be one client's update`;
      return;
    }
    try {
      this.config = planRound({
        variant: settings.variant,
        clients: cohort.length,
        vectorLength: this.vectorLength,
        session,
        round,
        thresholdFraction: settings.thresholdFraction,
        dropoutRate: settings.dropoutRate,
        ...(settings.correctnessLog2 !== undefined ? { correctnessLog2: settings.correctnessLog2 } : {}),
        // Public, like the graph it labels; seeded so that a run repeats.
        graphSeed: new Rng(seed).fork(`secagg-graph:${round}`).nextUint32(),
      });
      this.spec = fixedPointSpec({ clip: settings.clip, maxClients: cohort.length, ...(settings.bits !== undefined ? { bits: settings.bits } : {}) });
      this.server = new SecAggServer(this.config);
      this.metrics.degree = this.config.degree;
      this.metrics.threshold = this.config.threshold;
      this.metrics.bits = this.spec.bits;
    } catch (error) {
      if (!(error instanceof SecAggError)) throw error;
      this.abortBeforeStart = error.message;
    }
  }

  /** What a client's task says about the protocol. */
  taskFor(clientId: number): TaskSecureAggregation {
    const index = this.indexOf.get(clientId);
    if (index === undefined || !this.config || !this.spec) throw new Error(`client ${clientId} is not in round ${this.round}'s secure-aggregation cohort`);
    return { config: this.config, index, clip: this.spec.clip, bits: this.spec.bits, countUnclipped: this.owner.settings.countUnclipped };
  }

  /** The worker that acknowledged the client's task: the only one whose messages for it count. */
  assign(clientId: number, workerId: string, grant: string): void {
    this.claimOf.set(clientId, { workerId, grant });
  }

  hostOfClient(clientId: number): string | undefined {
    return this.claimOf.get(clientId)?.workerId;
  }

  /** The update receiver's side: masked inputs arrive on the chunked results path. */
  get maskedIntake(): MaskedIntake {
    return {
      // The masked words plus the message's own header (session string, indices); 1 KiB is ample.
      maxBytes: 4 * this.vectorLength + 1024,
      onMasked: (clientId, workerId, bytes) => {
        this.metrics.bytesUp += bytes.byteLength;
        // The update receiver took the masked input only with the client's grant.
        const reason = this.receive(clientId, workerId, this.claimOf.get(clientId)?.grant ?? '', bytes, undefined, 'masked-input');
        if (reason === null) this.maskedAwaited.delete(clientId);
        this.wake?.();
        return reason;
      },
    };
  }

  /** The update receiver refused a client's masked input (maybe through onMasked): it will not send again. */
  refused(clientId: number): void {
    // It will not send again: no step waits for it.
    this.maskedAwaited.delete(clientId);
    const index = this.indexOf.get(clientId);
    if (index !== undefined) this.gone.add(index);
    if (!this.refusedIds.has(clientId)) {
      this.refusedIds.add(clientId);
      this.metrics.refused += 1;
    }
    this.wake?.();
  }

  /** Bytes of the batches workers sent on `secagg` (the masked inputs are counted by the update receiver). */
  get batchBytesUp(): number {
    return this.batchBytes;
  }

  /** Clients that had a message refused this round. */
  get refusedClients(): ReadonlySet<number> {
    return this.refusedIds;
  }

  /** Takes a batch from a worker; returns the reasons of the messages it refused. */
  receiveBatch(workerId: string, entries: { clientId: number; grant: string; data: Uint8Array; report?: UpdateReport }[], frameBytes: number): string[] {
    this.metrics.bytesUp += frameBytes;
    this.batchBytes += frameBytes;
    const errors: string[] = [];
    for (const entry of entries) {
      const reason = this.receive(entry.clientId, workerId, entry.grant, entry.data, entry.report);
      if (reason) errors.push(reason);
    }
    this.wake?.();
    return errors;
  }

  /**
   * Runs the steps after training: close key advertisement, relay rosters, collect and relay
   * shares, collect masked inputs, ask for unmasking shares, and rebuild the survivors' sum.
   */
  async complete(): Promise<SecureRoundResult> {
    const started = performance.now();
    try {
      return await this.runSteps();
    } finally {
      this.metrics.protocolMs = performance.now() - started;
      this.owner.endRound(this);
    }
  }

  private async runSteps(): Promise<SecureRoundResult> {
    if (this.abortBeforeStart !== null || !this.server || !this.spec) {
      this.metrics.droppedAt.advertiseKeys = this.cohort.length;
      return this.aborted({ step: 'advertise-keys', reason: this.abortBeforeStart ?? 'no protocol state' });
    }
    const server = this.server;
    const { droppedAt } = this.metrics;
    const stepMs = this.owner.settings.stepTimeoutMs;

    const rosters = this.timed(() => server.closeAdvertiseKeys());
    droppedAt.advertiseKeys = this.cohort.length - this.advertised.size;
    this.metrics.survivors = this.advertised.size;
    if (!rosters.ok) return this.aborted(rosters.abort);
    this.gone.clear();
    await this.deliver(rosters.messages);
    await this.waitFor(() => server.awaiting(), stepMs);

    const deliveries = this.timed(() => server.closeShareKeys());
    droppedAt.shareKeys = this.advertised.size - this.shared;
    this.metrics.survivors = this.shared;
    if (!deliveries.ok) return this.aborted(deliveries.abort);
    this.gone.clear();
    for (const d of deliveries.messages) this.maskedAwaited.add(this.cohort[d.to]!);
    await this.deliver(deliveries.messages);
    await this.waitFor(() => [...this.maskedAwaited].map((id) => this.indexOf.get(id)!), stepMs);

    const requests = this.timed(() => server.closeMaskedInputs());
    // A masked input arriving from now on is late: the receiver turns it away as not awaited.
    this.maskedAwaited.clear();
    droppedAt.maskedInput = this.shared - this.masked;
    this.metrics.survivors = this.masked;
    if (!requests.ok) return this.aborted(requests.abort);
    this.gone.clear();
    await this.deliver(requests.messages);
    await this.waitFor(() => server.awaiting(), stepMs);

    const outcome = this.timed(() => server.finish());
    droppedAt.unmasking = this.masked - this.unmasked;
    if (!outcome.ok) return this.aborted(outcome.abort);
    const decoded = this.timed(() => decodeSum(outcome.sum, this.spec!, outcome.survivors.length));
    outcome.sum.fill(0);
    const unclipped = this.owner.settings.countUnclipped ? Math.round(decoded[this.parameterCount]! / this.spec.clip) : undefined;
    return {
      ok: true,
      sum: decoded.subarray(0, this.parameterCount),
      ...(unclipped !== undefined ? { unclipped } : {}),
      survivors: outcome.survivors.map((index) => this.cohort[index]!),
      metrics: this.metrics,
    };
  }

  private receive(
    clientId: number,
    workerId: string,
    grant: string,
    bytes: Uint8Array,
    report: UpdateReport | undefined,
    path: 'batch' | 'masked-input' = 'batch',
  ): string | null {
    const index = this.indexOf.get(clientId);
    const refuse = (reason: string, code?: SecAggError['code']) => {
      this.metrics.refused += 1;
      // A late, early or repeated message is not the client misbehaving: it stays dropped (or counted), not rejected.
      if (code !== 'wrong-phase' && code !== 'duplicate' && code !== 'wrong-round') this.refusedIds.add(clientId);
      // A refused client is not asked again, so no step should wait for it.
      if (index !== undefined && this.server?.awaiting().includes(index)) this.gone.add(index);
      this.owner.options.log.warn({ round: this.round, clientId, workerId, reason }, 'secure-aggregation message refused');
      return `client ${clientId}: ${reason}`;
    };
    const claim = this.claimOf.get(clientId);
    const host = claim?.workerId;
    const granted = host === workerId && sameSecret(claim!.grant, grant);
    if (index === undefined || !this.server || !granted) {
      // Someone speaking for a client it was not granted: refused, without holding it against the client.
      const reason =
        index === undefined
          ? `not in round ${this.round}'s cohort`
          : host === workerId
            ? `worker ${workerId} does not present the grant of client ${clientId}'s claim`
            : `worker ${workerId} does not host it (${host ? `worker ${host} does` : 'no worker took its task'})`;
      this.metrics.refused += 1;
      this.owner.options.refusals.count(index === undefined ? 'not-awaited' : 'not-granted');
      this.owner.options.log.warn({ round: this.round, clientId, workerId, reason }, 'secure-aggregation message refused');
      return `client ${clientId}: ${reason}`;
    }
    const started = performance.now();
    try {
      const message = decodeSecAggMessage(bytes);
      if (!('from' in message)) return refuse(`a ${message.type} message goes to clients, not from them`);
      if (message.from !== index) return refuse(`its ${message.type} message claims to be from index ${message.from}; its index is ${index}`);
      if ((path === 'masked-input') !== (message.type === 'masked-input')) {
        return refuse(path === 'masked-input' ? `a ${message.type} message on the masked-input path` : 'masked inputs travel on the results path');
      }
      this.owner.onMessage?.(message, clientId);
      switch (message.type) {
        case 'advertise-keys':
          if (!report) return refuse('advertised keys without a training report');
          this.server.receiveAdvertiseKeys(message);
          this.advertised.add(clientId);
          this.callbacks.onTrained(clientId, workerId, report);
          return null;
        case 'encrypted-shares':
          this.server.receiveEncryptedShares(message);
          this.shared += 1;
          return null;
        case 'masked-input':
          this.server.receiveMaskedInput(message);
          this.masked += 1;
          return null;
        case 'unmasking-shares':
          this.server.receiveUnmaskingShares(message);
          this.unmasked += 1;
          return null;
      }
    } catch (error) {
      if (error instanceof SecAggError) return refuse(error.message, error.code);
      throw error;
    } finally {
      this.metrics.serverMs += performance.now() - started;
    }
  }

  /** Sends server messages to the workers hosting their clients, batched per worker. */
  private async deliver(messages: readonly (SecAggMessage & { to: number })[]): Promise<void> {
    const byWorker = new Map<string, SecAggEntry[]>();
    this.timed(() => {
      for (const m of messages) {
        const clientId = this.cohort[m.to]!;
        const host = this.claimOf.get(clientId)?.workerId;
        if (!host) continue;
        const list = byWorker.get(host) ?? [];
        list.push({ clientId, bytes: encodeSecAggMessage(m) });
        byWorker.set(host, list);
      }
    });
    await Promise.all([...byWorker].map(([workerId, entries]) => this.sendToWorker(workerId, entries)));
  }

  /** `notice`: an abort notice, whose loss costs nothing (the worker forgets the round at its next task anyway). */
  private async sendToWorker(workerId: string, entries: SecAggEntry[], notice = false): Promise<void> {
    const { bus, subjects, log } = this.owner.options;
    const { batches, tooLarge } = batchSecAggEntries(bus, entries);
    if (!notice)
      for (const e of tooLarge) this.lose(e.clientId, workerId, `its ${e.bytes.byteLength}-byte message exceeds the bus's max payload ${bus.maxPayload}`);
    for (const batch of batches) {
      const frame = encodeFrame(
        'secagg-to-clients',
        { round: this.round, messages: batch.map((e) => ({ clientId: e.clientId, bytes: e.bytes.byteLength })) },
        concatEntries(batch),
      );
      this.metrics.bytesDown += frame.byteLength;
      try {
        const reply = decodeFrameOf(
          await bus.request(subjects.secAggWorker(workerId), frame, Math.min(BATCH_ACK_TIMEOUT_MS, this.owner.settings.stepTimeoutMs)),
          'ack',
        );
        if (!reply.header.ok) throw new Error(reply.header.error ?? 'refused without a reason');
      } catch (error) {
        if (notice) continue;
        // The worker is gone or refuses: its clients cannot answer this step.
        for (const e of batch) this.lose(e.clientId, workerId, (error as Error).message);
        log.debug({ round: this.round, workerId, err: (error as Error).message }, 'secure-aggregation batch not delivered');
      }
    }
  }

  private lose(clientId: number, workerId: string, reason: string): void {
    this.gone.add(this.indexOf.get(clientId)!);
    this.owner.options.log.warn({ round: this.round, clientId, workerId, reason }, 'secure-aggregation message not delivered; the client drops out');
    this.wake?.();
  }

  /** Resolves once every client `pending` lists is gone, or after `timeoutMs`. */
  private async waitFor(pending: () => number[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (pending().every((index) => this.gone.has(index))) return;
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.wake = null;
          resolve();
        };
        const timer = setTimeout(done, left);
        this.wake = done;
      });
    }
  }

  private aborted(abort: Pick<RoundAborted, 'step' | 'reason'>): SecureRoundResult {
    this.metrics.aborted = true;
    this.metrics.abortStep = abort.step;
    this.metrics.abortReason = abort.reason;
    this.notifyAbort(abort);
    return { ok: false, metrics: this.metrics };
  }

  /** Best effort: the workers forget the round's secrets now rather than at their next task. */
  private notifyAbort(abort: Pick<RoundAborted, 'step' | 'reason'>): void {
    if (!this.config) return;
    const { session } = this.config;
    const byWorker = new Map<string, SecAggEntry[]>();
    for (const [clientId, { workerId: host }] of this.claimOf) {
      const message: RoundAborted = { type: 'round-aborted', session, round: this.round, step: abort.step, reason: abort.reason.slice(0, 4000) };
      const list = byWorker.get(host) ?? [];
      list.push({ clientId, bytes: encodeSecAggMessage(message) });
      byWorker.set(host, list);
    }
    for (const [workerId, entries] of byWorker) {
      void this.sendToWorker(workerId, entries, true).catch(() => {});
    }
  }

  private timed<T>(fn: () => T): T {
    const started = performance.now();
    try {
      return fn();
    } finally {
      this.metrics.serverMs += performance.now() - started;
    }
  }
}
