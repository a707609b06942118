/**
 * The update receiver's rules, over the in-process bus (a fake of NATS for logic tests): a
 * client's frames count only from the worker granted its claim; frames from anyone else are
 * refused, counted, and never disturb the genuine transfer; the granted worker's update must
 * state the client's partition size; a restarted transfer (chunk 0 again) replaces the old one.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FrameRefusals } from '../../coordinator/transport/frame-refusals.js';
import { newSecret } from '../../coordinator/transport/secrets.js';
import { UpdateReceiver, type ReceivedUpdate } from '../../coordinator/transport/update-receiver.js';
import { InProcessBus } from '../../shared/bus/in-process-bus.js';
import { decodeFrameOf, encodeFrame, float32Bytes } from '../../shared/protocol/frame.js';
import { sendUpdate } from '../../shared/protocol/transfers.js';

const LENGTH = 12_000;
const SAMPLES = 60;

function harness() {
  // 16 KiB messages: a 48 KB update crosses in several chunks.
  const bus = new InProcessBus(16 * 1024);
  const refusals = new FrameRefusals();
  const receiver = new UpdateReceiver(bus, 'results', refusals, pino({ level: 'silent' }));
  const grant = newSecret();
  const accepted: ReceivedUpdate[] = [];
  const rejected: string[] = [];
  const awaited = new Set([7]);
  receiver.start();
  receiver.open({
    round: 1,
    isAwaited: (clientId) => awaited.has(clientId),
    grantOf: (clientId) => (clientId === 7 ? { workerId: 'w1', grant } : undefined),
    samplesOf: () => SAMPLES,
    rules: { expectedLength: LENGTH },
    onAccepted: (update) => {
      awaited.delete(update.clientId);
      accepted.push(update);
    },
    onRejected: (clientId, _workerId, reason) => {
      awaited.delete(clientId);
      rejected.push(reason);
    },
  });
  const report = (samples = SAMPLES) => ({ samples, steps: 6, loss: 0.1, trainMs: 1, backend: 'cpu' });
  const chunk = async (header: { workerId: string; grant: string; chunk: number; chunks: number; totalBytes: number }, payload: Uint8Array) => {
    const frame = encodeFrame(
      'result-chunk',
      { transferId: 't', round: 1, clientId: 7, ...header, ...(header.chunk === 0 ? { report: report() } : {}) },
      payload,
    );
    return decodeFrameOf(await bus.request('results', frame, 1_000), 'ack').header;
  };
  return { bus, refusals, grant, accepted, rejected, report, chunk };
}

const update = Float32Array.from({ length: LENGTH }, (_, i) => (i % 7) * 1e-3);

describe('update receiver', () => {
  it('takes the granted worker’s update while forged frames for the same client are refused and counted', async () => {
    const h = harness();
    const bytes = float32Bytes(update);
    const totalBytes = bytes.byteLength;
    // The genuine transfer's first chunk, then forgeries in the middle of it.
    expect(await h.chunk({ workerId: 'w1', grant: h.grant, chunk: 0, chunks: 4, totalBytes }, bytes.subarray(0, 12_000))).toEqual({ ok: true });
    expect((await h.chunk({ workerId: 'w1', grant: newSecret(), chunk: 1, chunks: 4, totalBytes }, new Uint8Array(4))).ok).toBe(false);
    expect((await h.chunk({ workerId: 'w2', grant: h.grant, chunk: 0, chunks: 1, totalBytes: 4 }, new Uint8Array(4))).ok).toBe(false);
    for (let c = 1; c < 4; c++) {
      const reply = await h.chunk({ workerId: 'w1', grant: h.grant, chunk: c, chunks: 4, totalBytes }, bytes.subarray(c * 12_000, (c + 1) * 12_000));
      expect(reply).toEqual({ ok: true });
    }
    expect(h.accepted.map((u) => [u.clientId, u.workerId, u.report.samples])).toEqual([[7, 'w1', SAMPLES]]);
    expect(Array.from(h.accepted[0]!.delta)).toEqual(Array.from(update));
    expect(h.rejected).toEqual([]);
    expect(h.refusals.take()).toEqual({ 'not-granted': 2 });
    // A duplicate after acceptance is refused as not awaited, and counted.
    expect((await h.chunk({ workerId: 'w1', grant: h.grant, chunk: 0, chunks: 4, totalBytes }, bytes.subarray(0, 12_000))).ok).toBe(false);
    expect(h.refusals.take()).toEqual({ 'not-awaited': 1 });
  });

  it('refuses a malformed frame and an out-of-order chunk without removing the client; a restarted transfer is taken', async () => {
    const h = harness();
    expect((await h.bus.request('results', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), 1_000)).byteLength).toBeGreaterThan(0);
    const bytes = float32Bytes(update);
    const totalBytes = bytes.byteLength;
    expect((await h.chunk({ workerId: 'w1', grant: h.grant, chunk: 2, chunks: 4, totalBytes }, bytes.subarray(0, 12_000))).ok).toBe(false);
    expect(h.refusals.take()).toEqual({ malformed: 1, transfer: 1 });
    expect(h.rejected).toEqual([]);
    // The worker resends from chunk 0 (after a timeout, say): the transfer starts afresh.
    await sendUpdate(h.bus, 'results', { transferId: 'retry', workerId: 'w1', round: 1, clientId: 7, grant: h.grant, report: h.report() }, update);
    expect(h.accepted).toHaveLength(1);
  });

  it('rejects the granted worker’s update when its report misstates the partition size', async () => {
    const h = harness();
    await expect(
      sendUpdate(h.bus, 'results', { transferId: 't', workerId: 'w1', round: 1, clientId: 7, grant: h.grant, report: h.report(1e9) }, update),
    ).rejects.toThrow(/training report states 1000000000 samples, client 7's partition has 60/);
    expect(h.rejected).toHaveLength(1);
    expect(h.accepted).toEqual([]);
  });
});

describe('evaluation reports on the results subject', () => {
  it("take only the granted worker's report stating the held-out size; forgeries are refused and counted", async () => {
    const bus = new InProcessBus(16 * 1024);
    const refusals = new FrameRefusals();
    const receiver = new UpdateReceiver(bus, 'results', refusals, pino({ level: 'silent' }));
    const grant = newSecret();
    const reports: number[] = [];
    const awaited = new Set([3]);
    receiver.start();
    receiver.openEvaluation({
      round: 2,
      isAwaited: (id) => awaited.has(id),
      grantOf: (id) => (id === 3 ? { workerId: 'w1', grant } : undefined),
      heldOutOf: () => 15,
      onReport: (report) => {
        awaited.delete(report.clientId);
        reports.push(report.accuracy!);
      },
    });
    const send = async (fields: Partial<{ workerId: string; grant: string; round: number; clientId: number; samples: number }>) =>
      decodeFrameOf(
        await bus.request(
          'results',
          encodeFrame('evaluation-report', { workerId: 'w1', grant, round: 2, clientId: 3, samples: 15, loss: 0.5, accuracy: 0.8, ...fields }),
          1_000,
        ),
        'ack',
      ).header;
    expect((await send({ workerId: 'w2' })).ok).toBe(false);
    expect((await send({ grant: newSecret() })).ok).toBe(false);
    expect((await send({ samples: 1e9 })).error).toBe('evaluation report states 1000000000 samples, client 3 holds out 15');
    expect((await send({ round: 1 })).ok).toBe(false);
    expect(reports).toEqual([]);
    expect(await send({})).toEqual({ ok: true });
    expect((await send({})).ok).toBe(false);
    expect(reports).toEqual([0.8]);
    expect(refusals.take()).toEqual({ 'not-granted': 2, malformed: 1, 'round-closed': 1, 'not-awaited': 1 });
    receiver.closeEvaluation();
    expect((await send({})).error).toBe("round 2's evaluation is closed");
  });
});
