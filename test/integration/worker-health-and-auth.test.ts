/**
 * What a cluster relies on: a worker's /healthz, /readyz and /metrics on its health port, and a
 * NATS server with per-role users that refuses a worker with the wrong password, clearly.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort, startNatsServer, type NatsServerHandle } from '../../shared/bus/nats-server-process.js';
import { runSimulation } from '../../app/run/run-simulation.js';
import { TEST_MAX_PAYLOAD } from '../support/nats-harness.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const run = promisify(execFile);
let nats: NatsServerHandle;
const USERS = { coordinator: 'coordinator-secret', worker: 'worker-secret' };

beforeAll(async () => {
  nats = await startNatsServer({
    maxPayload: TEST_MAX_PAYLOAD,
    extraConfig: `authorization { users = [ { user: coordinator, password: ${USERS.coordinator} }, { user: worker, password: ${USERS.worker} } ] }`,
  });
});
afterAll(async () => {
  await nats?.stop();
});

async function get(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text() };
}

describe('a worker in a secured cluster', () => {
  it('is refused with a clear message when its password is wrong', async () => {
    const failure = await run(process.execPath, ['bin/fedsim.js', 'worker', '--nats', nats.url, '--run', 'x'], {
      env: { ...process.env, NATS_USER: 'worker', NATS_PASSWORD: 'wrong' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect((failure as { code: number }).code).toBe(1);
    expect((failure as { stderr: string }).stderr).toMatch(
      /NATS at nats:\/\/127\.0\.0\.1:\d+ refused user "worker" .*check NATS_USER \/ NATS_PASSWORD or NATS_CREDS/,
    );
  });

  it('serves health, readiness and metrics while it trains a run with its credentials', async () => {
    const port = await freeLoopbackPort();
    const worker = spawn(
      process.execPath,
      ['bin/fedsim.js', 'worker', '--nats', nats.url, '--run', 'it-health', '--keep-alive', '--health-port', String(port), '--log-level', 'warn'],
      {
        env: { ...process.env, NATS_USER: 'worker', NATS_PASSWORD: USERS.worker },
        stdio: 'ignore',
      },
    );
    try {
      let health = { status: 0, text: '' };
      for (let i = 0; i < 100 && health.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        health = await get(`http://127.0.0.1:${port}/healthz`).catch(() => health);
      }
      expect(health.status).toBe(200);
      // Not in a run yet: alive but not ready.
      expect((await get(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);

      const readiness: number[] = [];
      // The coordinator connects with its own role's credentials, from the environment as in a pod.
      Object.assign(process.env, { NATS_USER: 'coordinator', NATS_PASSWORD: USERS.coordinator });
      const summary = await runSimulation(tinyMnistScenario({ name: 'it-health', rounds: 2, system: { natsUrl: nats.url, workers: 0, backend: 'cpu' } }), {
        logLevel: 'silent',
        progress: false,
        onRound: () => void get(`http://127.0.0.1:${port}/readyz`).then((r) => readiness.push(r.status)),
      }).finally(() => {
        delete process.env.NATS_USER;
        delete process.env.NATS_PASSWORD;
      });
      expect(summary.status, summary.error).toBe('completed');
      await new Promise((r) => setTimeout(r, 200));
      expect(readiness).toContain(200);
      const metrics = (await get(`http://127.0.0.1:${port}/metrics`)).text;
      expect(metrics).toMatch(/^fedsim_worker_clients_trained_total 8$/m);
      expect(metrics).toMatch(/^fedsim_worker_model_fetches_total 2$/m);
      expect(metrics).toMatch(/^fedsim_worker_client_train_seconds_count 8$/m);
    } finally {
      worker.kill('SIGTERM');
    }
  }, 120_000);
});
