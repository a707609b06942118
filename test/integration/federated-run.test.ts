/**
 * End to end over a real nats-server with real worker processes: a run trains real MNIST, gives
 * the same results as the in-process bus, and writes its outputs (worker churn: scale-out.test.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSimulation, type RunSummary } from '../../app/run/run-simulation.js';
import { useTestNatsServer } from '../support/nats-harness.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const nats = useTestNatsServer();

describe('a federated run over NATS', () => {
  let natsRun: RunSummary;

  it('trains real MNIST with 2 worker processes and reaches the stated accuracy', async () => {
    const scenario = tinyMnistScenario({ system: { natsUrl: nats.url, workers: 2, backend: 'cpu' } });
    natsRun = await runSimulation(scenario, { logLevel: 'silent', progress: false });
    expect(natsRun.status, natsRun.error).toBe('completed');
    expect(natsRun.transport).toMatchObject({ kind: 'nats', origin: 'scenario' });
    expect(natsRun.workers.count).toBe(2);
    expect(natsRun.roundsCompleted).toBe(3);
    // 3 rounds × 4 clients × 2 epochs over 300 images, a 784-32-10 MLP: 0.8+ on this seed.
    expect(natsRun.finalTestAccuracy).toBeGreaterThan(0.8);
    const metrics = readRoundMetrics(natsRun.runDir);
    expect(metrics.map((m) => m.completed)).toEqual([4, 4, 4]);
    expect(metrics.every((m) => m.bytesDown > 0 && m.bytesUp > 0)).toBe(true);
    // The model goes out once per worker per round, not once per client: 2 workers here.
    const modelBytes = natsRun.parameters * 4;
    for (const m of metrics) expect(m.bytesDown).toBeLessThan(2.1 * modelBytes);
    for (const file of ['scenario.yaml', 'partition.json', 'summary.json', 'model/model.json', 'model/weights.bin', 'coordinator.log', 'workers.log']) {
      expect(existsSync(join(natsRun.runDir, file)), file).toBe(true);
    }
  }, 180_000);

  it('gives the same selection and, on the cpu backend, the same metrics over the in-process bus', async () => {
    const scenario = tinyMnistScenario({ system: { transport: 'in-process', backend: 'cpu' } });
    const local = await runSimulation(scenario, { logLevel: 'silent', progress: false });
    expect(local.transport.kind).toBe('in-process');
    const a = readRoundMetrics(natsRun.runDir);
    const b = readRoundMetrics(local.runDir);
    expect(b.map((m) => m.selectedClients)).toEqual(a.map((m) => m.selectedClients));
    expect(b.map((m) => [m.trainLoss, m.testLoss, m.testAccuracy])).toEqual(a.map((m) => [m.trainLoss, m.testLoss, m.testAccuracy]));
    expect(readFileSync(join(local.runDir, 'model/weights.bin')).equals(readFileSync(join(natsRun.runDir, 'model/weights.bin')))).toBe(true);
  }, 180_000);
});
