/**
 * A worker's side of secure aggregation. Each virtual client the worker trains in a secure round
 * gets its own SecAggClient, which lives here, in the worker process, from the end of its
 * training to the end of the round: its key pairs, self-mask seed, the shares it holds of its
 * neighbours' secrets and its encoded update never leave this process except as the protocol's
 * messages (public keys, share pairs sealed for one neighbour, the masked vector, and the one
 * share per neighbour the server is entitled to).
 *
 * The coordinator sends batches for this worker's clients on `secagg.<workerId>`; they are
 * acknowledged at once and processed in order. Answers go back on `secagg` (shares) and, for the
 * large masked vectors, on the chunked `results` path. A message a client refuses (tampered,
 * misaddressed, or a request that would expose an input) leaves that client where it was; the
 * coordinator then counts it as dropped when the step's deadline passes.
 */
import type { Logger } from 'pino';
import type { Bus, BusSubscription } from '../../shared/bus/bus.js';
import { decodeFrameOf, encodeFrame, type Frame } from '../../shared/protocol/frame.js';
import type { subjects as runSubjects } from '../../shared/protocol/messages.js';
import { batchSecAggEntries, concatEntries, sendUpdate, splitEntries, type SecAggEntry, type UpdateReport } from '../../shared/protocol/transfers.js';
import {
  decodeSecAggMessage,
  encodeFixedPoint,
  encodeSecAggMessage,
  fixedPointSpec,
  SecAggClient,
  SecAggError,
} from '../../shared/secure-aggregation/index.js';

type SecureTask = Frame<'task'>['header'] & { secureAggregation: NonNullable<Frame<'task'>['header']['secureAggregation']> };

interface HostedClient {
  round: number;
  /** The grant of this worker's claim on the client: every message for it carries it. */
  grant: string;
  client: SecAggClient;
  /** The fixed-point update, until it is masked (then zeroed). */
  input: Uint32Array | null;
}

const SEND_TIMEOUT_MS = 30_000;

type GrantedEntry = SecAggEntry & { grant: string };

export interface SecureAggregationHostOptions {
  bus: Bus;
  subjects: ReturnType<typeof runSubjects>;
  workerId: string;
  log: Logger;
}

