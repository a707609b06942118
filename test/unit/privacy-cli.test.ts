/**
 * `fedsim privacy` as a user runs it: a child `node bin/fedsim.js` process, JSON on stdout,
 * readable errors and a non-zero exit status for bad input.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const fedsim = fileURLToPath(new URL('../../bin/fedsim.js', import.meta.url));

async function privacy(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [fedsim, 'privacy', ...args]);
  return stdout;
}

/** Runs a command expected to fail; returns its exit status and stderr. */
async function privacyFailure(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [fedsim, 'privacy', ...args]);
  } catch (error) {
    const failure = error as { code: number; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
  throw new Error(`expected \`fedsim privacy ${args.join(' ')}\` to fail`);
}

function onlyJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('fedsim privacy', () => {
  // Abadi et al., "Deep Learning with Differential Privacy", CCS 2016, Section 3.1: q = 0.01, σ = 4,
  // T = 10,000, δ = 1e-5 gives ε ≈ 1.26 with the moments accountant (= classic conversion); the
  // tolerance is the rounding of the published figure.
  it('epsilon --json prints one JSON line with ε and its inputs', async () => {
    const out = onlyJsonLine(
      await privacy('epsilon', '--q', '0.01', '--noise', '4', '--steps', '10000', '--delta', '1e-5', '--conversion', 'classic', '--json'),
    );
    expect(Object.keys(out)).toEqual(['epsilon', 'order', 'conversion', 'q', 'noise', 'steps', 'delta']);
    expect(out).toMatchObject({ order: 20, conversion: 'classic', q: 0.01, noise: 4, steps: 10000, delta: 1e-5 });
    expect(Math.abs((out.epsilon as number) - 1.26)).toBeLessThanOrEqual(0.005);
  });

  it('epsilon defaults to the tight conversion and prints a readable line without --json', async () => {
    const tight = onlyJsonLine(await privacy('epsilon', '--q', '0.01', '--noise', '4', '--steps', '10000', '--delta', '1e-5', '--json'));
    expect(tight.conversion).toBe('tight');
    expect(tight.epsilon as number).toBeLessThan(1.26);
    const text = await privacy('epsilon', '--q', '0.01', '--noise', '4', '--steps', '10000', '--delta', '1e-5');
    expect(text).toMatch(/^ε = 1\.035 at δ = 1e-5 after 10000 steps with q = 0\.01, z = 4 \(tight conversion, best RDP order 17\)\n$/);
  });

  it('epsilon reports an unbounded ε as null in JSON', async () => {
    const out = onlyJsonLine(await privacy('epsilon', '--q', '0.1', '--noise', '0', '--steps', '5', '--delta', '1e-5', '--json'));
    expect(out.epsilon).toBeNull();
  });

  it('calibrate --json finds the noise multiplier for a budget', async () => {
    const out = onlyJsonLine(
      await privacy('calibrate', '--q', '0.01', '--steps', '10000', '--delta', '1e-5', '--epsilon', '1.26', '--conversion', 'classic', '--json'),
    );
    expect(out).toMatchObject({ conversion: 'classic', targetEpsilon: 1.26, q: 0.01, steps: 10000, delta: 1e-5 });
    // Inverts the Abadi et al. example above: σ = 4 gives ε ≈ 1.26.
    expect(Math.abs((out.noise as number) - 4)).toBeLessThan(0.01);
    expect(out.epsilon as number).toBeLessThanOrEqual(1.26);
    expect(out.epsilon as number).toBeGreaterThan(1.259);
  });

  it('rejects a bad flag value with a message naming the flag, exiting non-zero', async () => {
    const badQ = await privacyFailure('epsilon', '--q', '1.5', '--noise', '1', '--steps', '10', '--delta', '1e-5');
    expect(badQ.code).not.toBe(0);
    expect(badQ.stderr).toContain("option '--q <q>' argument '1.5' is invalid");
    expect(badQ.stderr).toContain('expected a probability in [0, 1], got "1.5"');

    const badSteps = await privacyFailure('calibrate', '--q', '0.1', '--steps', 'ten', '--delta', '1e-5', '--epsilon', '1');
    expect(badSteps.code).not.toBe(0);
    expect(badSteps.stderr).toMatch(/--steps.*expected a whole number of steps ≥ 0, got "ten"/);
  });

  it('calibrate explains an unreachable budget and exits non-zero', async () => {
    const { code, stderr } = await privacyFailure('calibrate', '--q', '0.1', '--steps', '100', '--delta', '1e-5', '--epsilon', '0.0001');
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/targetEpsilon 0\.0001 is unreachable/);
  });

  it('table prints both conversions as Markdown, and every cell as JSON with --json', async () => {
    const markdown = await privacy('table');
    expect(markdown).toContain('tight conversion');
    expect(markdown).toContain('classic conversion');
    expect(markdown).toContain('|    q |   z |  T = 1 | T = 100 | T = 1,000 | T = 10,000 |');
    // The Abadi et al. cell in the classic table.
    expect(markdown).toMatch(/\| 0\.01 \|\s+4 \|.*\|\s+1\.26 \|\n/);

    const json = onlyJsonLine(await privacy('table', '--delta', '1e-6', '--json'));
    expect(json.delta).toBe(1e-6);
    const rows = json.rows as Array<{ q: number; noise: number; steps: number; conversion: string; epsilon: number; order: number }>;
    expect(rows).toHaveLength(3 * 4 * 4 * 2);
    for (const row of rows.filter((r) => r.conversion === 'tight')) {
      const classic = rows.find((r) => r.conversion === 'classic' && r.q === row.q && r.noise === row.noise && r.steps === row.steps)!;
      expect(row.epsilon).toBeLessThanOrEqual(classic.epsilon);
    }
  });
});
