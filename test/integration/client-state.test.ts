/**
 * The client-state store's contract on both placements: the JetStream object store on a real
 * nats-server, written and read by a worker logged in with the run's generated permissions, and
 * the in-process Map. Values round-trip bit for bit (several chunks each), overwrite, stay apart
 * per client and key, count towards usage, refuse writes past the limit, and vanish with the run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../shared/bus/bus.js';
import { InProcessBus } from '../../shared/bus/in-process-bus.js';
import { NatsBus } from '../../shared/bus/nats-bus.js';
import { startNatsServer, type NatsServerHandle } from '../../shared/bus/nats-server-process.js';
import { authorizationConfig, generateRunUsers, natsLoginEnv } from '../../shared/bus/run-users.js';
import { ClientStateFull } from '../../shared/client-state/client-state-store.js';
import { TEST_MAX_PAYLOAD } from '../support/nats-harness.js';

const RUN = 'state-test';
/** 300 k floats: 1.2 MB, several chunks of the object store and well past the test server's max_payload. */
const LENGTH = 300_000;
const LIMIT = 8 * LENGTH * 4;

function ramp(length: number, offset: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.sin(i + offset) * 1e-3);
}

let server: NatsServerHandle;
const users = generateRunUsers(RUN, 1);

beforeAll(async () => {
  server = await startNatsServer({ maxPayload: TEST_MAX_PAYLOAD, extraConfig: authorizationConfig([users.coordinator, ...users.workers]) });
});
afterAll(async () => {
  await server?.stop();
});

const placements: [string, () => Promise<{ coordinator: Bus; worker: Bus }>][] = [
  [
    'JetStream object store, run users',
    async () => ({
      coordinator: await NatsBus.connect(server.url, 'coordinator', undefined, natsLoginEnv(users.coordinator)),
      worker: await NatsBus.connect(server.url, 'worker-0', undefined, natsLoginEnv(users.workers[0]!)),
    }),
  ],
  [
    'in-process',
    () => {
      const bus = new InProcessBus();
      return Promise.resolve({ coordinator: bus, worker: bus });
    },
  ],
];

describe.each(placements)('client state: %s', (_name, openBuses) => {
  let coordinator: Bus;
  let worker: Bus;
  beforeAll(async () => ({ coordinator, worker } = await openBuses()));
  afterAll(async () => {
    if (worker !== coordinator) await worker.close();
    await coordinator.close();
  });

  it('keeps each client’s values apart, overwrites them, reports usage and is gone with the run', async () => {
    const owned = await coordinator.openClientState(RUN, LIMIT);
    const store = await worker.clientState(RUN);
    expect(await store.get(3, 'control')).toBeNull();
    await store.put(3, 'control', ramp(LENGTH, 0));
    await store.put(3, 'residual', ramp(LENGTH, 1));
    await store.put(4, 'control', ramp(LENGTH, 2));
    expect(await store.get(3, 'control')).toEqual(ramp(LENGTH, 0));
    expect(await store.get(3, 'residual')).toEqual(ramp(LENGTH, 1));
    expect(await store.get(4, 'control')).toEqual(ramp(LENGTH, 2));
    await store.put(3, 'control', ramp(LENGTH, 5));
    expect(await store.get(3, 'control')).toEqual(ramp(LENGTH, 5));
    const usage = await owned.usage();
    expect(usage.entries).toBe(3);
    expect(usage.bytes).toBeGreaterThanOrEqual(3 * LENGTH * 4);
    expect(usage.bytes).toBeLessThan(3.1 * LENGTH * 4);
    expect(usage.limitBytes).toBe(LIMIT);

    await owned.destroy();
    await expect(worker.clientState(RUN)).rejects.toThrow(/client-state|coordinator/);
  });

  it('refuses a write past its limit, and a reopened store starts empty', async () => {
    await coordinator.openClientState(RUN, LIMIT);
    await (await worker.clientState(RUN)).put(1, 'control', ramp(10, 0));
    const owned = await coordinator.openClientState(RUN, 2 * LENGTH * 4 + 4096);
    const store = await worker.clientState(RUN);
    expect(await store.get(1, 'control')).toBeNull();
    await store.put(0, 'control', ramp(LENGTH, 0));
    await store.put(1, 'control', ramp(LENGTH, 0));
    await expect(store.put(2, 'control', ramp(LENGTH, 0))).rejects.toThrow(ClientStateFull);
    expect(await store.get(0, 'control')).toEqual(ramp(LENGTH, 0));
    await owned.destroy();
  });
});
