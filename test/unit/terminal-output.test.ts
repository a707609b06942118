/** What people read on the terminal: log lines without float noise, and the run's summary line. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etaSeconds, formatEta, RoundTally } from '../../app/output/round-tally.js';
import { describe, expect, it } from 'vitest';
import { countOf, summaryLine } from '../../app/output/summary-line.js';
import type { RunSummary } from '../../app/run/run-simulation.js';
import { createLogger, readableNumbers, roundForReading } from '../../shared/logging/logger.js';

describe('terminal log lines', () => {
  it('keep every integer digit and at least 4 significant ones', () => {
    expect(roundForReading(28579.46553500003)).toBe(28579);
    expect(roundForReading(0.009999999999999953)).toBe(0.01);
    expect(roundForReading(13.514672120840014)).toBe(13.51);
    expect(roundForReading(-0.4853733333333333)).toBe(-0.4854);
    expect(roundForReading(1e-5)).toBe(1e-5);
    expect(roundForReading(1764629608123)).toBe(1764629608123);
    expect(roundForReading(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });

  it('are rounded on their way to the pretty printer, nested values too', () => {
    const written: string[] = [];
    const terminal = readableNumbers({ write: (line: string) => written.push(line) });
    terminal.write(
      `${JSON.stringify({ level: 30, time: 1764629608123, msg: 'worker finished', trainMs: 28579.46553500003, attacks: [{ advantage: 0.009999999999999953 }] })}\n`,
    );
    expect(JSON.parse(written[0]!)).toEqual({ level: 30, time: 1764629608123, msg: 'worker finished', trainMs: 28579, attacks: [{ advantage: 0.01 }] });
    // Whatever is not a JSON line passes as it is.
    terminal.write('not json\n');
    expect(written[1]).toBe('not json\n');
  });

  it('keep every digit in the log file, which is for machines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedsim-log-'));
    try {
      const file = join(dir, 'coordinator.log');
      const log = createLogger({ name: 'test', level: 'silent', file });
      log.info({ trainMs: 28579.46553500003 }, 'worker finished');
      log.flush();
      expect(JSON.parse(readFileSync(file, 'utf8').trim())).toMatchObject({ trainMs: 28579.46553500003 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function summary(overrides: Partial<RunSummary>): RunSummary {
  return {
    name: 'tiny',
    runId: 'tiny-2026',
    runDir: 'runs/tiny-2026',
    status: 'completed',
    stopReason: 'rounds completed',
    roundsCompleted: 3,
    roundsPlanned: 3,
    clients: 10,
    clientsPerRound: 4,
    finalTestAccuracy: 0.9123,
    finalTestLoss: 0.3,
    finalTestMse: null,
    target: null,
    roundsToTarget: null,
    totalWallMs: 4503.99,
    meanRoundMs: 1500,
    backend: 'cpu (pure JS)',
    transport: { kind: 'in-process', origin: 'in-process', address: 'in-process' },
    workers: { count: 1, backends: { 'in-process-1': 'cpu (pure JS)' } },
    bytesDown: 1000,
    bytesUp: 1000,
    parameters: 25450,
    clientsDropped: 0,
    updatesRejected: 0,
    privacy: null,
    membershipInference: null,
    compute: { flops: 1, wastedFlops: 0, simulatedSeconds: null, energyJoules: null, emissionsGrams: null, stragglers: 0 },
    costToTarget: null,
    secureAggregation: null,
    ...overrides,
  };
}

describe('the run summary line', () => {
  it('counts workers in the singular and the plural', () => {
    expect(summaryLine(summary({}))).toBe('finished tiny-2026: 3/3 rounds, test accuracy 91.23%, 4.5 s, 1 worker (cpu (pure JS)), in-process → runs/tiny-2026');
    expect(summaryLine(summary({ workers: { count: 2, backends: {} } }))).toContain(', 2 workers (cpu (pure JS)),');
    expect(countOf(0, 'client')).toBe('0 clients');
  });

  it('says a run stopped by hand stopped, and a failed one failed', () => {
    expect(summaryLine(summary({ stopReason: 'stopped', roundsCompleted: 2 }))).toMatch(/^stopped tiny-2026: 2\/3 rounds,/);
    expect(summaryLine(summary({ stopReason: 'target reached', roundsToTarget: 2 }))).toMatch(/^finished tiny-2026: .*, target reached in round 2,/);
    expect(summaryLine(summary({ status: 'failed', error: 'no worker' }))).toMatch(/^FAILED tiny-2026: .*\n {2}error: no worker$/);
  });
});

describe('a failed connection to NATS', () => {
  it('says where its URL came from', async () => {
    const { openTransport } = await import('../../shared/bus/open-transport.js');
    const { pino } = await import('pino');
    const system = { transport: 'nats', natsUrl: 'nats://127.0.0.1:1' } as Parameters<typeof openTransport>[0];
    await expect(openTransport(system, pino({ level: 'silent' }), { name: 'x', workers: 1 }, { NATS_URL: 'nats://127.0.0.1:2' })).rejects.toThrow(
      /127\.0\.0\.1:2.*\(the URL came from NATS_URL in the environment\)$/s,
    );
    await expect(openTransport(system, pino({ level: 'silent' }), { name: 'x', workers: 1 }, {})).rejects.toThrow(
      /\(the URL came from the scenario's system\.natsUrl\)$/,
    );
  }, 30_000);
});

describe('progress inside a round', () => {
  it('counts clients done of the cohort, less stragglers, and the samples/s trained so far', () => {
    let now = 1000;
    const tally = new RoundTally(() => now);
    expect(tally.text()).toBe('');
    for (const clientId of [1, 2, 3, 4]) tally.event({ round: 1, clientId, state: 'selected' });
    tally.event({ round: 1, clientId: 4, state: 'straggler' });
    expect(tally.text()).toBe('round 1: 0/3 clients');
    now += 2000;
    tally.event({ round: 1, clientId: 1, state: 'done', samplesTrained: 600 });
    tally.event({ round: 1, clientId: 2, state: 'done', samplesTrained: 1400 });
    expect(tally.text()).toBe('round 1: 2/3 clients, 1,000 samples/s');
    tally.event({ round: 2, clientId: 7, state: 'selected' });
    expect(tally.text()).toBe('round 2: 0/1 clients');
  });

  it('has no ETA before the first round ends, then extrapolates the mean round', () => {
    expect(formatEta(etaSeconds(0, 100, 420_000))).toBe('—');
    expect(formatEta(etaSeconds(2, 10, 20_000))).toBe('1m20s');
    expect(formatEta(etaSeconds(1, 100, 40_000))).toBe('1h06m');
    expect(formatEta(etaSeconds(10, 10, 5_000))).toBe('0s');
  });
});
