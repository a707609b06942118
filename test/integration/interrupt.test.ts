/**
 * Ctrl-C as a terminal sends it: SIGINT to the whole process group (the coordinator, its worker
 * processes and its private nats-server at once). The first ends the run without waiting out the
 * round's deadline and still writes summary, report and model; the second leaves at once with
 * summary.json written. Nothing stays behind: no worker, no nats-server folder.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runComparison } from '../../app/compare/run-comparison.js';
import { parseSweep } from '../../app/compare/sweep-file.js';
import { RunInterrupts } from '../../app/run/run-interrupts.js';
import { runSimulation, type RunSummary } from '../../app/run/run-simulation.js';
import { findNatsServerBinary } from '../../shared/bus/nats-server-process.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const fedsimBin = resolve(import.meta.dirname, '../../bin/fedsim.js');
// Rounds of several seconds, and a deadline no test would wait for: ending at the deadline times the test out.
const LONG_RUN = {
  seed: 5,
  dataset: { name: 'mnist', trainLimit: 2000, testLimit: 500 },
  partition: { kind: 'iid', clients: 4 },
  model: { name: 'mlp', hidden: [32] },
  rounds: 30,
  clientsPerRound: 2,
  training: { epochs: 15, batchSize: 10, optimizer: 'sgd', learningRate: 0.05 },
  system: { backend: 'cpu', workers: 2, roundTimeoutSeconds: 900 },
};

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 100));
}

interface Ended {
  code: number | null;
  stderr: string;
  runDir: string;
  tmp: string;
}

/** `fedsim run` in a process group of its own, SIGINTed as a group `presses` times once round 1 is recorded. */
async function runAndInterrupt(name: string, presses: 1 | 2): Promise<Ended> {
  const scratch = mkdtempSync(join(tmpdir(), 'fedsim-interrupt-'));
  const tmp = mkdtempSync(join(scratch, 'tmp-'));
  const file = join(scratch, 'scenario.yaml');
  writeFileSync(file, stringify({ name, ...LONG_RUN, output: { dir: join(scratch, 'runs'), saveModel: true } }));
  const child = spawn(process.execPath, [fedsimBin, 'run', file, '--log-level', 'info'], {
    detached: true,
    env: { ...process.env, TMPDIR: tmp, NATS_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let firstPressed = false;
  let secondSent = false;
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    // The second press only counts once the first was handled (Linux merges pending signals), and
    // must come before the run has finished ending: sent the moment the first is acknowledged.
    if (presses === 2 && firstPressed && !secondSent && stderr.includes('interrupted: ending the run now')) {
      secondSent = true;
      process.kill(-child.pid!, 'SIGINT');
    }
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  const runsDir = join(scratch, 'runs');
  const runDir = () => (existsSync(runsDir) ? readdirSync(runsDir).map((d) => join(runsDir, d))[0] : undefined);
  await until(() => {
    const dir = runDir();
    return dir !== undefined && existsSync(join(dir, 'metrics.jsonl'));
  });
  firstPressed = true;
  process.kill(-child.pid!, 'SIGINT');
  const code = await exited;
  return { code, stderr, runDir: runDir()!, tmp };
}

/** Worker processes still running for the run (their command line names it). */
function workersLeft(name: string): string {
  return spawnSync('pgrep', ['-af', '--', `--run ${name} `], { encoding: 'utf8' }).stdout.trim();
}

function summaryOf(runDir: string): RunSummary {
  return JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
}

describe.runIf(findNatsServerBinary() || process.env.CI)('Ctrl-C', () => {
  it('first press: the run ends mid-round without waiting for the deadline, with summary, report and model', async () => {
    const ended = await runAndInterrupt('it-interrupt-once', 1);
    expect(ended.code, ended.stderr).toBe(0);
    const summary = summaryOf(ended.runDir);
    expect(summary.status).toBe('completed');
    expect(summary.stopReason).toBe('interrupted');
    expect(summary.roundsCompleted).toBeGreaterThanOrEqual(1);
    expect(summary.roundsCompleted).toBeLessThan(LONG_RUN.rounds);
    // Only complete rounds are recorded: the interrupted one is not a fake all-dropped round.
    expect(readRoundMetrics(ended.runDir).every((m) => m.completed === LONG_RUN.clientsPerRound)).toBe(true);
    expect(summary.finalTestAccuracy).not.toBeNull();
    expect(existsSync(join(ended.runDir, 'report.html'))).toBe(true);
    expect(existsSync(join(ended.runDir, 'model', 'model.json'))).toBe(true);
    expect(readdirSync(ended.tmp).filter((d) => d.startsWith('fedsim-nats-'))).toEqual([]);
    expect(workersLeft('it-interrupt-once')).toBe('');
  }, 180_000);

  it('second press: exits at once with status "interrupted" in summary.json and no nats-server folder left', async () => {
    const ended = await runAndInterrupt('it-interrupt-twice', 2);
    expect(ended.code, ended.stderr).toBe(130);
    expect(summaryOf(ended.runDir).status).toBe('interrupted');
    expect(readdirSync(ended.tmp).filter((d) => d.startsWith('fedsim-nats-'))).toEqual([]);
    // SIGKILLed at the coordinator's exit if the SIGINT did not end them first: gone within moments.
    await until(() => workersLeft('it-interrupt-twice') === '');
  }, 180_000);
});

describe('interrupting a run in-process', () => {
  it('the first press discards the round in progress; a second writes summary.json with status "interrupted" at once', async () => {
    const scenario = tinyMnistScenario({ name: 'it-interrupt-in-process', rounds: 10, system: { backend: 'cpu', roundTimeoutSeconds: 900 } });
    const interrupts = new RunInterrupts();
    let atSecondPress: RunSummary | null = null;
    const summary = await runSimulation(scenario, {
      logLevel: 'silent',
      progress: false,
      interrupts,
      onClientEvent: (event) => {
        if (event.round !== 3 || event.state !== 'done' || interrupts.presses > 0) return;
        interrupts.press();
        interrupts.press();
        atSecondPress = JSON.parse(readFileSync(join(onlyRunDir(scenario.output.dir), 'summary.json'), 'utf8')) as RunSummary;
      },
    });
    expect(atSecondPress!.status).toBe('interrupted');
    expect(atSecondPress!.roundsCompleted).toBe(2);
    expect(summary.stopReason).toBe('interrupted');
    expect(summary.roundsCompleted).toBe(2);
    expect(readRoundMetrics(summary.runDir).map((m) => m.round)).toEqual([1, 2]);
  }, 120_000);
});

function onlyRunDir(runsDir: string): string {
  return join(runsDir, readdirSync(runsDir)[0]!);
}

describe('interrupting a local-DP run', () => {
  it('charges the ε of the noised updates the coordinator already saw in the discarded round', async () => {
    const scenario = tinyMnistScenario({
      name: 'it-interrupt-local-dp',
      rounds: 10,
      // q = 1: every client every round, so a client seen in round 3 has one release more than after round 2.
      partition: { kind: 'iid', clients: 4 },
      clientsPerRound: 4,
      privacy: { dp: { mode: 'local', clipNorm: 1, noiseMultiplier: 4 } },
      system: { backend: 'cpu', roundTimeoutSeconds: 900 },
    });
    const interrupts = new RunInterrupts();
    const summary = await runSimulation(scenario, {
      logLevel: 'silent',
      progress: false,
      interrupts,
      onClientEvent: (event) => event.round === 3 && event.state === 'done' && interrupts.presses === 0 && interrupts.press(),
    });
    const rounds = readRoundMetrics(summary.runDir);
    expect(summary.stopReason).toBe('interrupted');
    expect(rounds).toHaveLength(2);
    expect(summary.privacy!.epsilon).toBeGreaterThan(rounds[1]!.privacy!.epsilon);
  }, 120_000);
});

describe('interrupting a sweep', () => {
  it('ends the variant in progress, marks the rest "not run", and still writes the comparison and report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fedsim-compare-interrupt-'));
    const base = tinyMnistScenario({ rounds: 30, system: { transport: 'in-process', workers: 1, backend: 'cpu', roundTimeoutSeconds: 900 } });
    const sweep = await parseSweep(
      {
        sweep: 'it-sweep-interrupt',
        base: { ...base, name: undefined },
        output: { dir: out },
        variants: [{ name: 'first' }, { name: 'second', overrides: { 'training.learningRate': 0.05 } }, { name: 'third' }],
      },
      'it-sweep-interrupt.yaml',
    );
    const interrupts = new RunInterrupts();
    // Pressed once the first variant has started training (its run folder has a round in it).
    const pressed = setInterval(() => {
      if (existsSync(join(out, readdirSync(out)[0] ?? 'none', 'first', 'metrics.jsonl'))) {
        interrupts.press();
        clearInterval(pressed);
      }
    }, 50);
    const result = await runComparison(sweep, { logLevel: 'silent', progress: false, interrupts });
    clearInterval(pressed);
    expect(result.rows.map((r) => [r.name, r.status, r.stopReason])).toEqual([
      ['first', 'completed', 'interrupted'],
      ['second', 'not run', null],
      ['third', 'not run', null],
    ]);
    for (const file of ['comparison.json', 'comparison.csv', 'comparison.md', 'report.html']) expect(existsSync(join(result.dir, file)), file).toBe(true);
  }, 120_000);
});

