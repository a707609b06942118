/**
 * The NATS server as the manifests configure it, run for real: nats-server with the rendered
 * nats-config ConfigMap and the passwords of `fedsim deploy creds`, JetStream on. The worker's
 * permissions must let it do its whole job (join, pull, claim and ack tasks from its run's
 * consumer, fetch the model, send results, take part in secure aggregation, hear control; a
 * whole secure-aggregation run goes through) and nothing else: no run's results, no other
 * run, no task injection, no JetStream administration. The TLS component's configuration, with
 * a certificate from its make-certificate.sh, must serve clients that verify it.
 * Needs nats-server (and openssl for TLS) on PATH; like the integration tests, it fails, never
 * skips, without them.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { TASK_STREAM, workerConsumer, writeCreds } from '../../cli/deploy-command.js';
import { renderKustomization } from '../../deploy/tools/kustomize.js';
import { findNatsServerBinary, freeLoopbackPort } from '../../shared/bus/nats-server-process.js';
import { runSimulation } from '../../app/run/run-simulation.js';
import { FEDSIM_BIN } from '../../app/workers/worker-processes.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN = 'k8s-mnist';
const encoder = new TextEncoder();

interface Server {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/** nats-server with an overlay's nats-config, ports and paths moved into a temp folder. */
async function startRenderedServer(overlay: string, env: Record<string, string>, tlsDir?: string): Promise<Server> {
  const binary = findNatsServerBinary();
  if (!binary) throw new Error('nats-server is not on PATH: this test needs it (apt-get install nats-server; .ci/run installs it)');
  const objects = renderKustomization(join(ROOT, 'deploy/k8s', overlay));
  const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'nats-config')!.data as Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'fedsim-nats-'));
  const port = await freeLoopbackPort();
  const monitor = await freeLoopbackPort();
  for (const [key, text] of Object.entries(config)) {
    let out = text;
    if (key === 'nats-server.conf') {
      out = out
        .replace(/^port: \d+$/m, `listen: 127.0.0.1:${port}`)
        .replace(/^http_port: \d+$/m, `http: 127.0.0.1:${monitor}`)
        .replace('store_dir: /data', `store_dir: ${join(dir, 'jetstream')}`);
    }
    if (key === 'tls.conf' && tlsDir) out = out.replaceAll('/etc/nats-tls/', `${tlsDir}/`);
    writeFileSync(join(dir, key), out);
  }
  const child: ChildProcess = spawn(binary, ['-c', join(dir, 'nats-server.conf')], {
    env: { PATH: process.env.PATH, POD_NAME: 'nats-0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`nats-server did not start: ${log}`)), 10_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        ready();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`nats-server exited with ${code}: ${log}`));
    });
  });
  return {
    url: `${tlsDir ? 'tls' : 'nats'}://127.0.0.1:${port}`,
    dir,
    stop: async () => {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The passwords `fedsim deploy creds` put in the two Secrets. */
function passwordsOf(dir: string): { coordinator: string; worker: string } {
  const read = (file: string) => (parseYaml(readFileSync(join(dir, file), 'utf8')) as { stringData: { NATS_USER: string; NATS_PASSWORD: string } }).stringData;
  return { coordinator: read('coordinator-secret.yaml').NATS_PASSWORD, worker: read('worker-secret.yaml').NATS_PASSWORD };
}

/** Permission errors come back asynchronously; collect them per connection. */
function violations(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'error') seen.push(String((status as { error?: Error }).error?.message ?? status.type));
    }
  })();
  return seen;
}

async function settle(nc: NatsConnection): Promise<void> {
  await nc.flush();
  await new Promise((r) => setTimeout(r, 150));
}

