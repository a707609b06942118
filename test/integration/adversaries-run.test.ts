/**
 * Attacks and defences end to end on real MNIST (3,000 training images, 10 clients, all 10 every
 * round, so that each round holds exactly the 2 malicious clients the 20% draw gives: clients
 * 1 and 6 for seed 11). Sign flipping ruins FedAvg and not the median or Krum (in process, cpu
 * backend); model replacement of a backdoored model plants the backdoor over a real nats-server
 * with 2 worker processes (the attackers run inside them), and norm bounding refuses it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSimulation, type RunSummary } from '../../app/run/run-simulation.js';
import type { ScenarioInput } from '../../shared/scenario/schema.js';
import { useTestNatsServer } from '../support/nats-harness.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const nats = useTestNatsServer();

function run(overrides: Partial<ScenarioInput>): Promise<RunSummary> {
  const scenario = tinyMnistScenario({
    name: 'adversaries',
    partition: { kind: 'iid', clients: 10 },
    clientsPerRound: 10,
    rounds: 5,
    training: { epochs: 1, batchSize: 10, optimizer: 'sgd', learningRate: 0.1 },
    privacy: { membershipInference: false },
    ...overrides,
    system: { transport: 'in-process', ...overrides.system },
  });
  return runSimulation({ ...scenario, output: { ...scenario.output, saveModel: false } }, { logLevel: 'silent', progress: false });
}

const SIGN_FLIP = { fraction: 0.2, attack: { name: 'sign-flip', factor: 10 } } as const;
const MODEL_REPLACEMENT = { fraction: 0.2, attack: { name: 'scaling', backdoor: { targetClass: 0 } } } as const;

describe('20% sign-flipping clients', () => {
  let clean: RunSummary;

  it('the clean run learns', async () => {
    clean = await run({});
    expect(clean.status, clean.error).toBe('completed');
    expect(clean.finalTestAccuracy).toBeGreaterThan(0.8);
    expect(clean.adversaries).toBeNull();
  }, 60_000);

  it('drop FedAvg’s accuracy by more than 30 points; the run records who attacked', async () => {
    const attacked = await run({ adversaries: SIGN_FLIP });
    expect(attacked.status, attacked.error).toBe('completed');
    expect(clean.finalTestAccuracy! - attacked.finalTestAccuracy!).toBeGreaterThan(0.3);
    expect(attacked.adversaries).toMatchObject({ attack: 'sign-flip', colluding: false, clients: [1, 6], selectedInRounds: 10 });
    for (const round of readRoundMetrics(attacked.runDir)) expect(round.maliciousClients).toEqual([1, 6]);
  }, 60_000);

  for (const aggregator of [{ name: 'median' }, { name: 'krum', f: 2 }]) {
    it(`leave ${aggregator.name} within 5 points of the clean run`, async () => {
      const defended = await run({ adversaries: SIGN_FLIP, strategy: { aggregator } });
      expect(defended.status, defended.error).toBe('completed');
      expect(Math.abs(clean.finalTestAccuracy! - defended.finalTestAccuracy!)).toBeLessThan(0.05);
    }, 60_000);
  }
});

describe('a backdoor by model replacement (20% attackers, γ = n)', () => {
  it('succeeds on more than 80% of triggered images without a defence, crafted inside 2 worker processes over NATS', async () => {
    const attacked = await run({ adversaries: MODEL_REPLACEMENT, system: { transport: 'nats', natsUrl: nats.url, workers: 2 } });
    expect(attacked.status, attacked.error).toBe('completed');
    expect(attacked.transport.kind).toBe('nats');
    expect(attacked.adversaries?.finalAttackSuccessRate).toBeGreaterThan(0.8);
    const rounds = readRoundMetrics(attacked.runDir);
    expect(rounds.every((r) => typeof r.attackSuccessRate === 'number')).toBe(true);
    // Each worker process found the malicious clients itself, from the scenario and its seed.
    const announced = readFileSync(join(attacked.runDir, 'workers.log'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('adversary: malicious clients'))
      .map((line) => JSON.parse(line) as { pid: number; clients: number[] });
    expect(new Set(announced.map((line) => line.pid)).size).toBe(2);
    for (const line of announced) expect(line.clients).toEqual([1, 6]);
  }, 90_000);

  it('falls with norm bounding, which refuses exactly the boosted updates', async () => {
    const defended = await run({ adversaries: MODEL_REPLACEMENT, strategy: { maxUpdateNorm: 3 } });
    expect(defended.status, defended.error).toBe('completed');
    expect(defended.adversaries?.finalAttackSuccessRate).toBeLessThan(0.2);
    for (const round of readRoundMetrics(defended.runDir)) expect(round.rejected).toBe(round.maliciousClients!.length);
  }, 60_000);
});
