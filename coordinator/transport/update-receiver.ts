/**
 * Receives clients' updates: reassembles chunked transfers, checks them against the round's
 * rules, and hands accepted ones on. Only transfers in flight are buffered (O(workers × model)),
 * never the whole cohort.
 */
import type { Logger } from 'pino';
import type { Bus, BusSubscription } from '../../shared/bus/bus.js';
import { bytesToFloat32, decodeFrameOf, encodeFrame } from '../../shared/protocol/frame.js';
import type { UpdateReport } from '../../shared/protocol/transfers.js';
import { decodeVector } from '../../shared/compression/pipeline.js';
import { rejectReason, type UpdateRules } from '../aggregation/update-validator.js';

export interface ReceivedUpdate {
  clientId: number;
  workerId: string;
  report: UpdateReport;
  delta: Float32Array;
}

export interface RoundIntake {
  round: number;
  /** Whether the client's update is still awaited; others are refused as unexpected or duplicate. */
  isAwaited(clientId: number): boolean;
  rules: UpdateRules;
  /** The client is done (no longer awaited) from here on, as is a refused one. */
  onAccepted(update: ReceivedUpdate): void;
  onRejected(clientId: number, workerId: string, reason: string): void;
  /**
   * Secure aggregation: the round takes masked-input messages only, and hands each to `onMasked`
   * (which returns why it is refused, or null). Plain updates are refused, so no individual
   * update can reach the coordinator even from a client that skips masking.
   */
  masked?: MaskedIntake;
}

export interface MaskedIntake {
  /** The largest masked-input message of the round (4 bytes per word plus its header). */
  maxBytes: number;
  /** Takes the message (the client is then no longer awaited) or returns why it is refused. */
  onMasked(clientId: number, workerId: string, message: Uint8Array): string | null;
}

/** What a completed transfer carried, before any check (a test seam). */
export interface ReceivedPayload {
  round: number;
  clientId: number;
  workerId: string;
  encoding: 'float32' | 'codec' | 'secagg-masked';
  bytes: Uint8Array;
}

interface Transfer {
  round: number;
  clientId: number;
  workerId: string;
  chunks: number;
  totalBytes: number;
  nextChunk: number;
  bytes: Uint8Array;
  offset: number;
  report?: UpdateReport;
  /** A compression codec's block rather than raw float32. */
  encoded?: boolean;
  /** A secure-aggregation masked-input message. */
  masked?: boolean;
}

export class UpdateReceiver {
  private subscription: BusSubscription | null = null;
  private intake: RoundIntake | null = null;
  private readonly transfers = new Map<string, Transfer>();
  private bytesReceived = 0;
  /** Sees every completed transfer as it arrived, before it is checked (tests assert what the coordinator ever holds). */
  onPayload: ((payload: ReceivedPayload) => void) | null = null;

  constructor(
    private readonly bus: Bus,
    private readonly subject: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.subscription = this.bus.subscribe(this.subject, (message) => {
      this.bytesReceived += message.data.byteLength;
      let reply: Uint8Array;
      try {
        reply = this.handleChunk(message.data);
      } catch (error) {
        const reason = (error as Error).message;
        this.log.warn({ reason }, 'update chunk refused');
        reply = encodeFrame('ack', { ok: false, error: reason });
      }
      message.respond(reply);
    });
  }

  /** Starts taking updates for a round; anything for other rounds is refused from now on. */
  open(intake: RoundIntake): void {
    this.intake = intake;
    this.transfers.clear();
  }

  close(): void {
    this.intake = null;
    this.transfers.clear();
  }

