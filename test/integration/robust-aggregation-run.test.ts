/**
 * Each robust aggregator trains the tiny MNIST scenario end to end (in-process bus, cpu backend,
 * 7 clients per round so that Bulyan's n ≥ 4f + 3 holds with f = 1): accuracy well above the
 * 10% of chance after a few rounds. No attackers here; that they resist them is the unit tests'
 * hand-made vectors and, later, the adversaries' sweep.
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../app/run/run-simulation.js';
import type { ValidatedOptions } from '../../shared/registry/registry.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const AGGREGATORS: ValidatedOptions[] = [
  { name: 'median' },
  { name: 'trimmed-mean', beta: 0.15 },
  { name: 'krum', f: 1 },
  { name: 'multi-krum', f: 1, m: 4 },
  { name: 'bulyan', f: 1 },
  { name: 'centered-clipping', tau: 1, iterations: 3 },
];

describe('robust aggregators train', () => {
  for (const aggregator of AGGREGATORS) {
    it(`${aggregator.name}: tiny MNIST, 3 rounds, accuracy above 0.5`, async () => {
      const scenario = tinyMnistScenario({
        name: `robust-${aggregator.name}`,
        clientsPerRound: 7,
        training: { epochs: 1, batchSize: 10, optimizer: 'sgd', learningRate: 0.1 },
        strategy: { aggregator },
        privacy: { membershipInference: false },
        system: { transport: 'in-process' },
      });
      const summary = await runSimulation({ ...scenario, output: { ...scenario.output, saveModel: false } }, { logLevel: 'silent', progress: false });
      expect(summary.status, summary.error).toBe('completed');
      expect(summary.finalTestAccuracy).toBeGreaterThan(0.5);
    }, 60_000);
  }
});