describe('NATS users from `fedsim deploy creds` on the rendered server configuration', () => {
  let server: Server;
  let credsDir: string;
  let coordinator: NatsConnection;
  let worker: NatsConnection;
  let workerErrors: string[];

  beforeAll(async () => {
    credsDir = mkdtempSync(join(tmpdir(), 'fedsim-creds-'));
    await writeCreds({ run: RUN, out: credsDir, namespace: 'fedsim' });
    const passwords = passwordsOf(credsDir);
    server = await startRenderedServer('overlays/local', { FEDSIM_COORDINATOR_PASSWORD: passwords.coordinator, FEDSIM_WORKER_PASSWORD: passwords.worker });
    coordinator = await connect({ servers: server.url, user: 'coordinator', pass: passwords.coordinator });
    // Replies come to the worker user's own inbox, as NatsBus sets it up (inboxPrefixOf).
    worker = await connect({ servers: server.url, user: 'worker', pass: passwords.worker, inboxPrefix: '_INBOX.worker' });
    workerErrors = violations(worker);
    // What the coordinator sets up for a run: the task stream and the run's durable pull consumer.
    const jsm = await jetstreamManager(coordinator);
    await jsm.streams.add({ name: TASK_STREAM, subjects: ['fedsim.*.tasks'], retention: RetentionPolicy.Workqueue });
    await jsm.consumers.add(TASK_STREAM, { durable_name: workerConsumer(RUN), filter_subject: `fedsim.${RUN}.tasks`, ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add(TASK_STREAM, {
      durable_name: workerConsumer('other-run'),
      filter_subject: 'fedsim.other-run.tasks',
      ack_policy: AckPolicy.Explicit,
    });
  });

  afterAll(async () => {
    await worker?.close();
    await coordinator?.close();
    await server?.stop();
    rmSync(credsDir, { recursive: true, force: true });
  });

  it('refuses a wrong password', async () => {
    await expect(connect({ servers: server.url, user: 'worker', pass: 'not-the-password', maxReconnectAttempts: 0 })).rejects.toThrow(/authoriz/i);
  });

  it("lets a worker pull its run's tasks and ack them", async () => {
    const js = jetstream(coordinator);
    await js.publish(`fedsim.${RUN}.tasks`, encoder.encode('client 7, round 1'));
    const consumer = await jetstream(worker).consumers.get(TASK_STREAM, workerConsumer(RUN));
    const message = await consumer.next({ expires: 2000 });
    expect(message && new TextDecoder().decode(message.data)).toBe('client 7, round 1');
    expect(await message!.ackAck()).toBe(true);
    const info = await (await jetstreamManager(coordinator)).consumers.info(TASK_STREAM, workerConsumer(RUN));
    expect(info.num_pending + info.num_ack_pending).toBe(0);
  });

  it('lets a worker join, fetch the model, claim tasks, send results and secure-aggregation messages, and hear control', async () => {
    const served: string[] = [];
    const subjects = ['join', 'ready', 'model', 'claim', 'results', 'secagg'];
    // Stand-ins for the coordinator, gone after this test (a real run follows on this server).
    const standIns = subjects.map((subject) =>
      coordinator.subscribe(`fedsim.${RUN}.${subject}`, {
        callback: (_error, message) => {
          served.push(subject);
          message.respond(encoder.encode(`ok ${subject}`));
        },
      }),
    );
    await coordinator.flush();
    for (const subject of subjects) {
      const reply = await worker.request(`fedsim.${RUN}.${subject}`, encoder.encode('frame'), { timeout: 2000 });
      expect(new TextDecoder().decode(reply.data)).toBe(`ok ${subject}`);
    }
    const control = worker.subscribe(`fedsim.${RUN}.control`, { max: 1 });
    await worker.flush();
    coordinator.publish(`fedsim.${RUN}.control`, encoder.encode('run-end'));
    for await (const message of control) expect(new TextDecoder().decode(message.data)).toBe('run-end');
    // Secure-aggregation batches addressed to a worker.
    const batches = worker.subscribe(`fedsim.${RUN}.secagg.some-worker`, { max: 1 });
    await worker.flush();
    coordinator.publish(`fedsim.${RUN}.secagg.some-worker`, encoder.encode('batch'));
    for await (const message of batches) expect(new TextDecoder().decode(message.data)).toBe('batch');
    for (const standIn of standIns) standIn.unsubscribe();
    expect(served).toEqual(subjects);
    expect(workerErrors).toEqual([]);
  });

  it.each([
    // Other clients' updates travel here: a worker must never receive them.
    [`fedsim.${RUN}.results`],
    [`fedsim.${RUN}.>`],
    // Subscribing to these would let a worker answer as the coordinator.
    [`fedsim.${RUN}.join`],
    [`fedsim.${RUN}.model`],
    [`fedsim.${RUN}.tasks`],
    // Replies to anyone else (the coordinator's, or another user's task deliveries and grants).
    ['_INBOX.>'],
    ['_INBOX.coordinator.>'],
    // Nothing of another run.
    ['fedsim.other-run.control'],
    ['fedsim.>'],
    ['$JS.API.>'],
  ])('refuses a worker subscription to %s', async (subject) => {
    const errors = violations(await connectWorker());
    const nc = lastWorker!;
    nc.subscribe(subject);
    await settle(nc);
    expect(errors.join('\n')).toMatch(/permission/i);
    await nc.close();
  });

  it.each([
    // Injecting tasks, or answering for the coordinator, or touching another run.
    [`fedsim.${RUN}.tasks`],
    [`fedsim.${RUN}.control`],
    ['fedsim.other-run.results'],
    ['fedsim.other-run.join'],
    [`$JS.API.CONSUMER.MSG.NEXT.${TASK_STREAM}.${workerConsumer('other-run')}`],
    [`$JS.API.CONSUMER.CREATE.${TASK_STREAM}.sneaky.fedsim.${RUN}.tasks`],
    [`$JS.API.STREAM.PURGE.${TASK_STREAM}`],
    [`$JS.ACK.${TASK_STREAM}.${workerConsumer('other-run')}.1.1.1.1.0`],
  ])('refuses a worker publish to %s', async (subject) => {
    const errors = violations(await connectWorker());
    const nc = lastWorker!;
    nc.publish(subject, encoder.encode('x'));
    await settle(nc);
    expect(errors.join('\n')).toMatch(/permission/i);
    await nc.close();
  });

  it("keeps a coordinator to its own run's subjects", async () => {
    const errors = violations(coordinator);
    coordinator.subscribe('fedsim.other-run.results');
    coordinator.publish('fedsim.other-run.tasks', encoder.encode('x'));
    await settle(coordinator);
    expect(errors.filter((e) => /permission/i.test(e))).toHaveLength(2);
  });

  it('carries a whole secure-aggregation run: the coordinator and two `fedsim worker` processes as these users', async () => {
    const passwords = passwordsOf(credsDir);
    const logDir = mkdtempSync(join(tmpdir(), 'fedsim-secured-run-'));
    const workers = [1, 2].map((i) => {
      const log = openSync(join(logDir, `worker-${i}.log`), 'w');
      return spawn(
        process.execPath,
        [FEDSIM_BIN, 'worker', '--nats', server.url, '--run', RUN, '--backend', 'cpu', '--log-format', 'json', '--worker-id', `secured-${i}`],
        {
          env: { ...process.env, NATS_USER: 'worker', NATS_PASSWORD: passwords.worker },
          stdio: ['ignore', log, log],
        },
      );
    });
    const scenario = tinyMnistScenario({
      name: RUN,
      rounds: 2,
      privacy: { secureAggregation: { clipNorm: 1, stepTimeoutSeconds: 10 } },
      system: { natsUrl: server.url, workers: 0, backend: 'cpu', roundTimeoutSeconds: 60 },
    });
    // The coordinator reads its user from the environment, as in its pod.
    const saved = { user: process.env.NATS_USER, password: process.env.NATS_PASSWORD };
    process.env.NATS_USER = 'coordinator';
    process.env.NATS_PASSWORD = passwords.coordinator;
    let summary;
    try {
      summary = await runSimulation(scenario, { logLevel: 'silent', progress: false });
    } finally {
      for (const [key, value] of [
        ['NATS_USER', saved.user],
        ['NATS_PASSWORD', saved.password],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await Promise.all(workers.map((w) => new Promise((done) => (w.exitCode !== null ? done(null) : w.once('exit', done)))));
    }
    expect(summary.status, summary.error).toBe('completed');
    const metrics = readRoundMetrics(summary.runDir);
    expect(metrics.map((m) => [m.completed, m.secureAggregation?.aborted])).toEqual([
      [4, false],
      [4, false],
    ]);
    // A refused message shows up as a step that waits out its timeout (10 s), not as an error.
    for (const m of metrics) expect(m.secureAggregation!.protocolMs).toBeLessThan(5_000);
    const logs = [1, 2].map((i) => readFileSync(join(logDir, `worker-${i}.log`), 'utf8')).join('\n');
    expect(logs).not.toMatch(/permission/i);
    rmSync(logDir, { recursive: true, force: true });
  }, 120_000);

  let lastWorker: NatsConnection | null = null;
  async function connectWorker(): Promise<NatsConnection> {
    lastWorker = await connect({ servers: server.url, user: 'worker', pass: passwordsOf(credsDir).worker, inboxPrefix: '_INBOX.worker' });
    return lastWorker;
  }
});

describe('NATS with the nats-tls component and a certificate from make-certificate.sh', () => {
  let server: Server;
  let tlsDir: string;
  let credsDir: string;

  beforeAll(async () => {
    tlsDir = mkdtempSync(join(tmpdir(), 'fedsim-tls-'));
    execFileSync(join(ROOT, 'deploy/k8s/components/nats-tls/make-certificate.sh'), ['fedsim', tlsDir], { stdio: 'pipe' });
    credsDir = mkdtempSync(join(tmpdir(), 'fedsim-creds-'));
    await writeCreds({ run: RUN, out: credsDir, namespace: 'fedsim' });
    const passwords = passwordsOf(credsDir);
    server = await startRenderedServer(
      'overlays/local-tls',
      { FEDSIM_COORDINATOR_PASSWORD: passwords.coordinator, FEDSIM_WORKER_PASSWORD: passwords.worker },
      tlsDir,
    );
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(tlsDir, { recursive: true, force: true });
    rmSync(credsDir, { recursive: true, force: true });
  });

  it('serves a client that verifies it against ca.crt under the Service name', async () => {
    // In the cluster the client dials nats:4222; here 127.0.0.1, checked as "nats".
    const nc = await connect({
      servers: server.url,
      user: 'worker',
      pass: passwordsOf(credsDir).worker,
      tls: { caFile: join(tlsDir, 'ca.crt'), servername: 'nats' } as never,
    });
    expect(nc.info?.tls_required).toBe(true);
    await nc.close();
  });

  it('refuses clients that do not trust the CA or name another host', async () => {
    await expect(connect({ servers: server.url, user: 'worker', pass: passwordsOf(credsDir).worker, maxReconnectAttempts: 0, tls: {} })).rejects.toThrow();
    await expect(
      connect({
        servers: server.url,
        user: 'worker',
        pass: passwordsOf(credsDir).worker,
        maxReconnectAttempts: 0,
        tls: { caFile: join(tlsDir, 'ca.crt'), servername: 'evil.example' } as never,
      }),
    ).rejects.toThrow();
  });
});
