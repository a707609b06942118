/**
 * A coordinator SIGKILLed mid-run sends no run-end: its workers must notice the silence (no
 * heartbeat for system.coordinatorSilenceSeconds) and leave instead of waiting forever.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Worker } from '../../client/worker.js';
import { heartbeatIntervalMs } from '../../coordinator/coordinator.js';
import { NatsBus } from '../../shared/bus/nats-bus.js';
import { useTestNatsServer } from '../support/nats-harness.js';

const nats = useTestNatsServer();
const fedsimBin = resolve(import.meta.dirname, '../../bin/fedsim.js');

describe('a coordinator that dies', () => {
  it('is presumed gone by its workers once its heartbeats stop', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'fedsim-coordinator-loss-'));
    const file = join(scratch, 'scenario.yaml');
    const name = 'it-coordinator-loss';
    writeFileSync(
      file,
      stringify({
        name,
        seed: 3,
        dataset: { name: 'mnist', trainLimit: 1000, testLimit: 200 },
        partition: { kind: 'iid', clients: 4 },
        model: { name: 'mlp', hidden: [16] },
        rounds: 50,
        clientsPerRound: 2,
        training: { epochs: 5, batchSize: 10, optimizer: 'sgd', learningRate: 0.05 },
        // Workers: only the one this test brings.
        system: { backend: 'cpu', workers: 0, natsUrl: nats.url, roundTimeoutSeconds: 900, coordinatorSilenceSeconds: 3 },
        output: { dir: join(scratch, 'runs'), saveModel: false },
      }),
    );
    const coordinator = spawn(process.execPath, [fedsimBin, 'run', file, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    coordinator.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const bus = await NatsBus.connect(nats.url, 'survivor');
    let ready!: () => void;
    const isReady = new Promise<void>((done) => (ready = done));
    const worker = new Worker({ bus, runName: name, log: pino({ level: 'silent' }), workerId: 'survivor', backend: 'cpu', onReadyChange: (r) => r && ready() });
    const done = worker.run();
    await isReady;
    coordinator.kill('SIGKILL');
    const stats = await done;
    await bus.close();
    expect(stats.endReason, stderr).toBe('coordinator silent for 3 s');
  }, 120_000);

  it('beats six times per silence window, at most every 10 s', () => {
    expect(heartbeatIntervalMs(3)).toBe(500);
    expect(heartbeatIntervalMs(120)).toBe(10_000);
  });
});
