/**
 * The common frame of every update codec: a vector in, self-describing bytes out, and back.
 *
 * Every encoded block starts with a 7-byte header (little-endian):
 *   offset  size  field
 *   0       1     magic 0xFC
 *   1       1     format version (1)
 *   2       1     codec id (CODEC_IDS)
 *   3       4     n, the length of the decoded vector (u32)
 *   7       …     the codec's parameters and body (see each codec)
 * so a receiver needs only the bytes to decode, and a codec nested in another (top-k's values)
 * is a block of its own. Decoders reject malformed input with a CodecError naming the check.
 */
import type { Rng } from '../random.js';

export const CODEC_MAGIC = 0xfc;
export const CODEC_FORMAT_VERSION = 1;
export const HEADER_BYTES = 7;
export const CODEC_IDS = { fp32: 1, fp16: 2, int8: 3, topk: 4 } as const;
export type CodecName = keyof typeof CODEC_IDS;

/**
 * Longest vector a decoder accepts (2^28 float32 = 1 GiB): a length field is attacker-controlled,
 * and a sparse encoding of a few bytes could otherwise make the receiver allocate gigabytes.
 */
export const MAX_VECTOR_LENGTH = 2 ** 28;

const NAME_BY_ID = new Map<number, CodecName>(Object.entries(CODEC_IDS).map(([name, id]) => [id, name as CodecName]));

export class CodecError extends Error {
  override name = 'CodecError';
}

export interface VectorCodec {
  /** The pipeline it implements, e.g. "topk(0.01)>fp16". */
  readonly name: string;
  /** `rng` drives stochastic codecs (int8); deterministic ones ignore it. */
  encode(vector: Float32Array, rng: Rng): Uint8Array;
  decode(bytes: Uint8Array): Float32Array;
  /** Exact size of encode()'s output for a vector of this length. */
  encodedSize(length: number): number;
}

/** A new block of `totalBytes` with its header written; the view covers the whole block. */
export function startBlock(codec: CodecName, length: number, totalBytes: number): { bytes: Uint8Array; view: DataView } {
  if (length > MAX_VECTOR_LENGTH) throw new RangeError(`codec ${codec}: vector of ${length} values is longer than the ${MAX_VECTOR_LENGTH} a block can hold`);
  const bytes = new Uint8Array(totalBytes);
  const view = new DataView(bytes.buffer);
  bytes[0] = CODEC_MAGIC;
  bytes[1] = CODEC_FORMAT_VERSION;
  bytes[2] = CODEC_IDS[codec];
  view.setUint32(3, length, true);
  return { bytes, view };
}

export interface BlockHeader {
  codec: CodecName;
  length: number;
  view: DataView;
}

/** With `expected`, also refuses a block of another codec (a pipeline decodes only its own encoding). */
export function readHeader(bytes: Uint8Array, expected?: CodecName): BlockHeader {
  if (bytes.length < HEADER_BYTES) throw new CodecError(`encoded vector too short: ${bytes.length} bytes, expected at least a ${HEADER_BYTES}-byte header`);
  if (bytes[0] !== CODEC_MAGIC)
    throw new CodecError(`not an encoded vector: bad magic byte 0x${bytes[0]!.toString(16)} (expected 0x${CODEC_MAGIC.toString(16)})`);
  if (bytes[1] !== CODEC_FORMAT_VERSION) throw new CodecError(`unsupported codec format version ${bytes[1]}, expected ${CODEC_FORMAT_VERSION}`);
  const codec = NAME_BY_ID.get(bytes[2]!);
  if (codec === undefined) throw new CodecError(`unknown codec id ${bytes[2]} (known: ${[...NAME_BY_ID].map(([id, name]) => `${id} ${name}`).join(', ')})`);
  if (expected !== undefined && codec !== expected) throw new CodecError(`expected a block of codec ${expected}, got ${codec}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(3, true);
  if (length > MAX_VECTOR_LENGTH) throw new CodecError(`${codec} block claims ${length} values, more than the ${MAX_VECTOR_LENGTH} accepted`);
  return { codec, length, view };
}

/** Refuses a block whose size differs from what its header implies, before anything is allocated. */
export function expectSize(codec: CodecName, bytes: Uint8Array, expected: number, what: string): void {
  if (bytes.length !== expected) {
    throw new CodecError(
      `${codec} block is ${bytes.length} bytes, expected ${expected} for ${what}${bytes.length < expected ? ' (truncated)' : ' (trailing bytes)'}`,
    );
  }
}

/** Encoders refuse NaN and ±Infinity: no codec can carry them faithfully, and the update validator would refuse them anyway. */
export function checkFinite(codec: string, vector: Float32Array): void {
  for (let i = 0; i < vector.length; i++) {
    if (!Number.isFinite(vector[i]!)) throw new RangeError(`codec ${codec}: value ${vector[i]} at index ${i} is not finite`);
  }
}
