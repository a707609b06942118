/**
 * The server-optimizer strategies over a real nats-server with 2 worker processes give, on the
 * cpu backend, the same metrics as the in-process run: the optimizer's state lives on the
 * coordinator and the aggregate does not depend on which worker trained which client. They also
 * run over central DP's noised mean and over secure aggregation's sum.
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../app/run/run-simulation.js';
import type { ScenarioInput } from '../../shared/scenario/schema.js';
import { useTestNatsServer } from '../support/nats-harness.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const nats = useTestNatsServer();

type StrategyBlock = { name: string } & Record<string, unknown>;

/** What does not depend on the clock or the worker count: selection, losses, accuracy. */
async function resultsOf(strategy: StrategyBlock, system: ScenarioInput['system'], privacy: ScenarioInput['privacy'] = {}) {
  const scenario = tinyMnistScenario({
    name: `server-optimizer-${strategy.name}`,
    strategy,
    training: { epochs: 1, batchSize: 10, optimizer: 'sgd', learningRate: 0.1 },
    privacy: { ...privacy, membershipInference: false },
    system: { ...system, backend: 'cpu' },
  });
  const summary = await runSimulation({ ...scenario, output: { ...scenario.output, saveModel: false } }, { logLevel: 'silent', progress: false });
  expect(summary.status, summary.error).toBe('completed');
  return readRoundMetrics(summary.runDir).map((m) => [m.round, m.selectedClients, m.completed, m.trainLoss, m.testLoss, m.testAccuracy]);
}

const STRATEGIES: StrategyBlock[] = [
  { name: 'fedavgm', serverMomentum: 0.9, serverLearningRate: 0.5 },
  { name: 'fedadam', serverLearningRate: 0.01, tau: 1e-3 },
  { name: 'fedyogi' },
  { name: 'fedadagrad', serverLearningRate: 0.01, tau: 1e-3 },
];

describe('server optimizers over NATS equal the in-process run', () => {
  for (const strategy of STRATEGIES) {
    it(`${strategy.name}: 3 rounds, 2 worker processes, identical metrics`, async () => {
      const inProcess = await resultsOf(strategy, { transport: 'in-process' });
      expect(inProcess).toHaveLength(3);
      expect(inProcess.every((round) => Number.isFinite(round[4]) && Number.isFinite(round[5]))).toBe(true);
      expect(await resultsOf(strategy, { natsUrl: nats.url, workers: 2 })).toEqual(inProcess);
    }, 120_000);
  }
});

describe('server optimizers compose with DP and secure aggregation', () => {
  it('fedyogi steps along central DP’s noised mean; fedadam along the SecAgg+ survivors’ mean', async () => {
    const dp = { dp: { mode: 'central' as const, clipNorm: 1, noiseMultiplier: 0.5 } };
    const secure = { secureAggregation: { variant: 'secagg+' as const, clipNorm: 1, bits: 20 } };
    const noised = await resultsOf({ name: 'fedyogi' }, { transport: 'in-process' }, dp);
    const summed = await resultsOf(STRATEGIES[1]!, { transport: 'in-process' }, secure);
    // DP samples each client with probability q, so its cohort size varies; SecAgg+ keeps all 4.
    expect(noised.map((round) => Number.isFinite(round[5]))).toEqual([true, true, true]);
    expect(summed.map((round) => [round[2], Number.isFinite(round[5])])).toEqual([
      [4, true],
      [4, true],
      [4, true],
    ]);
  }, 120_000);
});
