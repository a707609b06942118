/** Small scenarios for tests: real MNIST, few clients and rounds, so a run takes seconds. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateScenario } from '../../shared/scenario/load-scenario.js';
import type { Scenario, ScenarioInput } from '../../shared/scenario/schema.js';

export function tinyMnistScenario(overrides: Partial<ScenarioInput> & { system?: ScenarioInput['system'] } = {}): Scenario {
  const outputDir = mkdtempSync(join(tmpdir(), 'fedsim-test-runs-'));
  return validateScenario({
    name: 'it-mnist',
    seed: 11,
    dataset: { name: 'mnist', trainLimit: 3000, testLimit: 1000 },
    partition: { kind: 'iid', clients: 10 },
    model: { name: 'mlp', hidden: [32] },
    rounds: 3,
    clientsPerRound: 4,
    training: { epochs: 2, batchSize: 10, optimizer: 'sgd', learningRate: 0.1 },
    evaluation: { every: 1 },
    output: { dir: outputDir, saveModel: true },
    ...overrides,
    system: { backend: 'cpu', roundTimeoutSeconds: 60, ...overrides.system },
  });
}

/** The smallest scenario input that validates (MNIST, 4 clients, one round): validation tests vary one part of it. */
export const SMALL_SCENARIO_INPUT = {
  name: 'small',
  seed: 1,
  dataset: { name: 'mnist', trainLimit: 100, testLimit: 100 },
  partition: { kind: 'iid', clients: 4 },
  model: { name: 'mlp', hidden: [4] },
  rounds: 1,
  clientsPerRound: 2,
  training: { epochs: 1, batchSize: 10, optimizer: 'sgd', learningRate: 0.1 },
};
