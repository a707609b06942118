/**
 * The messages of one secure-aggregation round, as plain objects whose binary fields are
 * Uint8Array, with a zod schema each and a compact binary codec for the bus.
 *
 * Flow (Bonawitz et al., CCS 2017, Fig. 4, semi-honest variant: no signatures, no consistency
 * round; SecAgg+ of Bell et al., CCS 2020 restricts every list to the recipient's neighbourhood):
 *
 *   client → server   advertise-keys     c^PK, s^PK                                  (Round 0)
 *   server → client   key-roster         the neighbours' advertised keys
 *   client → server   encrypted-shares   one AES-GCM share pair per neighbour         (Round 1)
 *   server → client   share-delivery     the share pairs addressed to this client
 *   client → server   masked-input       y = x + masks, 4·L bytes little-endian       (Round 2)
 *   server → client   unmask-request     which neighbours survived / dropped
 *   client → server   unmasking-shares   b-shares of survivors, s^SK-shares of dropped (Round 4)
 *   server → client   round-aborted      why the round stopped (nothing is disclosed)
 *
 * Every message names its session and round so that a stray frame from another round is refused
 * before it touches any state.
 *
 * Wire format (all integers little-endian):
 *   "SAGG" | version u8 | type code u8 | fields in schema order, where
 *   u32 = 4 bytes; string = u16 byte length + UTF-8; bytes = u32 length + raw;
 *   u32 list = u32 count + count × u32; record list = u32 count + records.
 * Decoding checks every length against what remains, refuses trailing bytes, then validates the
 * result against the schema, so truncated, padded or tampered frames fail with a SecAggError
 * ('malformed-message') that says which field broke.
 */
import { z } from 'zod';
import { SecAggError } from './errors.js';
import { X25519_KEY_BYTES } from './key-agreement.js';
import { MAX_CLIENTS, MAX_VECTOR_LENGTH } from './parameters.js';
import { NONCE_BYTES, SHARE_CIPHERTEXT_BYTES } from './share-encryption.js';
import { SHARE_BYTES } from './shamir.js';

export const SECAGG_WIRE_VERSION = 1;

const index = z
  .number()
  .int()
  .min(0)
  .max(MAX_CLIENTS - 1);
const round = z.number().int().min(0).max(0xffffffff);
const session = z.string().min(1).max(200);
// z.custom rather than z.instanceof so the inferred type is plain Uint8Array (any backing buffer).
const binary = () => z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected a Uint8Array');
const bytes = (length: number, what: string) => binary().refine((b) => b.length === length, `${what} must be ${length} bytes`);
const uniqueIndices = (values: readonly number[]) => new Set(values).size === values.length;

const publicKeys = { cPublicKey: bytes(X25519_KEY_BYTES, 'c public key'), sPublicKey: bytes(X25519_KEY_BYTES, 's public key') };
const sealed = { nonce: bytes(NONCE_BYTES, 'nonce'), ciphertext: bytes(SHARE_CIPHERTEXT_BYTES, 'share ciphertext (with tag)') };
const ownerShare = z.strictObject({ owner: index, share: bytes(SHARE_BYTES, 'share') });

