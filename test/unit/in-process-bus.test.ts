import { describe, expect, it } from 'vitest';
import { BusError } from '../../shared/bus/bus.js';
import { InProcessBus } from '../../shared/bus/in-process-bus.js';
import { encodeFrame, decodeFrameOf, float32Bytes } from '../../shared/protocol/frame.js';
import { chunkBytesFor, chunkCount, chunkSlice, fetchModel, sendUpdate } from '../../shared/protocol/transfers.js';

describe('InProcessBus', () => {
  it('answers requests and fails fast without responders', async () => {
    const bus = new InProcessBus();
    await expect(bus.request('nobody', new Uint8Array([1]), 1000)).rejects.toMatchObject({ reason: 'no-responders' });
    bus.subscribe('echo', (m) => m.respond(m.data));
    expect(Array.from(await bus.request('echo', new Uint8Array([7, 8]), 1000))).toEqual([7, 8]);
  });

  it('times out when the subscriber never replies', async () => {
    const bus = new InProcessBus();
    bus.subscribe('silent', () => {});
    await expect(bus.request('silent', new Uint8Array(1), 20)).rejects.toBeInstanceOf(BusError);
  });

  it('gives every message to every subscriber until it unsubscribes', async () => {
    const bus = new InProcessBus();
    const got: string[] = [];
    bus.subscribe('s', () => got.push('a'));
    const b = bus.subscribe('s', () => got.push('b'));
    bus.publish('s', new Uint8Array(1));
    await bus.flush();
    b.unsubscribe();
    bus.publish('s', new Uint8Array(1));
    await bus.flush();
    expect(got.sort()).toEqual(['a', 'a', 'b']);
  });

  it('refuses messages above its max payload', () => {
    const bus = new InProcessBus(16);
    expect(() => bus.publish('x', new Uint8Array(17))).toThrow(/exceeds max payload 16/);
  });
});

describe('chunked transfers', () => {
  it('moves a model larger than the max payload in chunks, byte for byte', async () => {
    const bus = new InProcessBus(64 * 1024);
    const weights = Float32Array.from({ length: 50_000 }, (_, i) => Math.sin(i) * 1e3);
    const bytes = float32Bytes(weights);
    const chunkBytes = chunkBytesFor(bus);
    const chunks = chunkCount(bytes.byteLength, chunkBytes);
    expect(chunks).toBeGreaterThan(3);
    bus.subscribe('model', (m) => {
      const { round, chunk } = decodeFrameOf(m.data, 'model-request').header;
      m.respond(encodeFrame('model-chunk', { round, chunk, chunks, totalBytes: bytes.byteLength }, chunkSlice(bytes, chunk, chunkBytes)));
    });
    const fetched = await fetchModel(bus, 'model', 4);
    expect(Buffer.from(fetched.weights.buffer).equals(Buffer.from(bytes))).toBe(true);
  });

  it('pushes an update in acknowledged chunks and stops at a refusal', async () => {
    const bus = new InProcessBus(32 * 1024);
    const received: number[] = [];
    bus.subscribe('results', (m) => {
      const frame = decodeFrameOf(m.data, 'result-chunk');
      received.push(frame.header.chunk);
      m.respond(encodeFrame('ack', frame.header.chunk < 2 ? { ok: true } : { ok: false, error: 'enough' }));
    });
    const update = new Float32Array(40_000);
    const meta = {
      transferId: 't',
      workerId: 'w',
      round: 1,
      clientId: 0,
      grant: 'f'.repeat(32),
      report: { samples: 1, steps: 1, loss: 0, trainMs: 0, backend: 'cpu' },
    };
    await expect(sendUpdate(bus, 'results', meta, update)).rejects.toThrow(/refused update of client 0: enough/);
    expect(received).toEqual([0, 1, 2]);
  });
});
