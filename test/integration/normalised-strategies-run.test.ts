/**
 * FedNova and q-FedAvg end to end: clients of unequal size (quantity skew, so their local step
 * counts differ) over a real nats-server with 2 worker processes give, on the cpu backend, the
 * same metrics as in process. The clients' half (FedNova's normalised update, q-FedAvg's start
 * loss) runs in the workers; the server's half reads what they report. Both move the model
 * differently from FedAvg on the same clients.
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../app/run/run-simulation.js';
import type { ScenarioInput } from '../../shared/scenario/schema.js';
import { useTestNatsServer } from '../support/nats-harness.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const nats = useTestNatsServer();

async function roundsOf(strategy: { name: string } & Record<string, unknown>, system: ScenarioInput['system']) {
  const scenario = tinyMnistScenario({
    name: `normalised-${strategy.name}`,
    partition: { kind: 'quantity-skew', clients: 10, sigma: 1, minSamples: 20 },
    strategy,
    privacy: { membershipInference: false },
    system: { ...system, backend: 'cpu' },
  });
  const summary = await runSimulation({ ...scenario, output: { ...scenario.output, saveModel: false } }, { logLevel: 'silent', progress: false });
  expect(summary.status, summary.error).toBe('completed');
  return readRoundMetrics(summary.runDir).map((m) => ({
    round: m.round,
    clients: m.selectedClients,
    completed: m.completed,
    trainLoss: m.trainLoss,
    testLoss: m.testLoss,
    testAccuracy: m.testAccuracy,
    strategy: m.strategy ?? null,
  }));
}

describe('FedNova and q-FedAvg over NATS equal the in-process run', () => {
  let fedavg: Awaited<ReturnType<typeof roundsOf>>;

  it('fednova: τ_eff from the clients’ unequal steps, identical metrics with 2 worker processes', async () => {
    fedavg = await roundsOf({ name: 'fedavg' }, { transport: 'in-process' });
    const inProcess = await roundsOf({ name: 'fednova' }, { transport: 'in-process' });
    expect(inProcess).toHaveLength(3);
    for (const round of inProcess) expect(round.strategy!.tauEffective).toBeGreaterThan(1);
    expect(inProcess.map((r) => r.clients)).toEqual(fedavg.map((r) => r.clients));
    expect(inProcess.map((r) => r.testLoss)).not.toEqual(fedavg.map((r) => r.testLoss));
    expect(await roundsOf({ name: 'fednova' }, { natsUrl: nats.url, workers: 2 })).toEqual(inProcess);
  }, 180_000);

  it('qfedavg: the clients’ start losses weigh the round, identical metrics with 2 worker processes', async () => {
    const inProcess = await roundsOf({ name: 'qfedavg', q: 1 }, { transport: 'in-process' });
    for (const round of inProcess) {
      expect(round.strategy).toMatchObject({ missingStartLoss: 0 });
      expect(round.strategy!.worstStartLoss).toBeGreaterThanOrEqual(round.strategy!.meanStartLoss!);
      expect(round.strategy!.stepScale).toBeGreaterThan(0);
    }
    // Round 1 starts from the same model for every strategy: its start losses are the initial model's.
    expect(inProcess[0]!.strategy!.meanStartLoss).toBeGreaterThan(2);
    expect(inProcess.map((r) => r.testLoss)).not.toEqual(fedavg.map((r) => r.testLoss));
    expect(await roundsOf({ name: 'qfedavg', q: 1 }, { natsUrl: nats.url, workers: 2 })).toEqual(inProcess);
  }, 180_000);
});