export const SECAGG_MESSAGE_SCHEMAS = {
  'advertise-keys': z.strictObject({ type: z.literal('advertise-keys'), session, round, from: index, ...publicKeys }),
  'key-roster': z.strictObject({
    type: z.literal('key-roster'),
    session,
    round,
    to: index,
    keys: z.array(z.strictObject({ index, ...publicKeys })).refine((k) => uniqueIndices(k.map((e) => e.index)), 'roster lists a client twice'),
  }),
  'encrypted-shares': z.strictObject({
    type: z.literal('encrypted-shares'),
    session,
    round,
    from: index,
    shares: z.array(z.strictObject({ to: index, ...sealed })).refine((s) => uniqueIndices(s.map((e) => e.to)), 'two share pairs for the same receiver'),
  }),
  'share-delivery': z.strictObject({
    type: z.literal('share-delivery'),
    session,
    round,
    to: index,
    shares: z.array(z.strictObject({ from: index, ...sealed })).refine((s) => uniqueIndices(s.map((e) => e.from)), 'two share pairs from the same sender'),
  }),
  'masked-input': z.strictObject({
    type: z.literal('masked-input'),
    session,
    round,
    from: index,
    masked: binary().refine(
      (b) => b.length > 0 && b.length % 4 === 0 && b.length / 4 <= MAX_VECTOR_LENGTH,
      'masked vector must be a non-empty whole number of 32-bit words',
    ),
  }),
  'unmask-request': z
    .strictObject({ type: z.literal('unmask-request'), session, round, to: index, survivors: z.array(index), dropped: z.array(index) })
    .refine((m) => uniqueIndices(m.survivors) && uniqueIndices(m.dropped), 'survivor and dropped lists must not repeat a client'),
  'unmasking-shares': z
    .strictObject({
      type: z.literal('unmasking-shares'),
      session,
      round,
      from: index,
      /** Shares of surviving clients' self-mask seeds b. */
      selfMaskShares: z.array(ownerShare),
      /** Shares of dropped clients' mask keys s^SK. */
      keyShares: z.array(ownerShare),
    })
    .refine(
      (m) => uniqueIndices([...m.selfMaskShares.map((s) => s.owner), ...m.keyShares.map((s) => s.owner)]),
      'a client appears twice among the unmasking shares (both of its secrets would be revealed)',
    ),
  'round-aborted': z.strictObject({
    type: z.literal('round-aborted'),
    session,
    round,
    step: z.enum(['advertise-keys', 'share-keys', 'masked-input', 'unmasking']),
    reason: z.string().max(4000),
  }),
} as const;

export type SecAggMessageType = keyof typeof SECAGG_MESSAGE_SCHEMAS;
export type SecAggMessageOf<T extends SecAggMessageType> = z.output<(typeof SECAGG_MESSAGE_SCHEMAS)[T]>;
export type AdvertiseKeys = SecAggMessageOf<'advertise-keys'>;
export type KeyRoster = SecAggMessageOf<'key-roster'>;
export type EncryptedShares = SecAggMessageOf<'encrypted-shares'>;
export type ShareDelivery = SecAggMessageOf<'share-delivery'>;
export type MaskedInput = SecAggMessageOf<'masked-input'>;
export type UnmaskRequest = SecAggMessageOf<'unmask-request'>;
export type UnmaskingShares = SecAggMessageOf<'unmasking-shares'>;
export type RoundAborted = SecAggMessageOf<'round-aborted'>;
export type SecAggMessage = { [T in SecAggMessageType]: SecAggMessageOf<T> }[SecAggMessageType];
export type SecAggStep = RoundAborted['step'];

/** Wire codes; never reuse a number for a different message. */
export const SECAGG_MESSAGE_CODES: Record<SecAggMessageType, number> = {
  'advertise-keys': 1,
  'key-roster': 2,
  'encrypted-shares': 3,
  'share-delivery': 4,
  'masked-input': 5,
  'unmask-request': 6,
  'unmasking-shares': 7,
  'round-aborted': 8,
};

/** Validates an object form (e.g. after structured clone); throws SecAggError on any violation. */
export function validateSecAggMessage<T extends SecAggMessageType>(value: unknown, expected?: T): SecAggMessageOf<T> {
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !(type in SECAGG_MESSAGE_SCHEMAS)) {
    throw new SecAggError('malformed-message', `not a secure-aggregation message: unknown type ${JSON.stringify(type)}`);
  }
  if (expected !== undefined && type !== expected) {
    throw new SecAggError('malformed-message', `expected a ${expected} message, got ${type}`);
  }
  const parsed = SECAGG_MESSAGE_SCHEMAS[type as SecAggMessageType].safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new SecAggError('malformed-message', `invalid ${type} message: ${issues}`);
  }
  return parsed.data as SecAggMessageOf<T>;
}

// ---- binary codec ----

