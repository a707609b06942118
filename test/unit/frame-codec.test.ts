import { describe, expect, it } from 'vitest';
import { bytesToFloat32, decodeFrame, decodeFrameOf, encodeFrame, float32Bytes, FrameError } from '../../shared/protocol/frame.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js';

/** A frame built by hand, to feed the decoder headers the encoder would never write. */
function rawFrame(code: number, headerText: string): Uint8Array {
  const headerBytes = Buffer.from(headerText, 'utf8');
  const frame = Buffer.alloc(14 + headerBytes.length);
  frame.write('FSIM', 0, 'latin1');
  frame.writeUInt8(PROTOCOL_VERSION, 4);
  frame.writeUInt8(code, 5);
  frame.writeUInt32LE(headerBytes.length, 6);
  frame.writeUInt32LE(0, 10); // CRC-32 of an empty payload
  headerBytes.copy(frame, 14);
  return frame;
}

const update = new Float32Array([1.5, -2.25, 0, 3.4028234663852886e38, -1e-38]);
const header = {
  transferId: 't1',
  workerId: 'w1',
  round: 3,
  clientId: 17,
  chunk: 0,
  chunks: 1,
  totalBytes: 20,
  grant: '0123456789abcdef0123456789abcdef',
  report: { samples: 600, steps: 60, loss: 0.25, trainMs: 12.5, backend: 'cpu' },
};

describe('frame codec', () => {
  it('round-trips a header and a float32 payload exactly', () => {
    const frame = encodeFrame('result-chunk', header, float32Bytes(update));
    const decoded = decodeFrameOf(frame, 'result-chunk');
    expect(decoded.header).toEqual(header);
    expect(Array.from(bytesToFloat32(decoded.payload))).toEqual(Array.from(update));
  });

  it('round-trips frames without payload', () => {
    const decoded = decodeFrame(encodeFrame('ack', { ok: false, error: 'round 2 is closed' }));
    expect(decoded.type).toBe('ack');
    expect(decoded.header).toEqual({ ok: false, error: 'round 2 is closed' });
    expect(decoded.payload.byteLength).toBe(0);
  });

  it('rejects a frame shorter than the fixed header', () => {
    expect(() => decodeFrame(new Uint8Array(5))).toThrow(/too short/);
  });

  it('rejects truncated frames', () => {
    const frame = encodeFrame('result-chunk', header, float32Bytes(update));
    expect(() => decodeFrame(frame.subarray(0, 30))).toThrow(FrameError);
    // Cut inside the payload: the checksum no longer matches.
    expect(() => decodeFrame(frame.subarray(0, frame.length - 4))).toThrow(/checksum/);
  });

  it('rejects a corrupted payload byte', () => {
    const frame = encodeFrame('result-chunk', header, float32Bytes(update));
    frame[frame.length - 3]! ^= 0x40;
    expect(() => decodeFrame(frame)).toThrow(/checksum mismatch/);
  });

  it('rejects bad magic, unknown versions and unknown message codes', () => {
    const good = encodeFrame('ack', { ok: true });
    const badMagic = good.slice();
    badMagic[0] = 0x00;
    expect(() => decodeFrame(badMagic)).toThrow(/magic/);
    const badVersion = good.slice();
    badVersion[4] = 99;
    expect(() => decodeFrame(badVersion)).toThrow(/version 99/);
    const badCode = good.slice();
    badCode[5] = 250;
    expect(() => decodeFrame(badCode)).toThrow(/unknown message code 250/);
  });

  it('rejects a header that breaks its schema or is not JSON', () => {
    expect(() => decodeFrame(rawFrame(3, '{"round":1,"clientId":-2,"seed":3,"deadline":4}'))).toThrow(/invalid task header: clientId/);
    expect(() => decodeFrame(rawFrame(3, '{"round":1,"clientId":2,"seed":3,"deadline":4,"extra":1}'))).toThrow(/invalid task header/);
    expect(() => decodeFrame(rawFrame(3, '{"round":1,'))).toThrow(/not valid JSON/);
  });

  it('refuses a frame of the wrong type where one type is expected', () => {
    expect(() => decodeFrameOf(encodeFrame('ack', { ok: true }), 'task')).toThrow(/expected a task frame, got ack/);
  });

  it('refuses payloads that are not whole float32 values', () => {
    expect(() => bytesToFloat32(new Uint8Array(7))).toThrow(/not a whole number of float32/);
  });
});
