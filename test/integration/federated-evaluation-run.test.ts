/**
 * Federated evaluation end to end: sampled clients score the model after the round on their own
 * held-out samples, through the task queue's claims and grants, in process and over a real
 * nats-server with 2 worker processes (identical on the cpu backend). The held-out samples are
 * out of training (the partition's sizes shrink), the summary in metrics.jsonl agrees with
 * clients.jsonl, and rounds without evaluation have none.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../app/run/run-simulation.js';
import { loadFederatedData } from '../../shared/data/federated-data.js';
import type { ScenarioInput } from '../../shared/scenario/schema.js';
import { useTestNatsServer } from '../support/nats-harness.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const nats = useTestNatsServer();

function scenario(system: ScenarioInput['system']) {
  return tinyMnistScenario({
    name: 'federated-evaluation',
    partition: { kind: 'shards', clients: 20, shardsPerClient: 2 },
    evaluation: { every: 1, federated: { every: 2, fraction: 0.5, heldOutFraction: 0.25 } },
    privacy: { membershipInference: false },
    system: { ...system, backend: 'cpu' },
  });
}

interface ClientLine {
  round: number;
  clientId: number;
  samples: number;
  loss: number;
  accuracy: number;
}

async function run(system: ScenarioInput['system']) {
  const s = scenario(system);
  const summary = await runSimulation({ ...s, output: { ...s.output, saveModel: false } }, { logLevel: 'silent', progress: false });
  expect(summary.status, summary.error).toBe('completed');
  expect(summary).not.toHaveProperty('finalTestPerplexity');
  const clients = readFileSync(join(summary.runDir, 'clients.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as ClientLine);
  const rounds = readRoundMetrics(summary.runDir).map((m) => ({ round: m.round, testLoss: m.testLoss, federated: m.federatedEvaluation ?? null }));
  return { clients, rounds };
}

describe('federated evaluation', () => {
  it('scores the model on each sampled client’s held-out samples, the same over NATS as in process', async () => {
    const inProcess = await run({ transport: 'in-process' });
    // Every 2 rounds and after the last (3 rounds): rounds 2 and 3, 10 of the 20 clients each.
    expect(inProcess.rounds.map((r) => r.federated !== null)).toEqual([false, true, true]);
    expect([...new Set(inProcess.clients.map((c) => c.round))]).toEqual([2, 3]);
    const { clients: training, heldOut } = await loadFederatedData(scenario({ transport: 'in-process' }));
    for (const round of [2, 3]) {
      const lines = inProcess.clients.filter((c) => c.round === round);
      expect(lines).toHaveLength(10);
      for (const line of lines) {
        expect(line.samples).toBe(heldOut[line.clientId]!.length);
        // Held out means out of training: no index in both.
        expect(heldOut[line.clientId]!.filter((i) => training[line.clientId]!.includes(i))).toEqual([]);
      }
      const summary = inProcess.rounds.find((r) => r.round === round)!.federated!;
      const accuracies = lines.map((c) => c.accuracy).sort((a, b) => a - b);
      const samples = lines.reduce((s, c) => s + c.samples, 0);
      expect(summary).toMatchObject({ clients: 10, asked: 10, unanswered: 0, samples, accuracyWorst: accuracies[0], accuracyP10: accuracies[0] });
      expect(summary.accuracy).toBeCloseTo(lines.reduce((s, c) => s + c.accuracy * c.samples, 0) / samples, 12);
      expect(summary.accuracyMean).toBeCloseTo(accuracies.reduce((s, a) => s + a, 0) / 10, 12);
    }
    // 3000 MNIST samples in 40 shards of 75, a quarter of each client's 150 held out.
    expect(training.map((t) => t.length)).toEqual(Array(20).fill(150 - 38));

    expect(await run({ natsUrl: nats.url, workers: 2 })).toEqual(inProcess);
  }, 180_000);
});
