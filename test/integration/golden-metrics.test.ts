/**
 * Golden metrics: the full metrics.jsonl of four small runs (FedAvg, central DP with adaptive
 * clipping, simulated devices with partial work, SecAgg+), cpu backend, in-process and over a real nats-server, pinned to the values
 * the round engine produced before its redesign (test/golden/*.json, written at b91f128's
 * behaviour). A refactor of the engine must leave every one of them bit-identical.
 *
 * Only what the wall clock or the worker count decides is left out of the comparison:
 * timings, bytes (each worker fetches the model once), which workers delivered, redeliveries.
 * Regenerate (only for an intended change of behaviour, and say so in the commit):
 *   FEDSIM_WRITE_GOLDEN=1 npx vitest run test/integration/golden-metrics.test.ts
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../app/run/run-simulation.js';
import type { ScenarioInput } from '../../shared/scenario/schema.js';
import { useTestNatsServer } from '../support/nats-harness.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const nats = useTestNatsServer();
const GOLDEN_DIR = join(import.meta.dirname, '..', 'golden');

/** Keys whose values depend on the clock, the number of workers or which worker took a task. */
const TRANSPORT_OR_CLOCK_KEYS = new Set([
  'wallMs',
  'evalMs',
  'clientTrainMs',
  'bytesDown',
  'bytesUp',
  'bytesTotal',
  'workers',
  'redelivered',
  // Transport frames refused (none in these runs); a new key since the golden files were written.
  'refusedFrames',
  'serverMs',
  'protocolMs',
]);

function comparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(comparable);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !TRANSPORT_OR_CLOCK_KEYS.has(key))
      .map(([key, v]) => [key, comparable(v)]),
  );
}

const RUNS: { name: string; overrides: Partial<ScenarioInput> }[] = [
  { name: 'fedavg', overrides: { privacy: { membershipInference: false } } },
  {
    name: 'dp-adaptive',
    overrides: {
      privacy: {
        dp: { mode: 'central', clipping: 'adaptive', clipNorm: 0.5, noiseMultiplier: 0.8, targetQuantile: 0.5, clipLearningRate: 0.2, countNoise: 1 },
        membershipInference: false,
      },
    },
  },
  {
    // Simulated devices, partial work and a stateless codec: availability, straggler weighting and encoded sizes.
    name: 'devices-partial-work',
    overrides: {
      partition: { kind: 'iid', clients: 20 },
      clientsPerRound: 6,
      compression: { update: [{ codec: 'fp16' }] },
      privacy: { membershipInference: false },
      system: {
        devices: {
          population: [
            { profile: 'phone-low', share: 0.5 },
            { profile: 'laptop', share: 0.5 },
          ],
        },
        stragglers: { policy: 'partial-work', deadlineSeconds: 0.6 },
      },
    },
  },
  { name: 'secagg-plus', overrides: { privacy: { secureAggregation: { variant: 'secagg+', clipNorm: 1, bits: 20 }, membershipInference: false } } },
];

async function metricsOf(run: (typeof RUNS)[number], transport: 'in-process' | 'nats'): Promise<unknown> {
  const bus = transport === 'nats' ? { natsUrl: nats.url, workers: 2 } : { transport: 'in-process' as const };
  const scenario = tinyMnistScenario({ name: `golden-${run.name}`, ...run.overrides, system: { ...run.overrides.system, ...bus, backend: 'cpu' } });
  const summary = await runSimulation({ ...scenario, output: { ...scenario.output, saveModel: false } }, { logLevel: 'silent', progress: false });
  expect(summary.status, summary.error).toBe('completed');
  return comparable(readRoundMetrics(summary.runDir));
}

describe('golden metrics: the round engine’s results stay bit-identical', () => {
  for (const run of RUNS) {
    it(`${run.name}: in-process and over NATS equal the pinned metrics.jsonl`, async () => {
      const file = join(GOLDEN_DIR, `${run.name}.json`);
      const inProcess = await metricsOf(run, 'in-process');
      if (process.env.FEDSIM_WRITE_GOLDEN === '1') writeFileSync(file, `${JSON.stringify(inProcess, null, 1)}\n`);
      expect(existsSync(file), `${file} is missing (see this file's header to write it)`).toBe(true);
      const golden: unknown = JSON.parse(readFileSync(file, 'utf8'));
      expect(inProcess).toEqual(golden);
      expect(await metricsOf(run, 'nats')).toEqual(golden);
    }, 240_000);
  }
});
