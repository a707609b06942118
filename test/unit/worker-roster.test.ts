/**
 * The join reply carries the whole resolved scenario to each worker in one message: one that
 * cannot fit the bus's max_payload must stop the run at start, not leave it waiting for workers
 * whose joins are never answered. In-process bus (a unit test of the roster's logic).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { WorkerRoster } from '../../coordinator/workers/worker-roster.js';
import { InProcessBus } from '../../shared/bus/in-process-bus.js';
import { decodeFrameOf, encodeFrame } from '../../shared/protocol/frame.js';
import { subjects } from '../../shared/protocol/messages.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const log = pino({ level: 'silent' });

describe('the worker roster', () => {
  it('refuses to start when the join reply would exceed max_payload, naming both sizes', () => {
    const scenario = tinyMnistScenario({ name: 'roster', description: 'd'.repeat(9_000) });
    const roster = new WorkerRoster(new InProcessBus(8_000), subjects('roster'), { scenario, runId: 'r1' }, log);
    expect(() => roster.start()).toThrow(/the scenario is \d+ bytes as the workers receive it, over the bus's max_payload of 8000 bytes/);
  });

  it('answers a join with the scenario when it fits', async () => {
    const scenario = tinyMnistScenario({ name: 'roster' });
    const bus = new InProcessBus();
    const roster = new WorkerRoster(bus, subjects('roster'), { scenario, runId: 'r1' }, log);
    roster.start();
    const join = encodeFrame('join', { workerId: 'w1', host: 'h', pid: 1, backend: 'cpu' });
    const reply = decodeFrameOf(await bus.request(subjects('roster').join, join, 1_000), 'join-reply');
    expect(reply.header).toMatchObject({ runName: 'roster', runId: 'r1', scenario: { name: 'roster' } });
    expect(roster.workers.has('w1')).toBe(true);
    roster.stop();
  });
});
