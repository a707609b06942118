/**
 * A hostile or broken worker, speaking the real protocol over a real nats-server: an update
 * with NaN and one of the wrong length are refused and counted, never averaged in, and the run
 * completes with the good updates.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NatsBus } from '../../shared/bus/nats-bus.js';
import { decodeFrameOf, encodeFrame } from '../../shared/protocol/frame.js';
import { subjects } from '../../shared/protocol/messages.js';
import { fetchModel, sendUpdate } from '../../shared/protocol/transfers.js';
import { runSimulation } from '../../app/run/run-simulation.js';
import type { RoundMetrics } from '../../coordinator/coordinator.js';
import { useTestNatsServer } from '../support/nats-harness.js';
import { tinyMnistScenario } from '../support/scenarios.js';
import { loadFederatedData } from '../../shared/data/federated-data.js';
import type { Scenario } from '../../shared/scenario/schema.js';

const nats = useTestNatsServer();

/** Joins like a worker, then answers each task with whatever `makeUpdate` returns. */
async function rogueWorker(url: string, scenario: Scenario, makeUpdate: (clientId: number, global: Float32Array) => Float32Array) {
  const runName = scenario.name;
  // It is the client's own worker: it knows its partitions, as an honest one does.
  const { clients } = await loadFederatedData(scenario);
  const bus = await NatsBus.connect(url, 'rogue-worker');
  const s = subjects(runName);
  const workerId = 'rogue-1';
  for (;;) {
    try {
      decodeFrameOf(await bus.request(s.join, encodeFrame('join', { workerId, host: 'test', pid: process.pid, backend: 'none' }), 1000), 'join-reply');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  let stopped = false;
  bus.subscribe(s.control, () => (stopped = true));
  const tasks = await bus.taskConsumer(runName);
  decodeFrameOf(await bus.request(s.ready, encodeFrame('ready', { workerId, backend: 'none', detail: 'rogue test worker' }), 5000), 'ack');
  void (async () => {
    while (!stopped) {
      const task = await tasks.next(1000).catch(() => null);
      if (!task) continue;
      const header = decodeFrameOf(task.data, 'task').header;
      const claim = encodeFrame('task-claim', {
        workerId,
        round: header.round,
        clientId: header.clientId,
        delivery: task.delivery,
        claimToken: header.claimToken,
      });
      const { grant } = decodeFrameOf(await bus.request(s.claim, claim, 5000), 'ack').header;
      if (grant !== undefined) {
        const { weights } = await fetchModel(bus, s.model, header.round);
        const report = { samples: clients[header.clientId]!.length, steps: 10, loss: 0.5, trainMs: 1, backend: 'none' };
        await sendUpdate(
          bus,
          s.results,
          { transferId: `${header.round}:${header.clientId}`, workerId, round: header.round, clientId: header.clientId, grant, report },
          makeUpdate(header.clientId, weights),
        ).catch(() => {});
      }
      task.ack();
    }
  })().catch(() => {});
  return bus;
}

describe('update validation over NATS', () => {
  it('refuses and counts NaN and wrong-length updates', async () => {
    const scenario = tinyMnistScenario({
      name: 'it-rogue',
      rounds: 2,
      clientsPerRound: 4,
      system: { natsUrl: nats.url, workers: 0, backend: 'cpu', roundTimeoutSeconds: 30 },
    });
    const rogue = rogueWorker(nats.url, scenario, (clientId, global) => {
      const selectedFirst = clientId % 3;
      if (selectedFirst === 0) return Float32Array.from(global, (_, i) => (i === 5 ? NaN : 0));
      if (selectedFirst === 1) return new Float32Array(global.length - 1);
      return new Float32Array(global.length).fill(1e-3);
    });
    const summary = await runSimulation(scenario, { logLevel: 'silent', progress: false });
    await (await rogue).close();
    expect(summary.status, summary.error).toBe('completed');
    const metrics: RoundMetrics[] = readFileSync(join(summary.runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RoundMetrics);
    for (const m of metrics) {
      const bad = m.selectedClients.filter((id) => id % 3 !== 2).length;
      expect(m.rejected).toBe(bad);
      expect(m.completed).toBe(m.selected - bad);
      expect(m.dropped).toBe(0);
    }
    expect(summary.updatesRejected).toBe(metrics.reduce((s, m) => s + m.rejected, 0));
    expect(summary.updatesRejected).toBeGreaterThan(0);
  }, 120_000);
});
