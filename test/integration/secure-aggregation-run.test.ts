/**
 * Secure aggregation in real runs: SecAgg+ over a real nats-server with 2 worker processes gives
 * the plain run's model up to fixed-point rounding while the coordinator only ever holds masked
 * vectors; a worker killed mid-protocol costs its clients (or the round, below threshold) and the
 * run goes on; and, over the bus, a tampered relay, a forged sender and a plain update are all
 * refused. The core's own refusals (tampered ciphertexts, truncated frames, unsafe unmask
 * requests, below-threshold aborts) are in test/unit/secure-aggregation.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { runSimulation, type RunSummary } from '../../app/run/run-simulation.js';
import { SecureAggregation, type SecureRound } from '../../coordinator/secure-aggregation/secure-aggregation.js';
import type { SecAggSettings } from '../../coordinator/secure-aggregation/secure-aggregation-settings.js';
import { FrameRefusals } from '../../coordinator/transport/frame-refusals.js';
import { newSecret } from '../../coordinator/transport/secrets.js';
import { UpdateReceiver, type ReceivedPayload } from '../../coordinator/transport/update-receiver.js';
import { SecureAggregationHost } from '../../client/secure-aggregation/secure-aggregation-host.js';
import type { Bus } from '../../shared/bus/bus.js';
import { InProcessBus } from '../../shared/bus/in-process-bus.js';
import { decodeFrameOf, encodeFrame } from '../../shared/protocol/frame.js';
import { subjects } from '../../shared/protocol/messages.js';
import { concatEntries, sendUpdate, splitEntries } from '../../shared/protocol/transfers.js';
import { Rng } from '../../shared/random.js';
import { ScenarioError, validateScenario } from '../../shared/scenario/load-scenario.js';
import {
  decodeSecAggMessage,
  encodeSecAggMessage,
  maskedWords,
  SecAggClient,
  type SecAggMessage,
  type UnmaskingShares,
} from '../../shared/secure-aggregation/index.js';
import { useTestNatsServer } from '../support/nats-harness.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const nats = useTestNatsServer();

function readWeights(summary: RunSummary): Float32Array {
  return new Float32Array(readFileSync(join(summary.runDir, 'model/weights.bin')).buffer.slice(0));
}

/** χ² of the top bytes of 32-bit words against uniform (255 degrees of freedom). */
function topByteChiSquare(words: Uint32Array): number {
  const bins = new Float64Array(256);
  for (const w of words) bins[w >>> 24]!++;
  const expected = words.length / 256;
  return bins.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
}

