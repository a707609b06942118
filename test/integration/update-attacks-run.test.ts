/**
 * A curious coordinator over a real nats-server: on an unprotected run (4 images per client,
 * B = 1) it rebuilds the attacked clients' images exactly and tells their samples from held-out
 * ones far above chance; under strong local DP both attacks fall to chance; under secure
 * aggregation there is no individual update, and the comparison table says so instead of a number.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runComparison } from '../../app/compare/run-comparison.js';
import { parseSweep } from '../../app/compare/sweep-file.js';
import type { RunSummary } from '../../app/run/run-simulation.js';
import { useTestNatsServer } from '../support/nats-harness.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const nats = useTestNatsServer();

describe('attacks by a curious coordinator on individual updates', () => {
  it('succeed without protection, fall to chance under strong local DP, and are not applicable under secure aggregation', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fedsim-update-attacks-'));
    const base = tinyMnistScenario({
      dataset: { name: 'mnist', trainLimit: 400, testLimit: 500 },
      partition: { kind: 'iid', clients: 100 },
      rounds: 2,
      clientsPerRound: 8,
      training: { epochs: 1, batchSize: 1, optimizer: 'sgd', learningRate: 0.05 },
      privacy: { membershipInference: false, updateAttacks: { clientsPerRound: 4, candidates: 16, imagesInReport: 4 } },
      system: { natsUrl: nats.url, workers: 2, backend: 'cpu' },
    });
    const sweep = await parseSweep(
      {
        sweep: 'it-update-attacks',
        base: { ...base, name: undefined },
        output: { dir: out },
        variants: [
          { name: 'none' },
          { name: 'local', overrides: { 'privacy.dp': { mode: 'local', clipNorm: 1, noiseMultiplier: 1 } } },
          { name: 'secure', overrides: { 'privacy.secureAggregation': { clipNorm: 1 } } },
        ],
      },
      'it-update-attacks.yaml',
    );
    const result = await runComparison(sweep, { logLevel: 'silent', progress: false });
    expect(result.rows.map((r) => [r.name, r.status, r.error])).toEqual([
      ['none', 'completed', undefined],
      ['local', 'completed', undefined],
      ['secure', 'completed', undefined],
    ]);
    const [none, local, secure] = ['none', 'local', 'secure'].map(
      (name) => (JSON.parse(readFileSync(join(result.dir, name, 'summary.json'), 'utf8')) as RunSummary).updateAttacks!,
    );

    // 2 rounds × 4 attacked clients × 4 images; most rebuilt to float32 round-off (32 hidden units do not isolate every image).
    expect(none!.attackedUpdates).toBe(8);
    expect(none!.gradientInversion!.samples).toBe(32);
    expect(none!.gradientInversion!.medianPsnr).toBeGreaterThan(60);
    const alignment = (r: typeof none) => r!.membershipInference!.attacks.find((a) => a.attack === 'gradient-alignment')!.auc;
    expect(alignment(none)).toBeGreaterThan(0.9);
    expect(none!.membershipInference!.perRound.map((r) => r.round)).toEqual([1, 2]);

    // σ = 1·S per coordinate on a 25k-parameter update of norm ≤ S: nothing left to read.
    expect(local!.gradientInversion!.meanPsnr).toBeLessThan(15);
    expect(Math.abs(alignment(local) - 0.5)).toBeLessThan(0.15);

    expect(secure).toMatchObject({
      attackedUpdates: 0,
      gradientInversion: null,
      membershipInference: null,
      notApplicable: expect.stringMatching(/^secure aggregation/) as unknown,
    });
    const markdown = readFileSync(join(result.dir, 'comparison.md'), 'utf8');
    expect(markdown).toMatch(
      /\| secure \| masked updates and their sum only \| not applicable: secure aggregation: the coordinator only ever holds masked updates/,
    );
    expect(markdown).toMatch(/\| none \| each client’s update, in the clear \| \d+\.\d dB \/ 100\.0 dB \|/);
    expect(readFileSync(join(result.dir, 'none', 'report.html'), 'utf8')).toContain('data:image/png;base64,');
  }, 300_000);
});
