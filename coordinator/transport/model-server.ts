/**
 * Serves the current round's global weights to workers, chunk by chunk on request, and the
 * round's named vectors a strategy sends beside them (a server control variate, say). Each is
 * encoded once per round; each worker pulls it once and shares it among its virtual clients.
 */
import type { Bus, BusSubscription } from '../../shared/bus/bus.js';
import { decodeFrameOf, encodeFrame, float32Bytes } from '../../shared/protocol/frame.js';
import { chunkBytesFor, chunkCount, chunkSlice } from '../../shared/protocol/transfers.js';
import type { Logger } from 'pino';

export class ModelServer {
  private round = -1;
  private bytes: Uint8Array = new Uint8Array(0);
  private encoding: 'float32' | 'codec' = 'float32';
  private vectors = new Map<string, Uint8Array>();
  private subscription: BusSubscription | null = null;
  private readonly chunkBytes: number;
  /** Bytes sent to workers since the last `takeBytesSent()`. */
  private bytesSent = 0;

  constructor(
    private readonly bus: Bus,
    private readonly subject: string,
    private readonly log: Logger,
  ) {
    this.chunkBytes = chunkBytesFor(bus);
  }

  start(): void {
    this.subscription = this.bus.subscribe(this.subject, (message) => {
      try {
        const request = decodeFrameOf(message.data, 'model-request');
        const { round, chunk, vector } = request.header;
        if (round !== this.round) {
          message.respond(encodeFrame('ack', { ok: false, error: `round ${round} is not being served (current round ${this.round})` }));
          return;
        }
        const bytes = vector === undefined ? this.bytes : this.vectors.get(vector);
        if (!bytes) {
          message.respond(
            encodeFrame('ack', { ok: false, error: `round ${round} has no vector "${vector}" (it has ${[...this.vectors.keys()].join(', ') || 'none'})` }),
          );
          return;
        }
        const chunks = chunkCount(bytes.byteLength, this.chunkBytes);
        if (chunk >= chunks) {
          message.respond(encodeFrame('ack', { ok: false, error: `chunk ${chunk} out of range (${chunks} chunks)` }));
          return;
        }
        const reply = encodeFrame(
          'model-chunk',
          { round, chunk, chunks, totalBytes: bytes.byteLength, encoding: vector === undefined ? this.encoding : 'float32' },
          chunkSlice(bytes, chunk, this.chunkBytes),
        );
        this.bytesSent += reply.byteLength;
        message.respond(reply);
      } catch (error) {
        this.log.warn({ err: (error as Error).message }, 'bad model request refused');
        message.respond(encodeFrame('ack', { ok: false, error: (error as Error).message }));
      }
    });
  }

  /** `encoded`: the broadcast codec's bytes for this round's weights, when broadcast compression is on. */
  serve(round: number, weights: Float32Array, encoded?: Uint8Array, vectors: Readonly<Record<string, Float32Array>> = {}): void {
    this.round = round;
    // Copies: the coordinator replaces its global vector while stragglers may still be fetching.
    this.bytes = encoded ?? float32Bytes(weights).slice();
    this.encoding = encoded ? 'codec' : 'float32';
    this.vectors = new Map(Object.entries(vectors).map(([name, vector]) => [name, float32Bytes(vector).slice()]));
  }

  /** One more named vector for the round being served (federated evaluation's `evaluate`: the model after the round). */
  addVector(name: string, vector: Float32Array): void {
    this.vectors.set(name, float32Bytes(vector).slice());
  }

  /** Bytes one worker downloads for this round's model (the simulated clock's download size). */
  get modelBytes(): number {
    return this.bytes.byteLength;
  }

  takeBytesSent(): number {
    const sent = this.bytesSent;
    this.bytesSent = 0;
    return sent;
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
  }
}