type Field = { name: string; kind: 'u32' | 'string' | 'bytes' | 'u32-list' } | { name: string; kind: 'records'; of: readonly Field[] };

const f = (name: string, kind: 'u32' | 'string' | 'bytes' | 'u32-list'): Field => ({ name, kind });
const records = (name: string, of: readonly Field[]): Field => ({ name, kind: 'records', of });
const header = [f('session', 'string'), f('round', 'u32')];
const sealedFields = [f('nonce', 'bytes'), f('ciphertext', 'bytes')];
const ownerShareFields = [f('owner', 'u32'), f('share', 'bytes')];
const keyFields = [f('cPublicKey', 'bytes'), f('sPublicKey', 'bytes')];

const LAYOUTS: Record<SecAggMessageType, readonly Field[]> = {
  'advertise-keys': [...header, f('from', 'u32'), ...keyFields],
  'key-roster': [...header, f('to', 'u32'), records('keys', [f('index', 'u32'), ...keyFields])],
  'encrypted-shares': [...header, f('from', 'u32'), records('shares', [f('to', 'u32'), ...sealedFields])],
  'share-delivery': [...header, f('to', 'u32'), records('shares', [f('from', 'u32'), ...sealedFields])],
  'masked-input': [...header, f('from', 'u32'), f('masked', 'bytes')],
  'unmask-request': [...header, f('to', 'u32'), f('survivors', 'u32-list'), f('dropped', 'u32-list')],
  'unmasking-shares': [...header, f('from', 'u32'), records('selfMaskShares', ownerShareFields), records('keyShares', ownerShareFields)],
  'round-aborted': [...header, f('step', 'string'), f('reason', 'string')],
};

const MAGIC = Buffer.from('SAGG', 'latin1');
const TYPE_BY_CODE = new Map(Object.entries(SECAGG_MESSAGE_CODES).map(([t, c]) => [c, t as SecAggMessageType]));

/** Validates, then serialises. The result owns a fresh buffer. */
export function encodeSecAggMessage(message: SecAggMessage): Uint8Array {
  const valid = validateSecAggMessage(message);
  const layout = LAYOUTS[valid.type];
  const size = 6 + sizeOf(layout, valid);
  const out = Buffer.alloc(size);
  MAGIC.copy(out, 0);
  out.writeUInt8(SECAGG_WIRE_VERSION, 4);
  out.writeUInt8(SECAGG_MESSAGE_CODES[valid.type], 5);
  const end = write(out, 6, layout, valid);
  if (end !== size) throw new Error(`secagg codec: wrote ${end} bytes, sized ${size}`);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Parses and validates one message. Binary fields are views into `bytes` (no copy of a 4 MB
 * masked vector); copy them if the buffer is reused.
 */
export function decodeSecAggMessage(bytes: Uint8Array): SecAggMessage;
export function decodeSecAggMessage<T extends SecAggMessageType>(bytes: Uint8Array, expected: T): SecAggMessageOf<T>;
export function decodeSecAggMessage(bytes: Uint8Array, expected?: SecAggMessageType): SecAggMessage {
  if (bytes.length < 6) throw malformed(`secure-aggregation message too short: ${bytes.length} bytes, the fixed header alone is 6`);
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) throw malformed('not a secure-aggregation message: bad magic bytes');
  if (bytes[4] !== SECAGG_WIRE_VERSION) throw malformed(`unsupported secure-aggregation wire version ${bytes[4]}, expected ${SECAGG_WIRE_VERSION}`);
  const type = TYPE_BY_CODE.get(bytes[5]!);
  if (type === undefined) throw malformed(`unknown secure-aggregation message code ${bytes[5]}`);
  if (expected !== undefined && type !== expected) throw malformed(`expected a ${expected} message, got ${type}`);
  const reader = new Reader(bytes, 6, type);
  const object: Record<string, unknown> = { type, ...reader.read(LAYOUTS[type]) };
  if (reader.offset !== bytes.length) {
    throw malformed(`${bytes.length - reader.offset} trailing bytes after a complete ${type} message (padded or concatenated frame)`);
  }
  return validateSecAggMessage(object, type);
}

