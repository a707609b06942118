/**
 * The binary frame every bus message travels in:
 *
 *   offset  size  field
 *   0       4     magic "FSIM"
 *   4       1     protocol version
 *   5       1     message code (see MESSAGE_CODES)
 *   6       4     header length H (u32 LE)
 *   10      4     CRC-32 of the payload (u32 LE)
 *   14      H     header, UTF-8 JSON, validated against the message's schema
 *   14+H    …     payload (raw bytes; weights are little-endian float32)
 *
 * Decoding rejects truncated, corrupted, unknown-version and schema-violating frames with a
 * FrameError that says which check failed.
 */
import { crc32 } from './crc32.js';
import { MESSAGE_CODES, MESSAGE_SCHEMAS, PROTOCOL_VERSION, type MessageHeader, type MessageType } from './messages.js';

const MAGIC = [0x46, 0x53, 0x49, 0x4d]; // "FSIM"
const FIXED_BYTES = 14;
const EMPTY = new Uint8Array(0);
const TYPE_BY_CODE = new Map<number, MessageType>(Object.entries(MESSAGE_CODES).map(([type, code]) => [code, type as MessageType]));

export class FrameError extends Error {
  override name = 'FrameError';
}

export interface Frame<T extends MessageType> {
  type: T;
  header: MessageHeader<T>;
  payload: Uint8Array;
}

export function encodeFrame<T extends MessageType>(type: T, header: MessageHeader<T>, payload: Uint8Array = EMPTY): Uint8Array {
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const frame = new Uint8Array(FIXED_BYTES + headerBytes.length + payload.length);
  const view = new DataView(frame.buffer);
  frame.set(MAGIC, 0);
  view.setUint8(4, PROTOCOL_VERSION);
  view.setUint8(5, MESSAGE_CODES[type]);
  view.setUint32(6, headerBytes.length, true);
  view.setUint32(10, crc32(payload), true);
  frame.set(headerBytes, FIXED_BYTES);
  frame.set(payload, FIXED_BYTES + headerBytes.length);
  return frame;
}

/** Decodes a frame of any type; use `decodeFrameOf` where one type is expected. */
export function decodeFrame(bytes: Uint8Array): Frame<MessageType> {
  if (bytes.length < FIXED_BYTES) {
    throw new FrameError(`frame too short: ${bytes.length} bytes, expected at least ${FIXED_BYTES}`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new FrameError('not a fedsim frame: bad magic bytes');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(4);
  if (version !== PROTOCOL_VERSION) {
    throw new FrameError(`unsupported protocol version ${version}, expected ${PROTOCOL_VERSION}`);
  }
  const type = TYPE_BY_CODE.get(view.getUint8(5));
  if (type === undefined) throw new FrameError(`unknown message code ${view.getUint8(5)}`);
  const headerLength = view.getUint32(6, true);
  if (FIXED_BYTES + headerLength > bytes.length) {
    throw new FrameError(`truncated ${type} frame: header says ${headerLength} bytes, only ${bytes.length - FIXED_BYTES} present`);
  }
  const payload = bytes.subarray(FIXED_BYTES + headerLength);
  const expectedCrc = view.getUint32(10, true);
  if (crc32(payload) !== expectedCrc) {
    throw new FrameError(`corrupt ${type} frame: payload checksum mismatch (${payload.length} bytes)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + FIXED_BYTES, headerLength).toString('utf8'));
  } catch {
    throw new FrameError(`corrupt ${type} frame: header is not valid JSON`);
  }
  const parsed = MESSAGE_SCHEMAS[type].safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new FrameError(`invalid ${type} header: ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  return { type, header: parsed.data, payload };
}

export function decodeFrameOf<T extends MessageType>(bytes: Uint8Array, expected: T): Frame<T> {
  const frame = decodeFrame(bytes);
  if (frame.type !== expected) throw new FrameError(`expected a ${expected} frame, got ${frame.type}`);
  return frame as Frame<T>;
}

/** Float32 weights as little-endian bytes without a copy (fedsim refuses big-endian hosts at start). */
export function float32Bytes(vector: Float32Array): Uint8Array {
  return new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** Bytes back to float32; copies so the result is aligned and owns its memory. */
export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new FrameError(`weight payload of ${bytes.byteLength} bytes is not a whole number of float32 values`);
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}