describe('secure aggregation over NATS', () => {
  it('SecAgg+ for 3 rounds gives the plain run’s model up to fixed-point rounding; the coordinator holds only masked vectors', async () => {
    const bits = 20;
    const secureScenario = tinyMnistScenario({
      name: 'it-secagg',
      privacy: { secureAggregation: { variant: 'secagg+', clipNorm: 1, bits } },
      system: { natsUrl: nats.url, workers: 2, backend: 'cpu' },
    });
    const payloads: ReceivedPayload[] = [];
    const messages: { message: SecAggMessage; clientId: number }[] = [];
    const secure = await runSimulation(secureScenario, {
      logLevel: 'silent',
      progress: false,
      onCoordinator: (coordinator) =>
        coordinator.inspect({
          onPayload: (p) => payloads.push({ ...p, bytes: p.bytes.slice() }),
          // Decoded fields are views into receive buffers: keep copies.
          onSecAggMessage: (message, clientId) => messages.push({ message: decodeSecAggMessage(encodeSecAggMessage(message)), clientId }),
        }),
    });
    // The same seed without secure aggregation; the cpu backend gives the same training over either bus.
    const plain = await runSimulation(tinyMnistScenario({ name: 'it-secagg-plain', system: { transport: 'in-process', backend: 'cpu' } }), {
      logLevel: 'silent',
      progress: false,
    });

    expect(secure.status, secure.error).toBe('completed');
    expect(secure.transport.kind).toBe('nats');
    expect(secure.workers.count).toBe(2);
    const metrics = readRoundMetrics(secure.runDir);
    expect(metrics).toHaveLength(3);
    for (const m of metrics) {
      expect(m.secureAggregation).toMatchObject({ variant: 'secagg+', cohort: 4, survivors: 4, aborted: false, bits, clipRange: 1 });
      expect(m.secureAggregation!.droppedAt).toEqual({ advertiseKeys: 0, shareKeys: 0, maskedInput: 0, unmasking: 0 });
      expect(m.secureAggregation!.serverMs).toBeGreaterThan(0);
      expect(m.secureAggregation!.bytesUp).toBeGreaterThan(4 * 4 * secure.parameters);
      expect(m.completed).toBe(4);
      expect(m.dropped).toBe(0);
    }
    // IID clients of equal size: uniform weights are FedAvg's weights, so only the rounding differs.
    // Each round's mean moves by at most half a step per coordinate; training carries that over.
    const step = 1 / (2 ** (bits - 1) - 1);
    expect(Math.abs(secure.finalTestAccuracy! - plain.finalTestAccuracy!)).toBeLessThanOrEqual(0.01);
    const a = readWeights(plain);
    const b = readWeights(secure);
    expect(b.length).toBe(a.length);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    expect(maxDiff).toBeLessThan(4 * step);

    // What the coordinator held: 12 masked inputs and nothing else on the update path …
    expect(payloads).toHaveLength(12);
    for (const p of payloads) {
      expect(p.encoding).toBe('secagg-masked');
      const words = maskedWords(decodeSecAggMessage(p.bytes, 'masked-input'));
      // … each indistinguishable from uniform words (a raw fixed-point update at 20 bits has all its top bytes at 0x00 or 0xff).
      const chi2 = topByteChiSquare(words);
      expect(chi2).toBeGreaterThan(161);
      expect(chi2).toBeLessThan(378);
    }
    // … and only keys, sealed shares, masked vectors and one secret per client in each round.
    expect(new Set(messages.map((m) => m.message.type))).toEqual(new Set(['advertise-keys', 'encrypted-shares', 'masked-input', 'unmasking-shares']));
    for (const round of [1, 2, 3]) {
      const unmasking = messages.map((m) => m.message).filter((m): m is UnmaskingShares => m.type === 'unmasking-shares' && m.round === round);
      const selfOwners = new Set(unmasking.flatMap((m) => m.selfMaskShares.map((s) => s.owner)));
      const keyOwners = new Set(unmasking.flatMap((m) => m.keyShares.map((s) => s.owner)));
      expect([...selfOwners].filter((o) => keyOwners.has(o))).toEqual([]);
    }
  }, 180_000);

  it('survives a worker killed mid-protocol: the round sums the survivors or aborts with a reason, and the run goes on', async () => {
    const scenario = tinyMnistScenario({
      name: 'it-secagg-kill',
      training: { epochs: 4, batchSize: 10, learningRate: 0.1 },
      privacy: { secureAggregation: { clipNorm: 1, stepTimeoutSeconds: 5 } },
      system: { natsUrl: nats.url, workers: 2, backend: 'cpu', roundTimeoutSeconds: 20 },
    });
    let pids: number[] = [];
    const trainedInRound2: string[] = [];
    let killedWorker: string | null = null;
    const started = Date.now();
    const summary = await runSimulation(scenario, {
      logLevel: 'silent',
      progress: false,
      onWorkersStarted: (p) => (pids = p),
      onClientEvent: (event) => {
        if (event.round !== 2 || event.state !== 'done' || killedWorker) return;
        trainedInRound2.push(event.workerId!);
        // Every client of round 2 has trained and advertised its keys: the protocol starts now,
        // and the worker that hosted the last one dies before it can share its keys.
        if (trainedInRound2.length === 4) {
          killedWorker = event.workerId!;
          const index = Number(/-w(\d+)-\d+$/.exec(killedWorker)![1]) - 1;
          process.kill(pids[index]!, 'SIGKILL');
        }
      },
    });
    expect(summary.status, summary.error).toBe('completed');
    expect(summary.roundsCompleted).toBe(3);
    expect(killedWorker).not.toBeNull();
    const metrics = readRoundMetrics(summary.runDir);
    const lost = trainedInRound2.filter((w) => w === killedWorker).length;
    const round2 = metrics[1]!;
    const secure2 = round2.secureAggregation!;
    expect(secure2.droppedAt.advertiseKeys).toBe(0);
    if (secure2.aborted) {
      // Too few holders left (or the survivors' graph fell apart): nothing is learned from the round.
      expect(secure2.abortReason).toMatch(/threshold|holders|components/);
      expect(round2.completed).toBe(0);
      expect(round2.testAccuracy).toBe(metrics[0]!.testAccuracy);
      expect(round2.testLoss).toBe(metrics[0]!.testLoss);
    } else {
      expect(secure2.survivors).toBe(4 - lost);
      expect(secure2.droppedAt.shareKeys).toBe(lost);
      expect(round2.completed).toBe(4 - lost);
      expect(round2.dropped).toBe(lost);
      expect(round2.workers).toBe(1);
    }
    // The survivor carries round 3 alone.
    expect(metrics[2]!.secureAggregation).toMatchObject({ aborted: false, survivors: 4 });
    expect(metrics[2]!.completed).toBe(4);
    expect(metrics[2]!.workers).toBe(1);
    expect(metrics[0]!.workers).toBe(2);
    expect(Date.now() - started).toBeLessThan(90_000);
  }, 180_000);
});

