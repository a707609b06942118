/**
 * Receives clients' updates: takes a client's frames only from the worker granted its claim,
 * reassembles chunked transfers, checks them against the round's rules, and hands accepted ones
 * on. A frame from anyone else (forged, stale, malformed, for a finished client) is refused and
 * counted without touching the round, so it cannot evict the genuine update. Only transfers in flight are buffered (O(workers × model)),
 * never the whole cohort.
 */
import type { Logger } from 'pino';
import type { Bus, BusSubscription } from '../../shared/bus/bus.js';
import { bytesToFloat32, decodeFrame, decodeFrameOf, encodeFrame, type Frame } from '../../shared/protocol/frame.js';
import type { MessageHeader } from '../../shared/protocol/messages.js';
import type { UpdateReport } from '../../shared/protocol/transfers.js';
import { decodeVector } from '../../shared/compression/pipeline.js';
import { rejectReason, type UpdateRules } from '../aggregation/update-validator.js';
import type { FrameRefusals, RefusalKind } from './frame-refusals.js';
import { sameSecret } from './secrets.js';

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
  /** The worker granted the client's claim and the grant its frames must carry (undefined: not claimed). */
  grantOf(clientId: number): { workerId: string; grant: string } | undefined;
  /** The client's partition size, which its training report must state. */
  samplesOf(clientId: number): number | undefined;
  rules: UpdateRules;
  /** The client is done (no longer awaited) from here on, as is a refused one. */
  onAccepted(update: ReceivedUpdate): void;
  /** The granted worker sent an update that breaks the round's rules: the client is done, as rejected. */
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

/** A federated-evaluation round: the clients asked to score the model, and what each must state. */
export interface EvaluationIntake {
  round: number;
  isAwaited(clientId: number): boolean;
  grantOf(clientId: number): { workerId: string; grant: string } | undefined;
  /** The client's held-out size, which its report must state. */
  heldOutOf(clientId: number): number | undefined;
  onReport(report: MessageHeader<'evaluation-report'>): void;
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
  grant: string;
  chunks: number;
  totalBytes: number;
  nextChunk: number;
  bytes: Uint8Array;
  offset: number;
  report?: UpdateReport;
  encoding: ReceivedPayload['encoding'];
}

/** An answer to the sender; `rejected`: the client is out of the round, `refused`: the frame changed nothing. */
type Verdict = { ok: true } | { ok: false; rejected: string } | { ok: false; refused: RefusalKind; reason: string };

export class UpdateReceiver {
  private subscription: BusSubscription | null = null;
  private intake: RoundIntake | null = null;
  private evaluation: EvaluationIntake | null = null;
  /** Transfers in flight, by client: one per client, since only its granted worker may send. */
  private readonly transfers = new Map<number, Transfer>();
  private bytesReceived = 0;
  /** Sees every completed transfer as it arrived, before it is checked (tests assert what the coordinator ever holds). */
  onPayload: ((payload: ReceivedPayload) => void) | null = null;