describe('interrupting a sweep twice', () => {
  it('writes the comparison at once: the variant in progress interrupted, the rest not run', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fedsim-compare-abandon-'));
    const base = tinyMnistScenario({ rounds: 30, system: { transport: 'in-process', workers: 1, backend: 'cpu', roundTimeoutSeconds: 900 } });
    const sweep = await parseSweep(
      { sweep: 'it-sweep-abandon', base: { ...base, name: undefined }, output: { dir: out }, variants: [{ name: 'first' }, { name: 'second' }] },
      'it-sweep-abandon.yaml',
    );
    const interrupts = new RunInterrupts();
    let atSecondPress: { variants: { name: string; status: string }[] } | null = null;
    const pressed = setInterval(() => {
      const dir = join(out, readdirSync(out)[0] ?? 'none');
      if (!existsSync(join(dir, 'first', 'metrics.jsonl'))) return;
      clearInterval(pressed);
      interrupts.press();
      interrupts.press();
      atSecondPress = JSON.parse(readFileSync(join(dir, 'comparison.json'), 'utf8')) as typeof atSecondPress;
    }, 50);
    await runComparison(sweep, { logLevel: 'silent', progress: false, interrupts });
    clearInterval(pressed);
    expect(atSecondPress!.variants.map((v) => [v.name, v.status])).toEqual([
      ['first', 'interrupted'],
      ['second', 'not run'],
    ]);
  }, 120_000);
});
