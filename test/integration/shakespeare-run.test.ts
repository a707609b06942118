/**
 * The Shakespeare task end to end: roles as clients (natural partition), an LSTM and a GRU trained
 * federated over a real nats-server with 2 worker processes give, on the cpu backend, the same
 * metrics as in process. Small windows and layers keep it to seconds.
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../app/run/run-simulation.js';
import { validateScenario } from '../../shared/scenario/load-scenario.js';
import type { ScenarioInput } from '../../shared/scenario/schema.js';
import { useTestNatsServer } from '../support/nats-harness.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const nats = useTestNatsServer();

async function roundsOf(cell: 'lstm' | 'gru', system: ScenarioInput['system']) {
  const outputDir = tinyMnistScenario().output.dir;
  const scenario = validateScenario({
    name: `shakespeare-${cell}`,
    seed: 2,
    dataset: { name: 'shakespeare', plays: ['macbeth'], sequenceLength: 12, stride: 40, minSamples: 5 },
    partition: { kind: 'natural', clients: 23 },
    model: { name: cell, embedding: 4, layers: [8] },
    rounds: 2,
    clientsPerRound: 3,
    training: { epochs: 1, batchSize: 10, optimizer: 'sgd', learningRate: 0.8 },
    privacy: { membershipInference: false },
    output: { dir: outputDir, saveModel: false },
    system: { ...system, backend: 'cpu', roundTimeoutSeconds: 120 },
  });
  const summary = await runSimulation(scenario, { logLevel: 'silent', progress: false });
  expect(summary.status, summary.error).toBe('completed');
  // The language-modelling figure: e^(test cross-entropy).
  expect(summary.finalTestPerplexity).toBeCloseTo(Math.exp(summary.finalTestLoss!), 10);
  return readRoundMetrics(summary.runDir).map((m) => [m.round, m.selectedClients, m.completed, m.trainLoss, m.testLoss, m.testAccuracy]);
}

describe('Shakespeare over NATS equals the in-process run', () => {
  for (const cell of ['lstm', 'gru'] as const) {
    it(`${cell}: 2 rounds of 3 roles, 2 worker processes, identical metrics`, async () => {
      const inProcess = await roundsOf(cell, { transport: 'in-process' });
      expect(inProcess).toHaveLength(2);
      // A next-character model starts near ln(80) ≈ 4.4 and learns the commonest characters at once.
      expect(inProcess.every((r) => typeof r[4] === 'number' && r[4] < 4.5 && (r[5] as number) > 0.1)).toBe(true);
      expect(await roundsOf(cell, { natsUrl: nats.url, workers: 2 })).toEqual(inProcess);
    }, 180_000);
  }
});