describe('secure aggregation with central DP', () => {
  it('noises the unmasked sum as DP-FedAvg does, with adaptive clipping counting unclipped clients inside the sum', async () => {
    // q = 1 and the same seed: both runs draw the same noise; only fixed-point rounding differs.
    const dp = { clipNorm: 2, noiseMultiplier: 0.5, clipping: 'adaptive' as const };
    const common = { clientsPerRound: 10, system: { transport: 'in-process' as const, backend: 'cpu' as const } };
    const plain = await runSimulation(tinyMnistScenario({ ...common, name: 'it-dp-plain', privacy: { dp, membershipInference: false } }), {
      logLevel: 'silent',
      progress: false,
    });
    const secure = await runSimulation(
      tinyMnistScenario({ ...common, name: 'it-dp-secagg', privacy: { dp, secureAggregation: { clipNorm: 1 }, membershipInference: false } }),
      { logLevel: 'silent', progress: false },
    );
    expect(secure.status, secure.error).toBe('completed');
    const a = readRoundMetrics(plain.runDir);
    const b = readRoundMetrics(secure.runDir);
    expect(b.map((m) => m.secureAggregation?.survivors)).toEqual([10, 10, 10]);
    // The clip bit travels masked, yet the noised unclipped fraction, the next clip norm and ε are the same.
    expect(b.map((m) => m.privacy)).toEqual(a.map((m) => m.privacy));
    const x = readWeights(plain);
    const y = readWeights(secure);
    let maxDiff = 0;
    for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i]! - y[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(secure.privacy?.epsilon).toBe(plain.privacy?.epsilon);
  }, 120_000);

  it('aborts a round whose Poisson cohort is too small to hide in, keeps the model, charges ε and goes on', async () => {
    // q = 0.2 over 10 clients: this seed draws cohorts of 1, 4, 1 and 2.
    const scenario = tinyMnistScenario({
      name: 'it-secagg-abort',
      rounds: 4,
      clientsPerRound: 2,
      privacy: { dp: { clipNorm: 5, noiseMultiplier: 1 }, secureAggregation: { clipNorm: 1 }, membershipInference: false },
      system: { transport: 'in-process', backend: 'cpu' },
    });
    const summary = await runSimulation(scenario, { logLevel: 'silent', progress: false });
    expect(summary.status, summary.error).toBe('completed');
    const metrics = readRoundMetrics(summary.runDir);
    expect(metrics.map((m) => m.selected)).toEqual([1, 4, 1, 2]);
    expect(metrics.map((m) => m.secureAggregation!.aborted)).toEqual([true, false, true, false]);
    expect(metrics[2]!.secureAggregation!.abortReason).toBe(
      "a cohort of 1 client: secure aggregation needs at least 2, or the sum would be one client's update",
    );
    expect(metrics[2]).toMatchObject({ completed: 0, dropped: 1, trainLoss: null });
    // Nothing was learned from round 3, but its ε was spent all the same.
    expect(metrics[2]!.testAccuracy).toBe(metrics[1]!.testAccuracy);
    expect(metrics[2]!.testLoss).toBe(metrics[1]!.testLoss);
    const epsilons = metrics.map((m) => m.privacy!.epsilon);
    for (let i = 1; i < epsilons.length; i++) expect(epsilons[i]!).toBeGreaterThan(epsilons[i - 1]!);
    expect(metrics[3]!.completed).toBe(2);
    expect(summary.secureAggregation).toMatchObject({ variant: 'secagg+', rounds: 4, aborted: 2, meanCohort: 2, meanSurvivors: 1.5 });
    expect(summary.secureAggregation!.abortReasons).toEqual([
      "a cohort of 1 client: secure aggregation needs at least 2, or the sum would be one client's update",
    ]);
  }, 120_000);
});

