/** Sweep files: variants, grids, overrides, and the errors a bad sweep gets. */
import { describe, expect, it } from 'vitest';
import { applyOverrides, parseSweep, SweepError } from '../../app/compare/sweep-file.js';

const base = {
  seed: 1,
  dataset: { name: 'mnist' },
  partition: { kind: 'iid', clients: 10 },
  model: { name: 'mlp', preset: '2nn' },
  rounds: 3,
  clientsPerRound: 5,
  training: { epochs: 1, batchSize: 10, learningRate: 0.1 },
  privacy: { dp: { clipNorm: 1, noiseMultiplier: 1 } },
};

async function problemsOf(raw: unknown): Promise<string[]> {
  try {
    await parseSweep(raw, 'sweep.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(SweepError);
    return (error as SweepError).problems;
  }
  throw new Error('expected the sweep to be refused');
}

describe('sweep files', () => {
  it('crosses listed variants with the grid and names every variant', async () => {
    const sweep = await parseSweep(
      {
        sweep: 's',
        base,
        variants: [{ name: 'central' }, { name: 'local', overrides: { 'privacy.dp.mode': 'local' } }],
        grid: { 'privacy.dp.clipNorm': [0.5, 2] },
      },
      'sweep.yaml',
    );
    expect(sweep.variants.map((v) => v.name)).toEqual(['central_clipNorm=0.5', 'central_clipNorm=2', 'local_clipNorm=0.5', 'local_clipNorm=2']);
    const local = sweep.variants[3]!.scenario!;
    expect(local.name).toBe('s');
    expect(local.privacy.dp).toMatchObject({ mode: 'local', clipNorm: 2, noiseMultiplier: 1 });
  });

  it('deep-merges nested overrides and deletes with null', () => {
    const merged = applyOverrides(structuredClone(base), { privacy: { dp: { noiseMultiplier: 2 } }, 'training.epochs': 5 }) as typeof base;
    expect(merged.privacy.dp).toEqual({ clipNorm: 1, noiseMultiplier: 2 });
    expect(merged.training.epochs).toBe(5);
    expect(applyOverrides(structuredClone(base), { 'privacy.dp': null })).not.toHaveProperty('privacy.dp');
  });

  it('keeps an invalid variant, with its problems, so the others still run', async () => {
    const sweep = await parseSweep({ sweep: 's', base, variants: [{ name: 'ok' }, { name: 'bad', overrides: { 'privacy.dp.clipNorm': -1 } }] }, 'sweep.yaml');
    expect(sweep.variants[0]!.scenario).not.toBeNull();
    expect(sweep.variants[1]!.scenario).toBeNull();
    expect(sweep.variants[1]!.problems).toEqual(['privacy.dp.clipNorm: too small (got -1, expected > 0)']);
  });

  it('refuses overrides of what the variants share, duplicate names, and a sweep without variants', async () => {
    expect(await problemsOf({ sweep: 's', base, variants: [{ name: 'a', overrides: { 'system.workers': 4 } }, { name: 'a' }] })).toEqual([
      'variants.a.overrides.system.workers: the variants share it (got an override, expected it only in the base)',
      'variants: two variants are named "a" (expected unique names)',
    ]);
    expect(await problemsOf({ sweep: 's', base })).toEqual(['variants: missing (expected a list of variants, a grid of values, or both)']);
    expect(await problemsOf({ sweep: 'bad name', base, variants: [{ name: 'a' }] })).toEqual([
      'sweep: expected letters, digits, "-" or "_" (it names NATS subjects and the output folder) (got "bad name")',
    ]);
  });

  it('says a scenario is not a sweep file, instead of listing its fields as unknown', async () => {
    const problems = await problemsOf({ name: 'plain', ...base });
    expect(problems).toEqual([
      '(top level): this is a scenario, not a sweep file (expected sweep:, base: and variants: or grid:, as in scenarios/privacy-sweep.yaml); run it with `fedsim run sweep.yaml`, or make it the base of a sweep',
    ]);
    expect(await problemsOf({ colour: 'red' })).toEqual([
      '(top level): not a sweep file (got neither sweep: nor base:, expected sweep:, base: and variants: or grid:, as in scenarios/privacy-sweep.yaml)',
    ]);
  });

  it('suggests the sweep field an unknown key was meant to be', async () => {
    expect(await problemsOf({ sweep: 's', base, varaints: [{ name: 'a' }] })).toEqual(['varaints: unknown field, did you mean variants? (got [a mapping])']);
    const sweep = await parseSweep({ sweep: 's', base, variants: [{ name: 'a', overrides: { 'privacy.dp.clipNrom': 1 } }] }, 'sweep.yaml');
    expect(sweep.variants[0]!.problems).toContain('privacy.dp.clipNrom: unknown field, did you mean clipNorm? (got 1)');
  });

  it('reports a broken base once, as the sweep’s problem', async () => {
    await expect(parseSweep({ sweep: 's', base: { ...base, rounds: 0 }, variants: [{ name: 'a' }] }, 'sweep.yaml')).rejects.toThrow(
      /rounds: too small \(got 0, expected ≥ 1\)/,
    );
  });
});

describe('sweep files with crossWith', () => {
  const noDp = { ...base, privacy: { membershipInference: false } };

  it('pairs every listed variant with every crossWith entry, both overrides kept, each with its cell', async () => {
    const sweep = await parseSweep(
      {
        sweep: 's',
        base: noDp,
        variants: [{ name: 'none' }, { name: 'flip', overrides: { adversaries: { fraction: 0.2, attack: { name: 'sign-flip' } } } }],
        crossWith: [
          { name: 'mean' },
          { name: 'median', overrides: { strategy: { aggregator: { name: 'median' } } } },
          { name: 'bounded', overrides: { 'strategy.maxUpdateNorm': 3 } },
        ],
      },
      'sweep.yaml',
    );
    expect(sweep.variants.map((v) => v.name)).toEqual(['none_mean', 'none_median', 'none_bounded', 'flip_mean', 'flip_median', 'flip_bounded']);
    expect(sweep.variants[4]!.cell).toEqual({ row: 'flip', column: 'median' });
    const flipMedian = sweep.variants[4]!.scenario!;
    expect(flipMedian.adversaries?.attack.name).toBe('sign-flip');
    expect(flipMedian.strategy.aggregator.name).toBe('median');
    expect(sweep.variants[5]!.scenario!.strategy.maxUpdateNorm).toBe(3);
  });

  it('needs listed variants to cross', async () => {
    expect(await problemsOf({ sweep: 's', base: noDp, crossWith: [{ name: 'mean' }] })).toEqual([
      'crossWith: crosses the listed variants (got no variants:, expected variants: for the rows)',
    ]);
  });
});
