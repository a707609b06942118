/**
 * DP end to end: a DP-FedAvg run over a real nats-server reports after every round the ε the
 * accountant CLI gives for the same (q, z, rounds); with no noise and an unreachable clip norm
 * DP-FedAvg is plain FedAvg; `fedsim compare` runs a sweep on one worker pool and records a
 * failing variant without losing the others.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseSweep } from '../../app/compare/sweep-file.js';
import { runComparison } from '../../app/compare/run-comparison.js';
import { runSimulation } from '../../app/run/run-simulation.js';
import { useTestNatsServer } from '../support/nats-harness.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const run = promisify(execFile);
const nats = useTestNatsServer();

async function cliEpsilon(q: number, z: number, steps: number, conversion: string): Promise<number> {
  const { stdout } = await run(process.execPath, [
    'bin/fedsim.js',
    'privacy',
    'epsilon',
    '--q',
    String(q),
    '--noise',
    String(z),
    '--steps',
    String(steps),
    '--delta',
    '1e-5',
    '--conversion',
    conversion,
    '--json',
  ]);
  return (JSON.parse(stdout) as { epsilon: number }).epsilon;
}

describe('differential privacy over NATS', () => {
  it('reports after each round the ε the accountant CLI gives for the same q, z and rounds', async () => {
    const scenario = tinyMnistScenario({
      name: 'it-dp',
      clientsPerRound: 4,
      privacy: { dp: { clipNorm: 0.5, noiseMultiplier: 1.3, conversion: 'classic' } },
      system: { natsUrl: nats.url, workers: 2, backend: 'cpu' },
    });
    const summary = await runSimulation(scenario, { logLevel: 'silent', progress: false });
    expect(summary.status, summary.error).toBe('completed');
    const metrics = readRoundMetrics(summary.runDir);
    expect(metrics).toHaveLength(3);
    for (const m of metrics) {
      expect(m.privacy).toMatchObject({ mode: 'central', conversion: 'classic', noiseMultiplier: 1.3, clipNorm: 0.5, expectedClients: 4, delta: 1e-5 });
      expect(m.privacy!.epsilon).toBeCloseTo(await cliEpsilon(0.4, 1.3, m.round, 'classic'), 10);
      // Poisson sampling: the realised cohort is what was selected, whatever its size.
      expect(m.privacy!.cohortSize).toBe(m.selected);
      expect(m.completed + m.dropped + m.rejected).toBe(m.selected);
      expect(m.rejected).toBe(0);
    }
    expect(summary.privacy?.epsilon).toBe(metrics[2]!.privacy!.epsilon);
    expect(summary.membershipInference?.attacks.map((a) => a.attack)).toEqual(['loss-threshold', 'likelihood-ratio']);
  }, 180_000);

  it('with z = 0 and a clip norm no update reaches, DP-FedAvg equals FedAvg up to float error', async () => {
    // q = 1 (every client, every round) and equal client sizes: DP-FedAvg's fixed denominator and
    // uniform weights then coincide with FedAvg's sample-weighted mean.
    const common = { name: 'it-dp-equiv', clientsPerRound: 10, system: { transport: 'in-process' as const, backend: 'cpu' as const } };
    const plain = await runSimulation(tinyMnistScenario(common), { logLevel: 'silent', progress: false });
    const dp = await runSimulation(tinyMnistScenario({ ...common, privacy: { dp: { clipNorm: 1e6, noiseMultiplier: 0 } } }), {
      logLevel: 'silent',
      progress: false,
    });
    expect(dp.status, dp.error).toBe('completed');
    expect(readRoundMetrics(dp.runDir).map((m) => m.selectedClients)).toEqual(readRoundMetrics(plain.runDir).map((m) => m.selectedClients));
    const a = new Float32Array(readFileSync(join(plain.runDir, 'model/weights.bin')).buffer.slice(0));
    const b = new Float32Array(readFileSync(join(dp.runDir, 'model/weights.bin')).buffer.slice(0));
    expect(b.length).toBe(a.length);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(dp.finalTestAccuracy).toBeCloseTo(plain.finalTestAccuracy!, 2);
    expect(dp.privacy?.epsilon).toBe(Infinity);
  }, 180_000);
});

describe('fedsim compare', () => {
  it('runs every variant on one worker pool, records a failing one, and writes the tables and report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fedsim-compare-'));
    const base = tinyMnistScenario({ rounds: 2, system: { natsUrl: nats.url, workers: 2, backend: 'cpu' } });
    const sweep = await parseSweep(
      {
        sweep: 'it-sweep',
        base: { ...base, name: undefined },
        output: { dir: out },
        variants: [
          { name: 'no-dp' },
          { name: 'central', overrides: { 'privacy.dp': { clipNorm: 1, noiseMultiplier: 1 } } },
          // Valid on paper, refused at run time: the count noise cannot carry its share.
          { name: 'adaptive-broken', overrides: { 'privacy.dp': { clipNorm: 1, noiseMultiplier: 1, clipping: 'adaptive', countNoise: 0.1 } } },
          { name: 'local', overrides: { 'privacy.dp': { mode: 'local', clipNorm: 1, noiseMultiplier: 4 } } },
        ],
      },
      'it-sweep.yaml',
    );
    const result = await runComparison(sweep, { logLevel: 'silent', progress: false });
    expect(result.rows.map((r) => [r.name, r.status])).toEqual([
      ['no-dp', 'completed'],
      ['central', 'completed'],
      ['adaptive-broken', 'failed'],
      ['local', 'completed'],
    ]);
    expect(result.rows[2]!.error).toMatch(/privacy\.dp\.countNoise: too small/);
    expect(result.rows[0]!.epsilon).toBeNull();
    expect(result.rows[1]!.epsilon).toBeGreaterThan(0);
    expect(result.rows[3]!.epsilon).toBeGreaterThan(0);
    // One pool for the whole sweep: the workers re-joined each run instead of being restarted.
    const workerLog = readFileSync(join(result.dir, 'workers.log'), 'utf8');
    expect(workerLog.match(/"msg":"joined run"/g)?.length).toBe(2 * 3);
    for (const file of ['comparison.json', 'comparison.csv', 'comparison.md', 'report.html', 'sweep.yaml', 'no-dp/metrics.jsonl', 'local/summary.json']) {
      expect(existsSync(join(result.dir, file)), file).toBe(true);
    }
    const csv = readFileSync(join(result.dir, 'comparison.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(5);
    expect(readFileSync(join(result.dir, 'comparison.md'), 'utf8')).toContain('adaptive-broken — **failed**');
    writeFileSync(join(out, '.done'), '');
  }, 300_000);
});
