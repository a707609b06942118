/**
 * Serves the current round's global weights to workers, chunk by chunk on request. The vector is
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
        const { round, chunk } = request.header;
        if (round !== this.round) {
          message.respond(encodeFrame('ack', { ok: false, error: `round ${round} is not being served (current round ${this.round})` }));
          return;
        }
        const chunks = chunkCount(this.bytes.byteLength, this.chunkBytes);
        if (chunk >= chunks) {
          message.respond(encodeFrame('ack', { ok: false, error: `chunk ${chunk} out of range (${chunks} chunks)` }));
          return;
        }
        const reply = encodeFrame(
          'model-chunk',
          { round, chunk, chunks, totalBytes: this.bytes.byteLength, encoding: this.encoding },
          chunkSlice(this.bytes, chunk, this.chunkBytes),
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
  serve(round: number, weights: Float32Array, encoded?: Uint8Array): void {
    this.round = round;
    // A copy: the coordinator replaces its global vector while stragglers may still be fetching.
    this.bytes = encoded ?? float32Bytes(weights).slice();
    this.encoding = encoded ? 'codec' : 'float32';
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
