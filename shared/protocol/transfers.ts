/**
 * Moving weight vectors larger than the bus' max payload: the round's global model (pulled by
 * each worker once per round, chunk by chunk) and clients' updates (pushed to the coordinator,
 * each chunk acknowledged). Pull and acknowledged push keep flow control simple and make a
 * lost message a timeout rather than a silent gap.
 */
import { BusError, type Bus } from '../bus/bus.js';
import { decodeVector } from '../compression/pipeline.js';
import { bytesToFloat32, decodeFrame, decodeFrameOf, encodeFrame, float32Bytes, FrameError } from './frame.js';
import type { MessageHeader } from './messages.js';

/** Room left in each message for the frame header. */
const HEADER_ROOM = 8 * 1024;
const CHUNK_TIMEOUT_MS = 30_000;

export function chunkBytesFor(bus: Bus): number {
  return Math.max(bus.maxPayload - HEADER_ROOM, 1024);
}

export function chunkCount(totalBytes: number, chunkBytes: number): number {
  return Math.max(1, Math.ceil(totalBytes / chunkBytes));
}

export function chunkSlice(bytes: Uint8Array, index: number, chunkBytes: number): Uint8Array {
  return bytes.subarray(index * chunkBytes, Math.min((index + 1) * chunkBytes, bytes.byteLength));
}

/** Worker side: fetch the global weights of `round`. Returns the vector and the bytes received. */
/** `vector`: one of the round's named vectors (a strategy's) instead of the global model. */
export async function fetchModel(bus: Bus, subject: string, round: number, vector?: string): Promise<{ weights: Float32Array; bytes: number }> {
  const first = await requestChunk(bus, subject, round, 0, vector);
  const { chunks, totalBytes } = first.header;
  const assembled = new Uint8Array(totalBytes);
  assembled.set(first.payload, 0);
  let offset = first.payload.byteLength;
  let received = first.bytes;
  for (let chunk = 1; chunk < chunks; chunk++) {
    const next = await requestChunk(bus, subject, round, chunk, vector);
    if (next.header.totalBytes !== totalBytes || next.header.chunks !== chunks) {
      throw new FrameError(`model chunk ${chunk} of round ${round} disagrees with chunk 0 about the model size`);
    }
    assembled.set(next.payload, offset);
    offset += next.payload.byteLength;
    received += next.bytes;
  }
  if (offset !== totalBytes) throw new FrameError(`model of round ${round}: got ${offset} bytes, expected ${totalBytes}`);
  const weights = first.header.encoding === 'codec' ? decodeVector(assembled) : bytesToFloat32(assembled);
  return { weights, bytes: received };
}

async function requestChunk(bus: Bus, subject: string, round: number, chunk: number, vector?: string) {
  const reply = await bus.request(subject, encodeFrame('model-request', { round, chunk, ...(vector !== undefined ? { vector } : {}) }), CHUNK_TIMEOUT_MS);
  const any = decodeFrame(reply);
  if (any.type === 'ack') {
    throw new FrameError(`model chunk ${chunk} of round ${round} refused: ${(any.header as { error?: string }).error ?? 'no reason given'}`);
  }
  const frame = decodeFrameOf(reply, 'model-chunk');
  if (frame.header.round !== round || frame.header.chunk !== chunk) {
    throw new FrameError(`asked for chunk ${chunk} of round ${round}, got chunk ${frame.header.chunk} of round ${frame.header.round}`);
  }
  return { header: frame.header, payload: frame.payload, bytes: reply.byteLength };
}

export type UpdateReport = NonNullable<MessageHeader<'result-chunk'>['report']>;

/**
 * An update already encoded: by a compression pipeline (shared/compression), or, with
 * `encoding: 'secagg-masked'`, a secure-aggregation masked-input message.
 */
export interface EncodedVector {
  bytes: Uint8Array;
  encoding?: 'codec' | 'secagg-masked';
}

