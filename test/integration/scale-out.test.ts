/**
 * Worker churn over a real nats-server, as a cluster's autoscaler causes it: tasks wait in the
 * JetStream work queue where KEDA can count them, a worker killed while training loses no task
 * (it is redelivered after the ack wait and the round completes), a worker that stops hands its
 * task back at once, and a worker that joins mid-run takes tasks from then on.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Worker, type WorkerStats } from '../../client/worker.js';
import type { ClientEvent } from '../../coordinator/coordinator.js';
import { runSimulation } from '../../app/run/run-simulation.js';
import { NatsBus } from '../../shared/bus/nats-bus.js';
import { TASK_STREAM, workerConsumer } from '../../shared/bus/task-queue.js';
import { useTestNatsServer } from '../support/nats-harness.js';
import { readRoundMetrics } from '../support/run-outputs.js';
import { tinyMnistScenario } from '../support/scenarios.js';

const nats = useTestNatsServer();
const silent = pino({ level: 'silent' });

/** A worker in this process, over its own NATS connection: to the coordinator, a worker like any other. */
async function startWorker(runName: string, workerId: string): Promise<{ worker: Worker; done: Promise<WorkerStats>; close: () => Promise<void> }> {
  const bus = await NatsBus.connect(nats.url, workerId);
  const worker = new Worker({ bus, runName, log: silent, workerId, backend: 'cpu' });
  return { worker, done: worker.run(), close: () => bus.close() };
}

describe('workers coming and going', () => {
  it('redelivers the task of a worker killed while training: the round completes without a drop', async () => {
    const scenario = tinyMnistScenario({
      name: 'it-churn-kill',
      rounds: 3,
      training: { epochs: 6, batchSize: 10, learningRate: 0.1 },
      system: { natsUrl: nats.url, workers: 2, backend: 'cpu', roundTimeoutSeconds: 60, taskAckWaitSeconds: 2 },
    });
    let pids: number[] = [];
    const round2: ClientEvent[] = [];
    let killed: { workerId: string; clientId: number } | null = null;
    const summary = await runSimulation(scenario, {
      logLevel: 'silent',
      progress: false,
      onWorkersStarted: (p) => (pids = p),
      onClientEvent: (event) => {
        if (event.round !== 2) return;
        round2.push(event);
        // The first worker to claim a round-2 client dies holding it, before it can send anything.
        if (event.state === 'training' && !killed) {
          killed = { workerId: event.workerId!, clientId: event.clientId };
          const index = Number(/-w(\d+)-\d+$/.exec(event.workerId!)![1]) - 1;
          process.kill(pids[index]!, 'SIGKILL');
        }
      },
    });
    expect(summary.status, summary.error).toBe('completed');
    expect(killed).not.toBeNull();
    const { workerId: dead, clientId } = killed!;
    const metrics = readRoundMetrics(summary.runDir);
    expect(metrics.map((m) => [m.completed, m.dropped])).toEqual([
      [4, 0],
      [4, 0],
      [4, 0],
    ]);
    expect(metrics.map((m) => m.redelivered)).toEqual([0, 1, 0]);
    expect(metrics[0]!.workers).toBe(2);
    expect(metrics[1]!.workers).toBe(1);
    // The dead worker's client went to the survivor, which trained it.
    const claims = round2.filter((e) => e.clientId === clientId && e.state === 'training').map((e) => e.workerId);
    expect(claims[0]).toBe(dead);
    expect(claims.at(-1)).not.toBe(dead);
    expect(round2.find((e) => e.clientId === clientId && e.state === 'done')?.workerId).not.toBe(dead);
  }, 180_000);

  it("queues the round where KEDA reads it, hands a stopping worker's task on at once, and lets late workers in", async () => {
    const scenario = tinyMnistScenario({
      name: 'it-churn-join',
      rounds: 5,
      // About a second per client, so a worker started between rounds is ready within the next.
      training: { epochs: 20, batchSize: 10, learningRate: 0.05 },
      // No worker processes: the test brings its own. The default ack wait (30 s) would show in the round time.
      system: { natsUrl: nats.url, workers: 0, backend: 'cpu', roundTimeoutSeconds: 60 },
    });
    const monitor = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(monitor);
    const events: ClientEvent[] = [];
    let backlog: Promise<{ waiting: number; inProgress: number }> | null = null;
    const started: Promise<Awaited<ReturnType<typeof startWorker>>>[] = [startWorker(scenario.name, 'first')];
    let stopped: { round: number; clientId: number } | null = null;
    const summary = await runSimulation(scenario, {
      logLevel: 'silent',
      progress: false,
      onClientEvent: (event) => {
        events.push(event);
        // KEDA's view when the only worker has just taken its first task.
        if (event.state === 'training')
          backlog ??= jsm.consumers
            .info(TASK_STREAM, workerConsumer(scenario.name))
            .then((info) => ({ waiting: info.num_pending, inProgress: info.num_ack_pending }));
        // Scaled down in the middle of its first task.
        if (event.state === 'training' && event.workerId === 'leaver' && !stopped) {
          stopped = { round: event.round, clientId: event.clientId };
          void started[1]!.then(({ worker }) => worker.stop('scaled down'));
        }
      },
      onRound: (metrics) => {
        if (metrics.round === 1) started.push(startWorker(scenario.name, 'leaver'));
        if (metrics.round === 3) started.push(startWorker(scenario.name, 'late'));
      },
    });
    const workers = await Promise.all(started);
    await Promise.all(workers.map((w) => w.done));
    await Promise.all([...workers.map((w) => w.close()), monitor.close()]);

    expect(summary.status, summary.error).toBe('completed');
    // One worker pulls one task at a time: the round's other three wait in the stream, as lag.
    expect(backlog, 'a client reached training').not.toBeNull();
    expect(await backlog!).toEqual({ waiting: 3, inProgress: 1 });
    const metrics = readRoundMetrics(summary.runDir);
    expect(metrics.map((m) => [m.completed, m.dropped])).toEqual(Array.from({ length: 5 }, () => [4, 0]));
    const trainedBy = (round: number) => events.filter((e) => e.round === round && e.state === 'done').map((e) => e.workerId);
    expect(new Set(trainedBy(1))).toEqual(new Set(['first']));
    // The leaver's task went back at once and another worker trained it, well inside the 30 s ack wait.
    expect(stopped).not.toBeNull();
    const { round, clientId } = stopped!;
    expect(events.find((e) => e.round === round && e.clientId === clientId && e.state === 'done')?.workerId).not.toBe('leaver');
    expect(metrics[round - 1]!.wallMs).toBeLessThan(25_000);
    expect(metrics[round - 1]!.redelivered).toBe(1);
    // The late worker took tasks from the round after it joined on, none before.
    expect([1, 2, 3].flatMap(trainedBy)).not.toContain('late');
    expect([4, 5].flatMap(trainedBy)).toContain('late');
  }, 180_000);
});
