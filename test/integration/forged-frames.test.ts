/**
 * An attacker on the bus of a run's private nats-server, logged in as one of the run's worker
 * users (what a compromised worker machine has), who knows the honest worker's id (the worst
 * case): it forges updates for every client (samples 1e9), sends 4-byte wrong-length chunks
 * meant to evict genuine updates, forges claims and run-end / heartbeat messages, and tries to
 * read other workers' replies and the results. None of it changes the run: its metrics equal a
 * clean run's bit for bit (cpu backend), and every forged frame is counted in `refusedFrames`.
 * An anonymous client cannot connect at all.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../app/run/run-simulation.js';
import { Worker } from '../../client/worker.js';
import { NatsBus } from '../../shared/bus/nats-bus.js';
import { openTransport, type Transport } from '../../shared/bus/open-transport.js';
import { encodeFrame } from '../../shared/protocol/frame.js';
import { subjects } from '../../shared/protocol/messages.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const silent = pino({ level: 'silent' });
const HONEST_ID = 'honest-1';
const FORGED_GRANT = 'ab'.repeat(16);

interface Attacker {
  stop(): Promise<{ framesSent: number; repliesRead: number }>;
}

/** Forges every kind of frame a worker user can publish, for every client and round, until stopped. */
async function startAttacker(transport: Transport, scenario: Scenario): Promise<Attacker> {
  const bus = await NatsBus.connect(transport.natsUrl!, 'attacker', undefined, transport.workerLogin(1)!);
  const s = subjects(scenario.name);
  let repliesRead = 0;
  // Permissions refuse both subscriptions; were they granted, these would see others' grants and updates.
  bus.subscribe('_INBOX.>', () => (repliesRead += 1));
  bus.subscribe(s.results, () => (repliesRead += 1));
  let running = true;
  let framesSent = 0;
  const forge = async () => {
    const parameters = 784 * 32 + 32 + 32 * 10 + 10;
    const poison = new Uint8Array(new Float32Array(parameters).fill(1e3).buffer);
    while (running) {
      for (let round = 1; round <= scenario.rounds; round++) {
        for (let clientId = 0; clientId < scenario.partition.clients; clientId++) {
          const base = { transferId: `forged-${round}-${clientId}`, workerId: HONEST_ID, round, clientId, grant: FORGED_GRANT, chunk: 0, chunks: 1 };
          const report = { samples: 1e9, steps: 1, loss: 0, trainMs: 1, backend: 'cpu' };
          const frames = [
            encodeFrame('result-chunk', { ...base, totalBytes: poison.byteLength, report }, poison),
            encodeFrame('result-chunk', { ...base, totalBytes: 4, report }, new Uint8Array(4)),
            encodeFrame('task-claim', { workerId: 'attacker', round, clientId, delivery: 1, claimToken: FORGED_GRANT }),
          ];
          const replies = frames.map((frame, i) => bus.request(i < 2 ? s.results : s.claim, frame, 2_000).catch(() => null));
          framesSent += frames.length;
          await Promise.all(replies);
        }
      }
      bus.publish(s.control, encodeFrame('run-end', { reason: 'forged' }));
      bus.publish(s.control, encodeFrame('heartbeat', {}));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const forging = forge().catch(() => {});
  return {
    stop: async () => {
      running = false;
      await forging;
      await bus.close();
      return { framesSent, repliesRead };
    },
  };
}

async function run(attacked: boolean) {
  const scenario = tinyMnistScenario({ name: 'it-forgery', rounds: 3, system: { transport: 'nats', workers: 1, backend: 'cpu', roundTimeoutSeconds: 120 } });
  const transport = await openTransport(scenario.system, silent, { name: scenario.name, workers: 2 });
  try {
    const honestBus = await NatsBus.connect(transport.natsUrl!, 'honest', undefined, transport.workerLogin(0)!);
    const worker = new Worker({ bus: honestBus, runName: scenario.name, log: silent, workerId: HONEST_ID, backend: 'cpu' });
    const working = worker.run();
    const attacker = attacked ? await startAttacker(transport, scenario) : null;
    const summary = await runSimulation(scenario, { logLevel: 'silent', progress: false, pool: { transport, workers: 1 } });
    await working;
    await honestBus.close();
    const seen = await attacker?.stop();
    expect(summary.status, summary.error).toBe('completed');
    return { metrics: readRoundMetrics(summary.runDir), seen, transport };
  } finally {
    await transport.close();
  }
}

describe('forged frames on the private nats-server', () => {
  it('change nothing: the attacked run equals the clean one, and every forgery is refused and counted', async () => {
    const clean = await run(false);
    const attacked = await run(true);
    const results = (metrics: typeof clean.metrics) => metrics.map((m) => [m.selectedClients, m.completed, m.trainLoss, m.testLoss, m.testAccuracy]);
    expect(results(attacked.metrics)).toEqual(results(clean.metrics));
    for (const m of attacked.metrics) expect([m.completed, m.rejected, m.dropped]).toEqual([m.selected, 0, 0]);
    const refused = (kind: string) => attacked.metrics.reduce((sum, m) => sum + ((m.refusedFrames as Record<string, number>)[kind] ?? 0), 0);
    // Forged updates and eviction chunks for awaited clients, and forged claims, while rounds ran.
    expect(refused('not-granted')).toBeGreaterThan(0);
    expect(refused('claim-token')).toBeGreaterThan(0);
    expect(attacked.seen!.framesSent).toBeGreaterThan(0);
    expect(attacked.seen!.repliesRead).toBe(0);
    for (const m of clean.metrics) expect(m.refusedFrames).toEqual({});
  }, 240_000);

  it('admits no anonymous client and no wrong password', async () => {
    const scenario = tinyMnistScenario({ name: 'it-anonymous', system: { transport: 'nats', workers: 1 } });
    const transport = await openTransport(scenario.system, silent, { name: scenario.name, workers: 1 });
    try {
      await expect(NatsBus.connect(transport.natsUrl!, 'anonymous', undefined, {})).rejects.toThrow(/refused an anonymous client/);
      const login = transport.workerLogin(0)!;
      await expect(NatsBus.connect(transport.natsUrl!, 'guesser', undefined, { ...login, NATS_PASSWORD: 'guess' })).rejects.toThrow(/refused user "worker-0"/);
    } finally {
      await transport.close();
    }
  }, 60_000);
});
