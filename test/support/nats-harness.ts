/**
 * A real nats-server for integration tests, on a free loopback port. Its max_payload is set
 * low (256 KiB) on purpose, so that every model and update crosses the wire in several chunks.
 * Without nats-server on PATH the tests fail: they must not silently skip (CI installs it).
 */
import { findNatsServerBinary, startNatsServer, type NatsServerHandle } from '../../shared/bus/nats-server-process.js';

export const TEST_MAX_PAYLOAD = 256 * 1024;

export async function startTestNatsServer(): Promise<NatsServerHandle> {
  if (!findNatsServerBinary()) {
    throw new Error('nats-server is not on PATH: integration tests need it (apt-get install nats-server; .ci/run installs it)');
  }
  return startNatsServer({ maxPayload: TEST_MAX_PAYLOAD });
}
