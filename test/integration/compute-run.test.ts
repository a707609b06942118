/**
 * Compute trends end to end (in-process bus, real training): device availability and
 * over-selection decide who trains, top-k updates cross the bus at their encoded size, and every
 * round reports simulated time, FLOPs, energy and emissions that add up to the summary.
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../app/run/run-simulation.js';
import { createCodec } from '../../shared/compression/pipeline.js';
import { trainingFlopsPerSample } from '../../shared/compute/training-flops.js';
import { buildModel } from '../../shared/models/build-model.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const population = [
  { profile: 'phone-low' as const, share: 0.5 },
  { profile: 'laptop' as const, share: 0.5 },
];

describe('compute accounting in a run', () => {
  it('over-selects on simulated time, sends top-k updates at their encoded size, and adds up its costs', async () => {
    const scenario = tinyMnistScenario({
      name: 'it-compute',
      partition: { kind: 'iid', clients: 20 },
      clientsPerRound: 4,
      compression: { update: [{ codec: 'topk', ratio: 0.05 }, { codec: 'fp16' }] },
      privacy: { membershipInference: false },
      system: { transport: 'in-process', backend: 'cpu', devices: { population }, stragglers: { policy: 'over-select', overSelect: 1.5 } },
    });
    const summary = await runSimulation(scenario, { logLevel: 'silent', progress: false });
    expect(summary.status, summary.error).toBe('completed');
    const metrics = readRoundMetrics(summary.runDir);
    const encoded = createCodec(scenario.compression.update).encodedSize(summary.parameters);
    for (const m of metrics) {
      expect(m.selected).toBe(Math.min(6, m.available!));
      expect(m.completed).toBe(Math.min(4, m.selected));
      expect(m.stragglers).toBe(m.selected - m.completed);
      // The wire carries the codec's block plus frame headers (a few hundred bytes per chunk).
      expect(m.bytesUp).toBeGreaterThanOrEqual(m.completed * encoded);
      expect(m.bytesUp).toBeLessThan(m.completed * (encoded + 2048));
      expect(m.simulatedSeconds).toBeGreaterThan(0);
      expect(m.energyJoules).toBeGreaterThan(0);
      expect(m.emissionsGrams).toBeCloseTo((m.energyJoules! / 3.6e6) * 480, 12);
      expect(m.flops).toBeGreaterThan(0);
    }
    expect(summary.compute.flops).toBeCloseTo(
      metrics.reduce((s, m) => s + m.flops!, 0),
      0,
    );
    expect(summary.compute.simulatedSeconds).toBeCloseTo(
      metrics.reduce((s, m) => s + m.simulatedSeconds!, 0),
      9,
    );
    expect(summary.compute.stragglers).toBe(metrics.reduce((s, m) => s + m.stragglers, 0));
    expect(summary.finalTestAccuracy).toBeGreaterThan(0.3);
  }, 120_000);

  it('partial work trains stragglers for as many steps as fit the deadline', async () => {
    const scenario = tinyMnistScenario({
      name: 'it-partial',
      partition: { kind: 'iid', clients: 20 },
      clientsPerRound: 6,
      rounds: 2,
      privacy: { membershipInference: false },
      // A phone-low's upload of the 784-32-10 MLP's 100 kB update alone takes 0.4 s: at 0.6 s it has time for part of its steps.
      system: { transport: 'in-process', backend: 'cpu', devices: { population }, stragglers: { policy: 'partial-work', deadlineSeconds: 0.6 } },
    });
    const summary = await runSimulation(scenario, { logLevel: 'silent', progress: false });
    expect(summary.status, summary.error).toBe('completed');
    const metrics = readRoundMetrics(summary.runDir);
    const model = buildModel(scenario.model, { task: 'classification', featureShape: [28, 28, 1], numClasses: 10 });
    const fullWork = trainingFlopsPerSample(model)! * 300 * 2;
    for (const m of metrics) {
      expect(m.simulatedSeconds).toBeLessThanOrEqual(0.6 + 1e-9);
      // Full work is 300 samples × 2 epochs per client; the phones among them did only part.
      expect(m.flopsPerClient).toBeLessThan(fullWork);
      expect(m.flopsPerClient).toBeGreaterThan(0);
      expect(m.completed).toBeGreaterThan(0);
    }
  }, 120_000);
});