/**
 * The transport without training: the coordinator's SecureAggregation and two workers'
 * SecureAggregationHosts on an in-process bus, fed synthetic updates.
 */
describe('secure aggregation transport: tampering and forgery', () => {
  const L = 500;
  const settings: SecAggSettings = { variant: 'secagg', thresholdFraction: 0.5, clip: 1, dropoutRate: 0.1, stepTimeoutMs: 2_000, countUnclipped: false };
  const cohort = [0, 1, 2, 3, 4, 5];
  const hostOf = (clientId: number) => (clientId < 3 ? 'w1' : 'w2');
  /** Each client's claim grant, as the dispatcher would have handed it to its host. */
  const grants = new Map(cohort.map((clientId) => [clientId, newSecret()]));
  const grantOf = (clientId: number) => grants.get(clientId)!;
  const rng = new Rng(5);
  const updates = new Map(cohort.map((id) => [id, Float32Array.from({ length: L }, () => rng.uniform(-0.5, 0.5))]));
  const report = { samples: 10, steps: 1, loss: 0.5, trainMs: 1, backend: 'none' };

  /** `tamper`: rewrites what the coordinator sends to the workers, or drops it (null): a man in the middle of the relay. */
  function harness(tamper?: (clientId: number, message: SecAggMessage) => SecAggMessage | null) {
    const inner = new InProcessBus(64 * 1024);
    const s = subjects('secagg-transport');
    const coordinatorBus: Bus = !tamper
      ? inner
      : Object.assign(Object.create(inner) as Bus, {
          request: (subject: string, data: Uint8Array, timeoutMs: number) => {
            if (!subject.startsWith(`${s.secAgg}.`)) return inner.request(subject, data, timeoutMs);
            const frame = decodeFrameOf(data, 'secagg-to-clients');
            const entries = splitEntries(frame.header.messages, frame.payload).flatMap((e) => {
              const message = tamper(e.clientId, decodeSecAggMessage(e.data));
              return message ? [{ clientId: e.clientId, bytes: encodeSecAggMessage(message) }] : [];
            });
            if (entries.length === 0) return Promise.resolve(encodeFrame('ack', { ok: true }));
            const forged = encodeFrame(
              'secagg-to-clients',
              { round: frame.header.round, messages: entries.map((e) => ({ clientId: e.clientId, bytes: e.bytes.length })) },
              concatEntries(entries),
            );
            return inner.request(subject, forged, timeoutMs);
          },
        });
    const log = pino({ level: 'silent' });
    const secure = new SecureAggregation({
      bus: coordinatorBus,
      subjects: s,
      settings,
      session: 'transport-test',
      seed: 3,
      refusals: new FrameRefusals(),
      log,
    });
    const receiver = new UpdateReceiver(inner, s.results, new FrameRefusals(), log);
    const hosts = new Map(['w1', 'w2'].map((workerId) => [workerId, new SecureAggregationHost({ bus: inner, subjects: s, workerId, log })]));
    secure.start();
    receiver.start();
    hosts.forEach((h) => h.start());
    const trained = new Set<number>();
    const round: SecureRound = secure.beginRound(1, cohort, L, { onTrained: (clientId) => trained.add(clientId) });
    const rejected: string[] = [];
    receiver.open({
      round: 1,
      isAwaited: (clientId) => round.maskedAwaited.has(clientId),
      grantOf: (clientId) => ({ workerId: hostOf(clientId), grant: grantOf(clientId) }),
      samplesOf: () => report.samples,
      rules: { expectedLength: L },
      masked: round.maskedIntake,
      onAccepted: () => {},
      onRejected: (clientId, _workerId, reason) => {
        rejected.push(reason);
        round.refused(clientId);
      },
    });
    for (const clientId of cohort) round.assign(clientId, hostOf(clientId), grantOf(clientId));
    const train = async (clientId: number) => {
      const task = { round: 1, clientId, seed: 0, deadline: Date.now() + 60_000, claimToken: newSecret(), secureAggregation: round.taskFor(clientId) };
      await hosts.get(hostOf(clientId))!.advertise(task, grantOf(clientId), updates.get(clientId)!.slice(), undefined, report);
    };
    const close = () => {
      secure.stop();
      receiver.stop();
      hosts.forEach((h) => h.stop());
    };
    return { bus: inner, s, round, train, trained, rejected, close };
  }

  function expectSumOf(sum: Float32Array, clients: number[]) {
    const step = settings.clip / (2 ** (32 - 3 - 1) - 1); // n = 6 leaves 29 bits
    for (let j = 0; j < L; j++) {
      const exact = clients.reduce((acc, id) => acc + updates.get(id)![j]!, 0);
      expect(Math.abs(sum[j]! - exact)).toBeLessThanOrEqual(clients.length * step + 1e-6);
    }
  }

  it('relays every step between coordinator and workers and rebuilds the exact sum', async () => {
    const h = harness();
    await Promise.all(cohort.map(h.train));
    expect([...h.trained].sort()).toEqual(cohort);
    const result = await h.round.complete();
    h.close();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.survivors).toEqual(cohort);
    expectSumOf(result.sum, cohort);
    expect(result.metrics.refused).toBe(0);
  });

  it('a share pair tampered with on the relay is refused by its client, which drops out; the others are summed', async () => {
    const h = harness((clientId, message) => {
      if (message.type !== 'share-delivery' || clientId !== 4) return message;
      const ciphertext = message.shares[0]!.ciphertext.slice();
      ciphertext[0]! ^= 1;
      return { ...message, shares: [{ ...message.shares[0]!, ciphertext }, ...message.shares.slice(1)] };
    });
    await Promise.all(cohort.map(h.train));
    const result = await h.round.complete();
    h.close();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    // Client 4 would not mask with a share it cannot authenticate; its pairwise masks are removed via its neighbours' shares.
    expect(result.survivors).toEqual([0, 1, 2, 3, 5]);
    expect(result.metrics.droppedAt.maskedInput).toBe(1);
    expectSumOf(result.sum, [0, 1, 2, 3, 5]);
  });

  it('below the threshold the round aborts with the reason, and the sum is never formed', async () => {
    const h = harness();
    // t = 3 of 6 for SecAgg at τ = 0.5; only two clients finish training.
    await Promise.all([0, 4].map(h.train));
    const result = await h.round.complete();
    h.close();
    expect(result.ok).toBe(false);
    expect(Object.keys(result)).toEqual(['ok', 'metrics']);
    expect(result.metrics).toMatchObject({
      aborted: true,
      abortStep: 'advertise-keys',
      abortReason: 'only 2 of 6 clients advertised keys; threshold is 3',
      survivors: 2,
      droppedAt: { advertiseKeys: 4, shareKeys: 0, maskedInput: 0, unmasking: 0 },
    });
  });

  it('refuses a worker speaking for a client it does not host, a mislabelled sender, and a plain update in a secure round', async () => {
    // Client 5's share delivery never reaches its worker, so the only update that comes for it is the plain one below.
    const h = harness((clientId, message) => (message.type === 'share-delivery' && clientId === 5 ? null : message));
    // w2 claims client 0 (hosted by w1), with a well-formed key advertisement.
    const impostor = new SecAggClient(h.round.taskFor(0).config, 0).advertiseKeys();
    const send = async (workerId: string, clientId: number, message: SecAggMessage, grant = grantOf(clientId)) => {
      const bytes = encodeSecAggMessage(message);
      const frame = encodeFrame('secagg-from-clients', { workerId, round: 1, messages: [{ clientId, grant, bytes: bytes.length, report }] }, bytes);
      return decodeFrameOf(await h.bus.request(h.s.secAgg, frame, 2_000), 'ack').header;
    };
    expect((await send('w2', 0, impostor, newSecret())).error).toMatch(/client 0: worker w2 does not host it \(worker w1 does\)/);
    // The right worker's id, without the grant of its claim (a forger who learnt the id).
    expect((await send('w1', 0, impostor, newSecret())).error).toMatch(/client 0: worker w1 does not present the grant of client 0's claim/);
    // The right worker, but the message says it comes from index 1.
    const mislabelled = new SecAggClient(h.round.taskFor(1).config, 1).advertiseKeys();
    expect((await send('w1', 0, mislabelled)).error).toMatch(/claims to be from index 1; its index is 0/);
    // A truncated message.
    const truncated = encodeSecAggMessage(impostor).subarray(0, 40);
    const frame = encodeFrame(
      'secagg-from-clients',
      { workerId: 'w1', round: 1, messages: [{ clientId: 2, grant: grantOf(2), bytes: truncated.length, report }] },
      truncated,
    );
    expect(decodeFrameOf(await h.bus.request(h.s.secAgg, frame, 2_000), 'ack').header.error).toMatch(/client 2: .*(truncated|needs|remain)/i);

    await Promise.all([1, 3, 4, 5].map(h.train));
    const result = h.round.complete();
    // While masked inputs are awaited, a plain float32 update for an awaited client is refused unread.
    await new Promise<void>((resolve) => {
      const poll = () => (h.round.maskedAwaited.has(5) ? resolve() : setTimeout(poll, 1));
      poll();
    });
    await expect(
      sendUpdate(h.bus, h.s.results, { transferId: 'plain', workerId: 'w2', round: 1, clientId: 5, grant: grantOf(5), report }, updates.get(5)!),
    ).rejects.toThrow(/uses secure aggregation and takes masked inputs only \(got a float32 update\)/);
    const outcome = await result;
    h.close();
    expect(h.rejected).toEqual([expect.stringMatching(/takes masked inputs only/)]);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    // 0 and 2 never advertised (their messages were refused); 5 sent no masked input, and its masks are removed with its neighbours' shares.
    expect(outcome.survivors).toEqual([1, 3, 4]);
    expectSumOf(outcome.sum, [1, 3, 4]);
    expect(outcome.metrics.refused).toBeGreaterThanOrEqual(4);
  });
});

