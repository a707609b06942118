/**
 * A real nats-server for integration tests, on a free loopback port. Its max_payload is set
 * low (256 KiB) on purpose, so that every model and update crosses the wire in several chunks.
 * Without nats-server on PATH the tests fail: they must not silently skip (CI installs it).
 */
import { afterAll, beforeAll } from 'vitest';
import { findNatsServerBinary, startNatsServer, type NatsServerHandle } from '../../shared/bus/nats-server-process.js';

export const TEST_MAX_PAYLOAD = 256 * 1024;

export async function startTestNatsServer(): Promise<NatsServerHandle> {
  if (!findNatsServerBinary()) {
    throw new Error('nats-server is not on PATH: integration tests need it (apt-get install nats-server; .ci/run installs it)');
  }
  return startNatsServer({ maxPayload: TEST_MAX_PAYLOAD });
}

/**
 * One test nats-server for the whole file: started before its tests, stopped after them. Read
 * `url` inside tests (it exists once the server is up).
 */
export function useTestNatsServer(): { readonly url: string } {
  let server: NatsServerHandle | undefined;
  beforeAll(async () => {
    server = await startTestNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get url(): string {
      if (!server) throw new Error('the test nats-server is not running (use its url inside a test)');
      return server.url;
    },
  };
}
