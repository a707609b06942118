/**
 * Strategies whose clients keep state between rounds, end to end: SCAFFOLD's control variates,
 * top-k residuals and FedPer's personal layers live in the client state store, so they follow a
 * client to whichever worker trains it next. Two worker processes on fedsim's private
 * nats-server (per-run users, the object-store bucket) therefore give, on the cpu backend, the
 * same metrics as one process; with the state on the workers they would depend on which worker
 * drew which client.
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../app/run/run-simulation.js';
import type { ScenarioInput } from '../../shared/scenario/schema.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

async function roundsOf(name: string, overrides: Partial<ScenarioInput>, system: ScenarioInput['system']) {
  const scenario = tinyMnistScenario({
    name,
    partition: { kind: 'shards', clients: 10, shardsPerClient: 2 },
    rounds: 4,
    privacy: { membershipInference: false },
    ...overrides,
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
    clientState: m.clientState ? { entries: m.clientState.entries, placement: m.clientState.placement } : null,
    federatedEvaluation: m.federatedEvaluation ?? null,
  }));
}

/** Distinct clients sampled up to each round: those that have a state entry of each kind. */
function clientsSoFar(rounds: { clients: number[] }[]): number[] {
  const seen = new Set<number>();
  return rounds.map((r) => (r.clients.forEach((c) => seen.add(c)), seen.size));
}

const PRIVATE_NATS = { workers: 2 } as const;

describe('client state follows the client', () => {
  it('scaffold: control variates in the store; 2 worker processes equal one process', async () => {
    const fedavg = await roundsOf('state-fedavg', { strategy: { name: 'fedavg' } }, { transport: 'in-process' });
    const inProcess = await roundsOf('state-scaffold', { strategy: { name: 'scaffold' } }, { transport: 'in-process' });
    expect(inProcess.map((r) => r.completed)).toEqual([4, 4, 4, 4]);
    expect(inProcess.map((r) => r.clients)).toEqual(fedavg.map((r) => r.clients));
    // Round 1: every cᵢ and c start at zero, so the first steps are FedAvg's.
    expect(inProcess[0]!.testLoss).toBeCloseTo(fedavg[0]!.testLoss!, 5);
    expect(inProcess.slice(1).map((r) => r.testLoss)).not.toEqual(fedavg.slice(1).map((r) => r.testLoss));
    for (const round of inProcess) expect(round.strategy!.controlNorm).toBeGreaterThan(0);
    expect(inProcess.map((r) => r.clientState!.entries)).toEqual(clientsSoFar(inProcess));
    const overNats = await roundsOf('state-scaffold', { strategy: { name: 'scaffold' } }, PRIVATE_NATS);
    expect(overNats.map((r) => r.clientState!.placement)).toEqual(['nats-object-store', 'nats-object-store', 'nats-object-store', 'nats-object-store']);
    const placementFree = (rounds: typeof inProcess) => rounds.map((r) => ({ ...r, clientState: r.clientState!.entries }));
    expect(placementFree(overNats)).toEqual(placementFree(inProcess));
  }, 240_000);

  it('top-k error feedback: each client’s residual waits in the store for its next round', async () => {
    const topk = { compression: { update: [{ codec: 'topk', ratio: 0.05 }] } } as Partial<ScenarioInput>;
    const inProcess = await roundsOf('state-topk', topk, { transport: 'in-process' });
    expect(inProcess.map((r) => r.clientState!.entries)).toEqual(clientsSoFar(inProcess));
    const overNats = await roundsOf('state-topk', topk, PRIVATE_NATS);
    expect(overNats.map((r) => ({ ...r, clientState: r.clientState!.entries }))).toEqual(inProcess.map((r) => ({ ...r, clientState: r.clientState!.entries })));
  }, 240_000);

  it('localLayers: personal output layers stay on the clients and score higher after fine-tuning', async () => {
    const fedper = {
      strategy: { name: 'fedavg', localLayers: ['softmax'] },
      evaluation: { every: 2, federated: { every: 2, fineTuneEpochs: 1 } },
    } as Partial<ScenarioInput>;
    const inProcess = await roundsOf('state-fedper', fedper, { transport: 'in-process' });
    const evaluated = inProcess.filter((r) => r.federatedEvaluation);
    expect(evaluated.map((r) => r.round)).toEqual([2, 4]);
    for (const { federatedEvaluation } of evaluated) {
      expect(federatedEvaluation!.clients).toBe(10);
      expect(federatedEvaluation!.personalizedAccuracy).toBeGreaterThan(0);
      expect(federatedEvaluation!.personalizedAccuracyWorst).toBeLessThanOrEqual(federatedEvaluation!.personalizedAccuracyP10!);
    }
    // Two classes per client: a personal output layer fits them far better than the shared one does the test set.
    expect(evaluated.at(-1)!.federatedEvaluation!.accuracy).toBeGreaterThan(inProcess.at(-1)!.testAccuracy!);
    expect(await roundsOf('state-fedper', fedper, PRIVATE_NATS)).toEqual(
      inProcess.map((r) => ({ ...r, clientState: { ...r.clientState!, placement: 'nats-object-store' } })),
    );
  }, 240_000);
});