/** Worker side: push one client's update in acknowledged chunks. Returns the bytes sent. */
export async function sendUpdate(
  bus: Bus,
  subject: string,
  /** `grant`: the grant of the worker's claim on the client (every chunk carries it). */
  meta: { transferId: string; workerId: string; round: number; clientId: number; grant: string; report?: UpdateReport },
  update: Float32Array | EncodedVector,
): Promise<number> {
  const encoded = update instanceof Float32Array ? null : update;
  const bytes = encoded ? encoded.bytes : float32Bytes(update as Float32Array);
  const chunkBytes = chunkBytesFor(bus);
  const chunks = chunkCount(bytes.byteLength, chunkBytes);
  let sent = 0;
  for (let chunk = 0; chunk < chunks; chunk++) {
    const frame = encodeFrame(
      'result-chunk',
      {
        transferId: meta.transferId,
        workerId: meta.workerId,
        round: meta.round,
        clientId: meta.clientId,
        grant: meta.grant,
        chunk,
        chunks,
        totalBytes: bytes.byteLength,
        ...(encoded ? { encoding: encoded.encoding ?? ('codec' as const) } : {}),
        report: chunk === 0 ? meta.report : undefined,
      },
      chunkSlice(bytes, chunk, chunkBytes),
    );
    const reply = decodeFrameOf(await bus.request(subject, frame, CHUNK_TIMEOUT_MS), 'ack');
    sent += frame.byteLength;
    if (!reply.header.ok) {
      throw new BusError('closed', `coordinator refused update of client ${meta.clientId}: ${reply.header.error ?? 'no reason given'}`);
    }
  }
  return sent;
}

/** One secure-aggregation message of a batch: the client it is from or for, and its wire bytes. */
export interface SecAggEntry {
  clientId: number;
  bytes: Uint8Array;
}

/** Room for a batch frame's JSON header (about 40 bytes per entry), out of HEADER_ROOM. */
const MAX_BATCH_ENTRIES = 150;

/**
 * Splits secure-aggregation messages into batches that each fit one bus message. An entry too
 * large to fit alone is returned in `tooLarge` rather than sent.
 */
export function batchSecAggEntries<E extends SecAggEntry>(bus: Bus, entries: readonly E[]): { batches: E[][]; tooLarge: E[] } {
  const limit = chunkBytesFor(bus);
  const batches: E[][] = [];
  const tooLarge: E[] = [];
  let current: E[] = [];
  let size = 0;
  for (const entry of entries) {
    if (entry.bytes.byteLength > limit) {
      tooLarge.push(entry);
      continue;
    }
    if (current.length > 0 && (size + entry.bytes.byteLength > limit || current.length >= MAX_BATCH_ENTRIES)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(entry);
    size += entry.bytes.byteLength;
  }
  if (current.length > 0) batches.push(current);
  return { batches, tooLarge };
}

/** The payload of a batch: the entries' bytes back to back. */
export function concatEntries(entries: readonly SecAggEntry[]): Uint8Array {
  const out = new Uint8Array(entries.reduce((n, e) => n + e.bytes.byteLength, 0));
  let offset = 0;
  for (const e of entries) {
    out.set(e.bytes, offset);
    offset += e.bytes.byteLength;
  }
  return out;
}

/** Cuts a batch payload back into its messages; refuses a payload whose length disagrees with the header. */
export function splitEntries<M extends { clientId: number; bytes: number }>(messages: readonly M[], payload: Uint8Array): (M & { data: Uint8Array })[] {
  const declared = messages.reduce((n, m) => n + m.bytes, 0);
  if (declared !== payload.byteLength) {
    throw new FrameError(`secure-aggregation batch declares ${declared} bytes of messages, payload has ${payload.byteLength}`);
  }
  let offset = 0;
  return messages.map((m) => {
    const data = payload.subarray(offset, offset + m.bytes);
    offset += m.bytes;
    return { ...m, data };
  });
}