/** The masked vector of a masked-input message as 32-bit words (a view when aligned, else a copy). */
export function maskedWords(message: MaskedInput): Uint32Array {
  const b = message.masked;
  if (b.byteOffset % 4 === 0) return new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  return new Uint32Array(new Uint8Array(b).buffer);
}

function malformed(message: string): SecAggError {
  return new SecAggError('malformed-message', message);
}

function sizeOf(layout: readonly Field[], value: Record<string, unknown>): number {
  let size = 0;
  for (const field of layout) {
    const v = value[field.name];
    switch (field.kind) {
      case 'u32':
        size += 4;
        break;
      case 'string':
        size += 2 + Buffer.byteLength(v as string, 'utf8');
        break;
      case 'bytes':
        size += 4 + (v as Uint8Array).length;
        break;
      case 'u32-list':
        size += 4 + 4 * (v as number[]).length;
        break;
      case 'records':
        size += 4;
        for (const r of v as Record<string, unknown>[]) size += sizeOf(field.of, r);
        break;
    }
  }
  return size;
}

function write(out: Buffer, start: number, layout: readonly Field[], value: Record<string, unknown>): number {
  let o = start;
  for (const field of layout) {
    const v = value[field.name];
    switch (field.kind) {
      case 'u32':
        o = out.writeUInt32LE(v as number, o);
        break;
      case 'string': {
        const len = Buffer.byteLength(v as string, 'utf8');
        if (len > 0xffff) throw malformed(`${field.name} is ${len} bytes of UTF-8, over the 65535 the wire allows`);
        o = out.writeUInt16LE(len, o);
        o += out.write(v as string, o, 'utf8');
        break;
      }
      case 'bytes': {
        const b = v as Uint8Array;
        o = out.writeUInt32LE(b.length, o);
        out.set(b, o);
        o += b.length;
        break;
      }
      case 'u32-list': {
        const list = v as number[];
        o = out.writeUInt32LE(list.length, o);
        for (const x of list) o = out.writeUInt32LE(x, o);
        break;
      }
      case 'records': {
        const list = v as Record<string, unknown>[];
        o = out.writeUInt32LE(list.length, o);
        for (const r of list) o = write(out, o, field.of, r);
        break;
      }
    }
  }
  return o;
}

class Reader {
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    public offset: number,
    private readonly type: SecAggMessageType,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  read(layout: readonly Field[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const field of layout) {
      switch (field.kind) {
        case 'u32':
          out[field.name] = this.u32(field.name);
          break;
        case 'string': {
          this.need(2, `${field.name} length`);
          const len = this.view.getUint16(this.offset, true);
          this.offset += 2;
          this.need(len, field.name);
          out[field.name] = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.offset, len).toString('utf8');
          this.offset += len;
          break;
        }
        case 'bytes': {
          const len = this.u32(`${field.name} length`);
          this.need(len, field.name);
          out[field.name] = this.bytes.subarray(this.offset, this.offset + len);
          this.offset += len;
          break;
        }
        case 'u32-list': {
          const count = this.u32(`${field.name} count`);
          this.need(4 * count, field.name);
          const list = new Array<number>(count);
          for (let i = 0; i < count; i++) list[i] = this.u32(field.name);
          out[field.name] = list;
          break;
        }
        case 'records': {
          const count = this.u32(`${field.name} count`);
          // Each record is at least 4 bytes; refusing impossible counts up front stops a forged
          // count from making us allocate a huge array.
          this.need(4 * count, `${count} ${field.name} records`);
          const list = new Array<Record<string, unknown>>(count);
          for (let i = 0; i < count; i++) list[i] = this.read(field.of);
          out[field.name] = list;
          break;
        }
      }
    }
    return out;
  }

  private u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  private need(n: number, what: string): void {
    const left = this.bytes.length - this.offset;
    if (n > left) {
      throw malformed(`truncated ${this.type} message: ${what} needs ${n} bytes at offset ${this.offset}, only ${left} left`);
    }
  }
}
