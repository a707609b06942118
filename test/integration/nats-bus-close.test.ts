/**
 * A bus must close whenever its server disappears: Ctrl-C stops the private nats-server with the
 * coordinator, which then closes its bus while the client is still trying to reconnect. nats.js
 * leaves drain() pending forever when the connection gives up during it, and a process left with
 * nothing but that promise exits with code 13 and no outputs (seen in CI). Closing one bus at each
 * moment across the whole reconnect window catches that moment whatever the machine's load.
 */
import { describe, expect, it } from 'vitest';
import { NatsBus } from '../../shared/bus/nats-bus.js';
import { findNatsServerBinary, startNatsServer } from '../../shared/bus/nats-server-process.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// NatsBus gives up after 10 reconnect attempts 500 ms apart: about 5–6 s after the server went.
const CLOSE_AT_MS = Array.from({ length: 32 }, (_, i) => i * 250);

describe.runIf(findNatsServerBinary() || process.env.CI)('closing a NatsBus whose server went away', () => {
  it('settles at every moment of the reconnect window, with subscriptions still open', async () => {
    const server = await startNatsServer();
    const buses = await Promise.all(CLOSE_AT_MS.map((_, i) => NatsBus.connect(server.url, `close-test-${i}`)));
    for (const bus of buses) {
      bus.subscribe('fedsim.close-test.a', () => {});
      bus.subscribe('fedsim.close-test.>', () => {});
    }
    await server.stop();
    const closedAt = await Promise.all(
      buses.map(async (bus, i) => {
        const at = CLOSE_AT_MS[i]!;
        await sleep(at);
        return Promise.race([bus.close().then(() => at), sleep(15_000).then(() => 'pending' as const)]);
      }),
    );
    expect(closedAt).toEqual(CLOSE_AT_MS);
  }, 60_000);
});
