/**
 * The documents' other models end to end over a real nats-server with 2 worker processes, equal
 * on the cpu backend to the in-process run: the transformer on Shakespeare (next character), the
 * transformer's classifier head and an LSTM on IMDB sentiment (with AUC), and the binary-10 MLP
 * on three-feature, two-class synthetic data. Tiny sizes keep each to seconds.
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../app/run/run-simulation.js';
import { validateScenario } from '../../shared/scenario/load-scenario.js';
import type { ScenarioInput } from '../../shared/scenario/schema.js';
import { useTestNatsServer } from '../support/nats-harness.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const nats = useTestNatsServer();

const IMDB = { name: 'imdb', vocabularySize: 200, sequenceLength: 16, trainLimit: 200, testLimit: 60 } as const;
const CASES: Record<string, Pick<ScenarioInput, 'dataset' | 'partition' | 'model'>> = {
  'transformer on shakespeare': {
    dataset: { name: 'shakespeare', plays: ['macbeth'], sequenceLength: 12, stride: 40, minSamples: 5 },
    partition: { kind: 'natural', clients: 23 },
    model: { name: 'transformer', dimension: 8, heads: 2, blocks: 1, ffn: 16 },
  },
  'transformer classifier on imdb': {
    dataset: IMDB,
    partition: { kind: 'iid', clients: 6 },
    model: { name: 'transformer', dimension: 8, heads: 2, blocks: 1, ffn: 16, head: 'classifier' },
  },
  'lstm on imdb': { dataset: IMDB, partition: { kind: 'iid', clients: 6 }, model: { name: 'lstm', embedding: 4, layers: [8] } },
  'binary-10 mlp on synthetic': {
    dataset: { name: 'synthetic', featureSize: 3, numClasses: 2, meanSamples: 30 },
    partition: { kind: 'natural', clients: 6 },
    model: { name: 'mlp', preset: 'binary-10' },
  },
};

async function roundsOf(name: string, system: ScenarioInput['system']) {
  const scenario = validateScenario({
    name: name.replaceAll(' ', '-'),
    seed: 4,
    ...CASES[name]!,
    rounds: 2,
    clientsPerRound: 3,
    training: { epochs: 1, batchSize: 10, optimizer: 'sgd', learningRate: 0.3 },
    privacy: { membershipInference: false },
    output: { dir: tinyMnistScenario().output.dir, saveModel: false },
    system: { ...system, backend: 'cpu', roundTimeoutSeconds: 120 },
  });
  const summary = await runSimulation(scenario, { logLevel: 'silent', progress: false });
  expect(summary.status, summary.error).toBe('completed');
  const rounds = readRoundMetrics(summary.runDir);
  return {
    summary: { perplexity: summary.finalTestPerplexity, auc: summary.finalTestAuc },
    rounds: rounds.map((m) => [m.round, m.selectedClients, m.completed, m.trainLoss, m.testLoss, m.testAccuracy, m.testAuc, m.testPerplexity]),
  };
}

describe('the documents’ other models over NATS equal the in-process run', () => {
  for (const name of Object.keys(CASES)) {
    it(`${name}: 2 rounds of 3 clients, 2 worker processes, identical metrics`, async () => {
      const inProcess = await roundsOf(name, { transport: 'in-process' });
      expect(inProcess.rounds).toHaveLength(2);
      expect(inProcess.rounds.every((r) => r[2] === 3 && typeof r[4] === 'number' && Number.isFinite(r[4]))).toBe(true);
      // Each task's own figure: perplexity for next characters, AUC for two classes.
      if (name.includes('shakespeare')) expect(inProcess.summary.perplexity).toBeGreaterThan(1);
      else expect(inProcess.summary.auc).toBeGreaterThanOrEqual(0);
      expect(await roundsOf(name, { natsUrl: nats.url, workers: 2 })).toEqual(inProcess);
    }, 240_000);
  }
});