  takeBytesReceived(): number {
    const received = this.bytesReceived;
    this.bytesReceived = 0;
    return received;
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  private handleChunk(data: Uint8Array): Uint8Array {
    const { header, payload } = decodeFrameOf(data, 'result-chunk');
    const intake = this.intake;
    if (!intake || header.round !== intake.round) {
      return encodeFrame('ack', { ok: false, error: `round ${header.round} is closed` });
    }
    if (!intake.isAwaited(header.clientId)) {
      return encodeFrame('ack', { ok: false, error: `client ${header.clientId} is not awaited in round ${header.round}` });
    }
    let transfer = this.transfers.get(header.transferId);
    if (!transfer) {
      if (header.chunk !== 0)
        return this.refuse(intake, header.clientId, header.workerId, `transfer ${header.transferId} starts at chunk ${header.chunk}, expected 0`);
      const masked = header.encoding === 'secagg-masked';
      if (intake.masked && !masked) {
        return this.refuse(
          intake,
          header.clientId,
          header.workerId,
          `round ${header.round} uses secure aggregation and takes masked inputs only (got a ${header.encoding ?? 'float32'} update)`,
        );
      }
      if (!intake.masked && masked)
        return this.refuse(intake, header.clientId, header.workerId, `round ${header.round} does not use secure aggregation (got a masked input)`);
      if (masked && header.totalBytes > intake.masked!.maxBytes) {
        return this.refuse(
          intake,
          header.clientId,
          header.workerId,
          `masked input of ${header.totalBytes} bytes is larger than the round's ${intake.masked!.maxBytes}`,
        );
      }
      if (!header.report && !masked) return this.refuse(intake, header.clientId, header.workerId, 'first chunk carries no training report');
      transfer = {
        round: header.round,
        clientId: header.clientId,
        workerId: header.workerId,
        chunks: header.chunks,
        totalBytes: header.totalBytes,
        nextChunk: 0,
        bytes: new Uint8Array(header.totalBytes),
        offset: 0,
        report: header.report,
      };
      transfer.encoded = header.encoding === 'codec';
      transfer.masked = masked;
      if (!masked && !transfer.encoded && header.totalBytes !== intake.rules.expectedLength * 4) {
        // Refused before buffering: a wrong-length update is rejected without reading the rest.
        return this.refuse(intake, header.clientId, header.workerId, `wrong length: ${header.totalBytes / 4} values, expected ${intake.rules.expectedLength}`);
      }
      if (transfer.encoded && header.totalBytes > intake.rules.expectedLength * 8 + 1024) {
        // No codec expands a vector beyond 2× float32 (top-k at ratio 1 is index + value): anything larger is refused unread.
        return this.refuse(
          intake,
          header.clientId,
          header.workerId,
          `encoded update of ${header.totalBytes} bytes is larger than any codec produces for ${intake.rules.expectedLength} values`,
        );
      }
      this.transfers.set(header.transferId, transfer);
    }
    if (header.chunk !== transfer.nextChunk || header.clientId !== transfer.clientId || header.chunks !== transfer.chunks) {
      this.transfers.delete(header.transferId);
      return this.refuse(intake, header.clientId, header.workerId, `out-of-order or inconsistent chunk ${header.chunk} of transfer ${header.transferId}`);
    }
    if (transfer.offset + payload.byteLength > transfer.totalBytes) {
      this.transfers.delete(header.transferId);
      return this.refuse(intake, header.clientId, header.workerId, `transfer ${header.transferId} overruns its declared ${transfer.totalBytes} bytes`);
    }
    transfer.bytes.set(payload, transfer.offset);
    transfer.offset += payload.byteLength;
    transfer.nextChunk += 1;
    if (transfer.nextChunk < transfer.chunks) return encodeFrame('ack', { ok: true });

    this.transfers.delete(header.transferId);
    if (transfer.offset !== transfer.totalBytes) {
      return this.refuse(intake, transfer.clientId, transfer.workerId, `transfer ended at ${transfer.offset} of ${transfer.totalBytes} bytes`);
    }
    this.onPayload?.({
      round: transfer.round,
      clientId: transfer.clientId,
      workerId: transfer.workerId,
      encoding: transfer.masked ? 'secagg-masked' : transfer.encoded ? 'codec' : 'float32',
      bytes: transfer.bytes,
    });
    if (transfer.masked) {
      const reason = intake.masked!.onMasked(transfer.clientId, transfer.workerId, transfer.bytes);
      if (reason) return this.refuse(intake, transfer.clientId, transfer.workerId, reason);
      return encodeFrame('ack', { ok: true });
    }
    let delta: Float32Array;
    try {
      delta = transfer.encoded ? decodeVector(transfer.bytes) : bytesToFloat32(transfer.bytes);
    } catch (error) {
      return this.refuse(intake, transfer.clientId, transfer.workerId, `undecodable update: ${(error as Error).message}`);
    }
    const reason = rejectReason(delta, intake.rules);
    if (reason) return this.refuse(intake, transfer.clientId, transfer.workerId, reason);
    intake.onAccepted({ clientId: transfer.clientId, workerId: transfer.workerId, report: transfer.report!, delta });
    return encodeFrame('ack', { ok: true });
  }

  private refuse(intake: RoundIntake, clientId: number, workerId: string, reason: string): Uint8Array {
    // A refused client will not report again this round: it is done, as rejected.
    intake.onRejected(clientId, workerId, reason);
    return encodeFrame('ack', { ok: false, error: reason });
  }
}