describe('privacy.secureAggregation in scenarios', () => {
  const base = {
    name: 'v',
    seed: 1,
    dataset: { name: 'mnist', trainLimit: 100 },
    partition: { kind: 'iid', clients: 10 },
    model: { name: 'mlp', hidden: [8] },
    rounds: 1,
    clientsPerRound: 4,
    training: { epochs: 1, batchSize: 10, learningRate: 0.1 },
  };
  const problems = (overrides: Record<string, unknown>): string[] => {
    try {
      validateScenario({ ...base, ...overrides });
      return [];
    } catch (error) {
      if (error instanceof ScenarioError) return error.problems;
      throw error;
    }
  };

  it('fills in defaults, and takes clipNorm from central DP', () => {
    const s = validateScenario({ ...base, privacy: { secureAggregation: { clipNorm: 0.5 } } });
    expect(s.privacy.secureAggregation).toEqual({ variant: 'secagg+', thresholdFraction: 0.5, clipNorm: 0.5, dropoutRate: 0.1, stepTimeoutSeconds: 30 });
    expect(problems({ privacy: { dp: { clipNorm: 1, noiseMultiplier: 1 }, secureAggregation: {} } })).toEqual([]);
  });

  it('refuses what cannot work with it, saying why', () => {
    expect(problems({ privacy: { secureAggregation: {} } })).toEqual([
      expect.stringMatching(/^privacy\.secureAggregation\.clipNorm: missing \(expected c > 0/),
    ]);
    expect(problems({ privacy: { secureAggregation: { clipNorm: 1 } }, compression: { update: [{ codec: 'fp16' }] } })).toEqual([
      expect.stringMatching(
        /^compression\.update: the pairwise masks cover every coordinate .* \(got fp16 with privacy\.secureAggregation, expected no update compression\)$/,
      ),
    ]);
    expect(problems({ privacy: { dp: { mode: 'local', clipNorm: 1, noiseMultiplier: 1 }, secureAggregation: {} } })).toEqual([
      expect.stringMatching(/^privacy\.dp\.mode: local noise is pointless under secure aggregation.*\(got 'local' .*expected 'central'\)$/),
    ]);
    expect(problems({ strategy: { maxUpdateNorm: 5 }, privacy: { secureAggregation: { clipNorm: 1 } } })).toEqual([
      expect.stringMatching(/^strategy\.maxUpdateNorm: .*\(got 5, expected no maxUpdateNorm\)$/),
    ]);
    expect(problems({ clientsPerRound: 1, privacy: { secureAggregation: { clipNorm: 1 } } })).toEqual([
      expect.stringMatching(/^clientsPerRound: .*\(got a cohort of 1, expected ≥ 2\)$/),
    ]);
    expect(problems({ privacy: { secureAggregation: { clipNorm: 1, bits: 31 } } })).toEqual([
      'privacy.secureAggregation.bits: the sum of up to 4 clients needs 2 more bits in the 2^32 modulus (got 31, expected at most 30)',
    ]);
    const devices = { population: [{ profile: 'laptop', share: 1 }] };
    expect(
      problems({ privacy: { secureAggregation: { clipNorm: 1 } }, system: { devices, stragglers: { policy: 'partial-work', deadlineSeconds: 1 } } }),
    ).toEqual([
      expect.stringMatching(
        /^system\.stragglers\.policy: partial-work weights each update .*\(got 'partial-work' .*expected wait-all, deadline or over-select\)$/,
      ),
    ]);
    expect(problems({ privacy: { secureAggregation: { clipNorm: 1 } }, system: { devices, stragglers: { policy: 'deadline', deadlineSeconds: 1 } } })).toEqual(
      [],
    );
  });
});
