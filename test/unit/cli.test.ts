/**
 * The command line as a user meets it: a child `node bin/fedsim.js` process, its stdout, stderr
 * and exit status. `fedsim privacy` has its own file (privacy-cli.test.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadSweepFile, parseSweep } from '../../app/compare/sweep-file.js';
import { loadScenarioFile, validateScenario } from '../../shared/scenario/load-scenario.js';
import { yamlAliasBomb } from '../support/hostile-yaml.js';

const fedsimBin = fileURLToPath(new URL('../../bin/fedsim.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'fedsim-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs fedsim to its end, failed or not; NATS_URL only where a test sets it. */
function fedsim(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const { NATS_URL: _ignored, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, [fedsimBin, ...args], { env: { ...inherited, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function scratchFile(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

describe('fedsim --version', () => {
  it("prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const { code, stdout } = await fedsim([flag]);
      expect(code).toBe(0);
      expect(stdout).toBe(`${version}\n`);
    }
  });
});

describe('fedsim validate', () => {
  it('prints a scenario resolved as YAML, with its summary as comments, and as JSON with --json', async () => {
    const yaml = await fedsim(['validate', 'scenarios/quickstart.yaml']);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toMatch(/^# scenarios\/quickstart.yaml: valid scenario "quickstart"\n# {3}mnist data, iid partition over 100 clients, model mlp\n/);
    const resolved = await loadScenarioFile('scenarios/quickstart.yaml');
    // Defaults filled in, and the printed file is itself a valid scenario that resolves the same.
    expect(parse(yaml.stdout)).toEqual(JSON.parse(JSON.stringify(resolved)));
    expect(validateScenario(parse(yaml.stdout))).toEqual(resolved);
    expect(yaml.stdout).toContain('taskAckWaitSeconds: 30');

    const json = await fedsim(['validate', '--json', 'scenarios/quickstart.yaml']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(parse(yaml.stdout));
  });

  it('recognises the sweep files and validates their base and every variant', async () => {
    for (const file of ['scenarios/privacy-sweep.yaml', 'scenarios/compute-sweep.yaml']) {
      const { code, stdout, stderr } = await fedsim(['validate', file]);
      expect(stderr, file).toBe('');
      expect(code, file).toBe(0);
      const sweep = await loadSweepFile(file);
      expect(stdout).toContain(`# ${file}: valid sweep "${sweep.name}", base and ${sweep.variants.length} variants\n`);
      expect(stdout).toContain(`#   variants: ${sweep.variants.map((v) => v.name).join(', ')}\n`);
      // The printed sweep loads back to the same variants.
      const reloaded = await parseSweep(parse(stdout), file);
      expect(reloaded.variants.map((v) => [v.name, v.scenario])).toEqual(sweep.variants.map((v) => [v.name, v.scenario]));
    }
  });

  it('refuses a sweep with an invalid variant, naming the variant', async () => {
    const file = scratchFile(
      'bad-variant.yaml',
      'sweep: s\nbase: quickstart.yaml\nvariants:\n  - name: ok\n  - name: bad\n    overrides: { training.learningRate: -1, training.epoch: 2 }\n'.replace(
        'quickstart.yaml',
        fileURLToPath(new URL('../../scenarios/quickstart.yaml', import.meta.url)),
      ),
    );
    const { code, stdout, stderr } = await fedsim(['validate', file]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${file} is not a valid sweep:\n`);
    expect(stderr).toContain('  - variant bad: training.learningRate: too small (got -1, expected > 0)\n');
    expect(stderr).toContain('  - variant bad: training.epoch: unknown field, did you mean epochs? (got 2)\n');
  });

  it('suggests the field a misspelt key was meant to be, and shows the line of a YAML syntax error', async () => {
    const misspelt = scratchFile('misspelt.yaml', readFileSync('scenarios/quickstart.yaml', 'utf8').replace(/^model:/m, 'modle:'));
    const spelling = await fedsim(['validate', misspelt]);
    expect(spelling.code).toBe(2);
    expect(spelling.stderr).toBe(`${misspelt} is not a valid scenario:\n  - modle: unknown field, did you mean model? (got a mapping)\n`);

    const broken = scratchFile('broken.yaml', 'name: x\nrounds: [3\n');
    const syntax = await fedsim(['validate', broken]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toBe(
      `${broken} is not a valid scenario:\n  - YAML syntax at the end of the file, after line 2: Flow sequence in block collection must be sufficiently indented and end with a ]\n      2 | rounds: [3\n`,
    );
  });
});

describe('fedsim validate and run refuse what the runtime cannot run', () => {
  const quickstart = readFileSync('scenarios/quickstart.yaml', 'utf8');
  /** quickstart.yaml with one change, writing any run under its own scratch folder. */
  function variant(name: string, change: (text: string) => string): { file: string; runs: string } {
    const runs = join(scratch, `runs-${name}`);
    const text = change(quickstart).replace(/^output:\n(?: {2}.*\n)*/m, `output:\n  dir: ${runs}\n`);
    return { file: scratchFile(`${name}.yaml`, text), runs };
  }
  const cases: [string, () => { file: string; runs: string }, string][] = [
    [
      'a timeout past Node timers',
      () => variant('timer', (t) => t.replace('roundTimeoutSeconds: 120', 'roundTimeoutSeconds: 2147484')),
      'system.roundTimeoutSeconds: too large (got 2147484',
    ],
    ['an absurd worker count', () => variant('workers', (t) => t.replace('workers: auto', 'workers: 100000000')), 'system.workers: too large (got 100000000'],
    ['a model over the memory budget', () => variant('model', (t) => t.replace('preset: 2nn', 'hidden: [100000000]')), 'too large for the memory budget'],
    [
      'more clients than samples',
      () => variant('clients', (t) => t.replace('clients: 100', 'clients: 1000000')),
      'partition.clients: more clients than training samples (got 1000000',
    ],
    [
      'a 10 MB description',
      () => variant('description', (t) => t.replace(/^description: .*$/m, `description: ${'x'.repeat(10_000_000)}`)),
      'description: too long (got 10000000 characters, expected ≤ 10000)',
    ],
    ['a binary file', () => ({ file: scratchFile('binary.yaml', 'name: x\n\u0000\u0001'), runs: join(scratch, 'runs-binary') }), 'NUL byte at offset 8'],
    ['a YAML alias bomb', () => ({ file: scratchFile('bomb.yaml', yamlAliasBomb()), runs: join(scratch, 'runs-bomb') }), 'YAML aliases'],
  ];

  it.each(cases)('%s: exit 2 naming the file and the problem, and no run folder', { timeout: 120_000 }, async (_what, make, problem) => {
    const { file, runs } = make();
    for (const command of ['validate', 'run']) {
      const outcome = await fedsim([command, file]);
      expect(outcome.code, `${command}: ${outcome.stderr.slice(0, 500)}`).toBe(2);
      expect(outcome.stderr.startsWith(`${file} is not a valid scenario:\n  - `)).toBe(true);
      expect(outcome.stderr).toContain(problem);
      // The offending text is never echoed whole.
      expect(outcome.stderr.length).toBeLessThan(2_000);
    }
    expect(existsSync(runs)).toBe(false);
  });
});

describe('fedsim compare', () => {
  it('says it expected a sweep file when given a scenario, not what zod made of it', async () => {
    const { code, stdout, stderr } = await fedsim(['compare', 'scenarios/quickstart.yaml']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'scenarios/quickstart.yaml is not a valid sweep:\n  - (top level): this is a scenario, not a sweep file (expected sweep:, base: and variants: or grid:, as in scenarios/privacy-sweep.yaml); run it with `fedsim run scenarios/quickstart.yaml`, or make it the base of a sweep\n',
    );
  });
});

describe('fedsim worker', () => {
  it('without --nats says that NATS_URL works too', async () => {
    const { code, stderr } = await fedsim(['worker', '--run', 'quickstart']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: no NATS server given: pass --nats nats:\/\/host:4222 or set NATS_URL in the environment\n/);
  });

  it('names where the URL of a failed connection came from', async () => {
    // Nothing listens on port 1: the connection is refused at once.
    const fromEnv = await fedsim(['worker', '--run', 'quickstart'], { NATS_URL: 'nats://127.0.0.1:1' });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toMatch(/^fedsim: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1 .*\(the URL came from NATS_URL in the environment\)\n$/);
    const fromFlag = await fedsim(['worker', '--run', 'quickstart', '--nats', 'nats://127.0.0.1:1'], { NATS_URL: 'nats://127.0.0.1:2' });
    expect(fromFlag.stderr).toMatch(/^fedsim: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1 .*\(the URL came from --nats\)\n$/);
  });
});