export class SecureAggregationHost {
  private readonly clients = new Map<number, HostedClient>();
  private subscription: BusSubscription | null = null;
  /** Batches are handled one after another, in the order they arrived. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: SecureAggregationHostOptions) {}

  start(): void {
    const { bus, subjects, workerId, log } = this.options;
    this.subscription = bus.subscribe(subjects.secAggWorker(workerId), (message) => {
      let round: number;
      let entries: { clientId: number; data: Uint8Array }[];
      try {
        const frame = decodeFrameOf(message.data, 'secagg-to-clients');
        round = frame.header.round;
        entries = splitEntries(frame.header.messages, frame.payload);
      } catch (error) {
        log.warn({ err: (error as Error).message }, 'bad secure-aggregation batch refused');
        message.respond(encodeFrame('ack', { ok: false, error: (error as Error).message }));
        return;
      }
      message.respond(encodeFrame('ack', { ok: true }));
      this.queue = this.queue
        .then(() => this.process(round, entries))
        .catch((error: Error) => log.error({ err: error.message, round }, 'secure-aggregation batch failed'));
    });
  }

  /** The worker leaves the run: every client forgets its secrets. */
  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
    for (const hosted of this.clients.values()) hosted.client.abort();
    this.clients.clear();
  }

  /**
   * The end of a client's training: clips its update to [−c, c] per coordinate, encodes it in
   * fixed point, creates its SecAggClient and advertises its keys, with the training report.
   * `delta` is already L2-clipped under DP; `unclipped` is DP's clip bit.
   */
  async advertise(task: SecureTask, grant: string, delta: Float32Array, unclipped: boolean | undefined, report: UpdateReport): Promise<void> {
    const { config, index, clip, bits, countUnclipped } = task.secureAggregation;
    this.forgetRoundsBefore(task.round);
    const values = boundedInput(delta, clip, countUnclipped ? unclipped === true : undefined);
    if (values.length !== config.vectorLength) {
      throw new Error(`secure aggregation: the update has ${values.length} values, the round expects ${config.vectorLength}`);
    }
    const input = encodeFixedPoint(values, fixedPointSpec({ clip, maxClients: config.clients, bits }));
    values.fill(0);
    const client = new SecAggClient(config, index);
    const keys = client.advertiseKeys();
    this.clients.get(task.clientId)?.client.abort();
    this.clients.set(task.clientId, { round: task.round, grant, client, input });
    await this.send(task.round, [{ clientId: task.clientId, grant, bytes: encodeSecAggMessage(keys), report }]);
  }

  private async process(round: number, entries: { clientId: number; data: Uint8Array }[]): Promise<void> {
    const { log } = this.options;
    const replies: GrantedEntry[] = [];
    const masked: GrantedEntry[] = [];
    for (const { clientId, data } of entries) {
      const hosted = this.clients.get(clientId);
      if (!hosted || hosted.round !== round) {
        log.warn({ round, clientId }, 'secure-aggregation message for a client this worker does not hold in that round; ignored');
        continue;
      }
      try {
        const message = decodeSecAggMessage(data);
        switch (message.type) {
          case 'key-roster':
            replies.push({ clientId, grant: hosted.grant, bytes: encodeSecAggMessage(hosted.client.shareKeys(message)) });
            break;
          case 'share-delivery': {
            const input = hosted.input;
            if (!input) throw new SecAggError('wrong-phase', 'a second share delivery: the input is already masked');
            masked.push({ clientId, grant: hosted.grant, bytes: encodeSecAggMessage(hosted.client.maskedInput(message, input)) });
            input.fill(0);
            hosted.input = null;
            break;
          }
          case 'unmask-request':
            replies.push({ clientId, grant: hosted.grant, bytes: encodeSecAggMessage(hosted.client.unmask(message)) });
            this.clients.delete(clientId);
            break;
          case 'round-aborted':
            if (message.session !== hosted.client.config.session || message.round !== hosted.client.config.round) {
              throw new SecAggError('wrong-round', `an abort for session ${JSON.stringify(message.session)} round ${message.round}`);
            }
            hosted.client.abort();
            this.clients.delete(clientId);
            log.debug({ round, clientId, step: message.step, reason: message.reason }, 'secure aggregation aborted by the coordinator');
            break;
          default:
            throw new SecAggError('malformed-message', `a ${message.type} message goes from clients to the server, not to a client`);
        }
      } catch (error) {
        if (!(error instanceof SecAggError)) throw error;
        log.warn({ round, clientId, code: error.code, err: error.message }, 'secure-aggregation message refused by the client');
      }
    }
    if (replies.length > 0) await this.send(round, replies);
    for (const { clientId, grant, bytes } of masked) {
      try {
        await sendUpdate(
          this.options.bus,
          this.options.subjects.results,
          { transferId: `${this.options.workerId}:${round}:${clientId}:masked`, workerId: this.options.workerId, round, clientId, grant },
          { bytes, encoding: 'secagg-masked' },
        );
      } catch (error) {
        log.warn({ round, clientId, err: (error as Error).message }, 'masked input not delivered');
      }
    }
  }

  /** Sends client messages to the coordinator in batches that fit the bus. */
  private async send(round: number, entries: (GrantedEntry & { report?: UpdateReport })[]): Promise<void> {
    const { bus, subjects, workerId, log } = this.options;
    const { batches, tooLarge } = batchSecAggEntries(bus, entries);
    for (const e of tooLarge)
      log.warn({ round, clientId: e.clientId, bytes: e.bytes.byteLength }, 'secure-aggregation message larger than the bus allows; not sent');
    for (const batch of batches) {
      const frame = encodeFrame(
        'secagg-from-clients',
        {
          workerId,
          round,
          messages: batch.map((e) => ({ clientId: e.clientId, grant: e.grant, bytes: e.bytes.byteLength, ...(e.report ? { report: e.report } : {}) })),
        },
        concatEntries(batch),
      );
      try {
        const ack = decodeFrameOf(await bus.request(subjects.secAgg, frame, SEND_TIMEOUT_MS), 'ack');
        if (!ack.header.ok) log.warn({ round, err: ack.header.error }, 'coordinator refused secure-aggregation messages');
      } catch (error) {
        log.warn({ round, err: (error as Error).message }, 'secure-aggregation messages not delivered');
      }
    }
  }

  /** A new round has begun: whatever an earlier round left (a client that dropped out) is wiped. */
  private forgetRoundsBefore(round: number): void {
    for (const [clientId, hosted] of this.clients) {
      if (hosted.round < round) {
        hosted.client.abort();
        hosted.input?.fill(0);
        this.clients.delete(clientId);
      }
    }
  }
}

/**
 * What a client masks: its update with every coordinate clipped to [−c, c] (the fixed-point
 * range; L∞ clipping only shrinks the L2 norm, so DP's bound still holds), and, when asked, DP's
 * clip bit as c or 0 so the coordinator learns only how many survivors were unclipped.
 */
export function boundedInput(delta: Float32Array, clip: number, unclippedBit?: boolean): Float32Array {
  const values = new Float32Array(delta.length + (unclippedBit === undefined ? 0 : 1));
  for (let i = 0; i < delta.length; i++) {
    const v = delta[i]!;
    // NaN passes through, for the encoder to refuse: such a client drops out rather than poison the sum.
    values[i] = v > clip ? clip : v < -clip ? -clip : v;
  }
  if (unclippedBit !== undefined) values[delta.length] = unclippedBit ? clip : 0;
  return values;
}