  constructor(
    private readonly bus: Bus,
    private readonly subject: string,
    private readonly refusals: FrameRefusals,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.subscription = this.bus.subscribe(this.subject, (message) => {
      this.bytesReceived += message.data.byteLength;
      message.respond(this.answer(this.receive(message.data)));
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

  /** Starts taking evaluation reports for a round (beside, not instead of, its updates' intake). */
  openEvaluation(intake: EvaluationIntake): void {
    this.evaluation = intake;
  }

  closeEvaluation(): void {
    this.evaluation = null;
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

  private answer(verdict: Verdict): Uint8Array {
    if (verdict.ok) return encodeFrame('ack', { ok: true });
    if ('refused' in verdict) {
      this.refusals.count(verdict.refused);
      this.log.debug({ kind: verdict.refused, reason: verdict.reason }, 'update frame refused');
      return encodeFrame('ack', { ok: false, error: verdict.reason });
    }
    return encodeFrame('ack', { ok: false, error: verdict.rejected });
  }

  private receive(data: Uint8Array): Verdict {
    let frame: Frame<'result-chunk'>;
    try {
      const decoded = decodeFrame(data);
      if (decoded.type === 'evaluation-report') return this.receiveEvaluation((decoded as Frame<'evaluation-report'>).header);
      frame = decodeFrameOf(data, 'result-chunk');
    } catch (error) {
      return { ok: false, refused: 'malformed', reason: (error as Error).message };
    }
    const { header, payload } = frame;
    const intake = this.intake;
    if (!intake || header.round !== intake.round) return { ok: false, refused: 'round-closed', reason: `round ${header.round} is closed` };
    if (!intake.isAwaited(header.clientId)) {
      return { ok: false, refused: 'not-awaited', reason: `client ${header.clientId} is not awaited in round ${header.round}` };
    }
    const granted = intake.grantOf(header.clientId);
    if (!granted || granted.workerId !== header.workerId || !sameSecret(granted.grant, header.grant)) {
      return {
        ok: false,
        refused: 'not-granted',
        reason: `worker ${header.workerId} does not hold the current grant for client ${header.clientId} in round ${header.round}`,
      };
    }
    // From here the sender is the worker granted the client: what it sends counts for the client.
    if (header.chunk === 0) {
      const problem = this.firstChunkProblem(intake, header);
      if (problem) return this.reject(intake, header.clientId, header.workerId, problem);
      this.transfers.set(header.clientId, {
        round: header.round,
        clientId: header.clientId,
        workerId: header.workerId,
        grant: header.grant,
        chunks: header.chunks,
        totalBytes: header.totalBytes,
        nextChunk: 0,
        bytes: new Uint8Array(header.totalBytes),
        offset: 0,
        report: header.report,
        encoding: header.encoding ?? 'float32',
      });
    }
    const transfer = this.transfers.get(header.clientId);
    const broken = transferProblem(transfer, header, payload.byteLength);
    if (broken) {
      this.transfers.delete(header.clientId);
      return { ok: false, refused: 'transfer', reason: broken };
    }
    transfer!.bytes.set(payload, transfer!.offset);
    transfer!.offset += payload.byteLength;
    transfer!.nextChunk += 1;
    if (transfer!.nextChunk < transfer!.chunks) return { ok: true };
    this.transfers.delete(header.clientId);
    return this.complete(intake, transfer!);
  }

  /** The same sender checks as an update's; a report stating another held-out size is refused as malformed. */
  private receiveEvaluation(report: MessageHeader<'evaluation-report'>): Verdict {
    const intake = this.evaluation;
    const { round, clientId, workerId } = report;
    if (!intake || round !== intake.round) return { ok: false, refused: 'round-closed', reason: `round ${round}'s evaluation is closed` };
    if (!intake.isAwaited(clientId)) return { ok: false, refused: 'not-awaited', reason: `client ${clientId}'s evaluation is not awaited in round ${round}` };
    const granted = intake.grantOf(clientId);
    if (!granted || granted.workerId !== workerId || !sameSecret(granted.grant, report.grant)) {
      return {
        ok: false,
        refused: 'not-granted',
        reason: `worker ${workerId} does not hold the current grant for client ${clientId}'s evaluation in round ${round}`,
      };
    }
    const heldOut = intake.heldOutOf(clientId);
    if (report.samples !== heldOut) {
      return { ok: false, refused: 'malformed', reason: `evaluation report states ${report.samples} samples, client ${clientId} holds out ${heldOut}` };
    }
    intake.onReport(report);
    return { ok: true };
  }

  /** Why the granted worker's update cannot be taken, decided before buffering any of it. */
  private firstChunkProblem(intake: RoundIntake, header: MessageHeader<'result-chunk'>): string | null {
    const masked = header.encoding === 'secagg-masked';
    const { expectedLength } = intake.rules;
    if (intake.masked && !masked) {
      return `round ${header.round} uses secure aggregation and takes masked inputs only (got a ${header.encoding ?? 'float32'} update)`;
    }
    if (!intake.masked && masked) return `round ${header.round} does not use secure aggregation (got a masked input)`;
    if (masked) {
      return header.totalBytes > intake.masked!.maxBytes
        ? `masked input of ${header.totalBytes} bytes is larger than the round's ${intake.masked!.maxBytes}`
        : null;
    }
    if (!header.report) return 'first chunk carries no training report';
    const samples = intake.samplesOf(header.clientId);
    if (header.report.samples !== samples) {
      return `training report states ${header.report.samples} samples, client ${header.clientId}'s partition has ${samples}`;
    }
    if (header.encoding === 'codec') {
      // No codec expands a vector beyond 2× float32 (top-k at ratio 1 is index + value): anything larger is refused unread.
      return header.totalBytes > expectedLength * 8 + 1024
        ? `encoded update of ${header.totalBytes} bytes is larger than any codec produces for ${expectedLength} values`
        : null;
    }
    return header.totalBytes !== expectedLength * 4 ? `wrong length: ${header.totalBytes / 4} values, expected ${expectedLength}` : null;
  }

  private complete(intake: RoundIntake, transfer: Transfer): Verdict {
    const { clientId, workerId } = transfer;
    this.onPayload?.({ round: transfer.round, clientId, workerId, encoding: transfer.encoding, bytes: transfer.bytes });
    if (transfer.encoding === 'secagg-masked') {
      const reason = intake.masked!.onMasked(clientId, workerId, transfer.bytes);
      return reason ? this.reject(intake, clientId, workerId, reason) : { ok: true };
    }
    let delta: Float32Array;
    try {
      delta = transfer.encoding === 'codec' ? decodeVector(transfer.bytes) : bytesToFloat32(transfer.bytes);
    } catch (error) {
      return this.reject(intake, clientId, workerId, `undecodable update: ${(error as Error).message}`);
    }
    const reason = rejectReason(delta, intake.rules);
    if (reason) return this.reject(intake, clientId, workerId, reason);
    intake.onAccepted({ clientId, workerId, report: transfer.report!, delta });
    return { ok: true };
  }

  private reject(intake: RoundIntake, clientId: number, workerId: string, reason: string): Verdict {
    // The client's own worker sent it: the client will not report again this round.
    this.transfers.delete(clientId);
    intake.onRejected(clientId, workerId, reason);
    return { ok: false, rejected: reason };
  }
}

/** Why this chunk does not continue the client's transfer, or null. */
function transferProblem(transfer: Transfer | undefined, header: MessageHeader<'result-chunk'>, payloadBytes: number): string | null {
  if (!transfer) return `chunk ${header.chunk} of client ${header.clientId}'s update arrived with no transfer started (expected chunk 0)`;
  if (header.chunk !== transfer.nextChunk || header.chunks !== transfer.chunks || header.totalBytes !== transfer.totalBytes) {
    return `out-of-order or inconsistent chunk ${header.chunk} of client ${header.clientId}'s update (expected chunk ${transfer.nextChunk} of ${transfer.chunks})`;
  }
  if (transfer.offset + payloadBytes > transfer.totalBytes) return `client ${header.clientId}'s update overruns its declared ${transfer.totalBytes} bytes`;
  if (header.chunk === transfer.chunks - 1 && transfer.offset + payloadBytes !== transfer.totalBytes) {
    return `client ${header.clientId}'s update ended at ${transfer.offset + payloadBytes} of ${transfer.totalBytes} bytes`;
  }
  return null;
}
