/**
 * The HTTP API and socket.io feed over real HTTP: health, scenario validation with field-level
 * errors, starting, watching and stopping runs, finished runs read back from disk, reports, and
 * a reconnecting client that gets the full state.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../app/api/api-server.js';
import type { ClientEventView, ComparisonListItem, RunListItem, RunState } from '../../app/api/api-types.js';
import { yamlAliasBomb } from '../support/hostile-yaml.js';

let server: ApiServer;
const runsDir = mkdtempSync(join(tmpdir(), 'fedsim-api-runs-'));

function tinyScenario(name: string, rounds = 3) {
  return {
    name,
    seed: 3,
    dataset: { name: 'mnist', trainLimit: 2000, testLimit: 500 },
    partition: { kind: 'iid', clients: 10 },
    model: { name: 'mlp', hidden: [16] },
    rounds,
    clientsPerRound: 4,
    training: { epochs: 1, batchSize: 10, learningRate: 0.1 },
    system: { backend: 'cpu', transport: 'in-process', workers: 1 },
  };
}

/** `T` is what the caller expects the route to answer: JSON bodies are parsed, others stay text. */
async function api<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}${path}`, {
    method: init?.method ?? 'GET',
    headers: init?.body !== undefined ? { 'content-type': 'application/json' } : {},
    body: init?.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as T };
}

beforeAll(async () => {
  server = await startApiServer({ port: 0, runsDir, scenariosDir: 'scenarios', logLevel: 'silent' });
});
afterAll(async () => {
  await server?.registry.stopAll();
  await server?.close();
});

describe('HTTP API', () => {
  it('answers health and readiness, and lists the ready scenarios (not sweeps)', async () => {
    expect(await api('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await api('/readyz')).status).toBe(200);
    const { body } = await api<{ scenarios: string[] }>('/api/scenarios');
    expect(body.scenarios).toContain('quickstart');
    expect(body.scenarios).not.toContain('privacy-sweep');
  });

  it('refuses an invalid scenario with the same field-level problems as the CLI', async () => {
    const bad = { ...tinyScenario('api-bad'), rounds: 0, training: { epochs: 1, batchSize: 10 } };
    const { status, body } = await api<{ problems: string[] }>('/api/runs', { method: 'POST', body: { scenario: bad } });
    expect(status).toBe(400);
    expect(body.problems).toEqual(['rounds: too small (got 0, expected ≥ 1)', 'training.learningRate: missing (expected number)']);
    expect((await api('/api/runs', { method: 'POST', body: { scenarioName: 'nope' } })).status).toBe(404);
    expect((await api('/api/runs', { method: 'POST', body: {} })).status).toBe(400);
    expect((await api<{ problems: string[] }>('/api/runs', { method: 'POST', body: { yaml: 'name: [' } })).body.problems[0]).toMatch(/^YAML syntax/);
    // Billion laughs: refused as a bad scenario (400 with the reason), not a server error.
    const bomb = await api<{ problems: string[] }>('/api/runs', { method: 'POST', body: { yaml: yamlAliasBomb() } });
    expect(bomb.status).toBe(400);
    expect(bomb.body.problems).toEqual(['YAML aliases: Excessive alias count indicates a resource exhaustion attack (expected at most 100 alias expansions)']);
  });

  it('starts a run, streams it over socket.io, and serves its state and report when done', async () => {
    const started = await api<RunListItem>('/api/runs', { method: 'POST', body: { scenario: tinyScenario('api-run') } });
    expect(started.status).toBe(201);
    const run = started.body;
    expect(run).toMatchObject({ name: 'api-run', live: true });
    expect((await api('/api/runs', { method: 'POST', body: { scenario: tinyScenario('api-run') } })).status).toBe(409);

    const socket: Socket = connect(server.url, { transports: ['websocket'] });
    const rounds: number[] = [];
    const clientEvents: ClientEventView[] = [];
    let finalStatus = '';
    socket.on('run:round', (e: { metrics: { round: number } }) => rounds.push(e.metrics.round));
    socket.on('run:clients', (e: { events: ClientEventView[] }) => clientEvents.push(...e.events));
    const ended = new Promise<void>((resolve) =>
      socket.on('run:status', (e: { status: string }) => {
        finalStatus = e.status;
        if (e.status === 'completed' || e.status === 'failed') resolve();
      }),
    );
    const state = await new Promise<RunState>((resolve) => socket.emit('subscribe', run.id, resolve));
    expect(state.id).toBe(run.id);
    await ended;
    socket.close();

    expect(finalStatus).toBe('completed');
    // Rounds that finished before the subscription came with the full state, not as events.
    expect([...state.rounds.map((r) => r.round), ...rounds]).toEqual([1, 2, 3]);
    expect(new Set(clientEvents.map((e) => e.state))).toEqual(new Set(['selected', 'training', 'done']));

    const { body: finished } = await api<RunState>(`/api/runs/${run.id}`);
    expect(finished).toMatchObject({ status: 'completed', roundsCompleted: 3, hasReport: true });
    expect(finished.workers[0]!.clientsTrained).toBe(12);
    expect(finished.workers[0]!.samplesPerSecond).toBeGreaterThan(0);
    expect(finished.logTail.length).toBeGreaterThan(0);
    const report = await api(`/api/runs/${run.id}/report`);
    expect(report.status).toBe(200);
    expect(report.body).toContain('<html');
    expect((await api(`/api/runs/${run.id}/stop`, { method: 'POST' })).status).toBe(409);
    const metrics = (await api<string>('/metrics')).body;
    expect(metrics).toMatch(/^fedsim_rounds_total 3$/m);
    expect(metrics).toMatch(/^fedsim_clients_trained_total 12$/m);
    expect(metrics).toMatch(/^fedsim_round_duration_seconds_count 3$/m);
  }, 120_000);

  it('stops a run gracefully: the current round finishes and the outputs are written', async () => {
    const { body: run } = await api<RunListItem>('/api/runs', { method: 'POST', body: { scenario: tinyScenario('api-stop', 50) } });
    const socket: Socket = connect(server.url, { transports: ['websocket'] });
    const firstRound = new Promise<void>((resolve) => socket.once('run:round', () => resolve()));
    socket.emit('subscribe', run.id);
    await firstRound;
    expect(await api(`/api/runs/${run.id}/stop`, { method: 'POST' })).toEqual({ status: 202, body: { id: run.id, status: 'stopping' } });
    const summary = await server.registry.finished(run.id);
    socket.close();
    expect(summary).toMatchObject({ status: 'completed', stopReason: 'stopped' });
    expect(summary!.roundsCompleted).toBeLessThan(50);
    // It ended without error, but it was cut short: the API says so.
    expect((await api<RunListItem>(`/api/runs/${run.id}`)).body.status).toBe('stopped');
    expect((await api<{ runs: RunListItem[] }>('/api/runs')).body.runs.find((r) => r.id === run.id)?.status).toBe('stopped');
  }, 120_000);

  it('lists the comparison folders with their variants and serves their reports', async () => {
    const dir = join(runsDir, 'noise-2025-01-01_00-00-00-000');
    mkdirSync(join(dir, 'z1'), { recursive: true });
    writeFileSync(join(dir, 'z1', 'report.html'), '<html>z1</html>');
    writeFileSync(join(dir, 'report.html'), '<html>comparison</html>');
    mkdirSync(join(runsDir, 'elsewhere'));
    writeFileSync(join(runsDir, 'elsewhere', 'report.html'), '<html>not a variant</html>');
    const variants = [
      { name: 'z1', status: 'completed', stopReason: 'rounds completed', runDir: 'z1', finalAccuracy: 0.9, epsilon: 2.5, error: null },
      { name: 'cut', status: 'completed', stopReason: 'stopped', runDir: 'cut', finalAccuracy: 0.5, epsilon: null, error: null },
      // comparison.json is only data: a folder outside the comparison is never served.
      { name: 'escape', status: 'failed', error: 'no memory', runDir: '../elsewhere', finalAccuracy: null, epsilon: null },
      { name: 'outside', status: 'completed', runDir: '../..', finalAccuracy: null, epsilon: null },
    ];
    writeFileSync(
      join(dir, 'comparison.json'),
      JSON.stringify({ sweep: 'noise', base: 'b.yaml', description: 'z against accuracy', createdAt: '2025-01-01T00:00:00.000Z', delta: 1e-5, variants }),
    );

    const { body } = await api<{ comparisons: ComparisonListItem[] }>('/api/comparisons');
    expect(body.comparisons).toEqual([
      {
        id: 'noise-2025-01-01_00-00-00-000',
        sweep: 'noise',
        description: 'z against accuracy',
        createdAt: '2025-01-01T00:00:00.000Z',
        hasReport: true,
        variants: [
          { name: 'z1', status: 'completed', error: null, finalAccuracy: 0.9, epsilon: 2.5, hasReport: true },
          { name: 'cut', status: 'stopped', error: null, finalAccuracy: 0.5, epsilon: null, hasReport: false },
          { name: 'escape', status: 'failed', error: 'no memory', finalAccuracy: null, epsilon: null, hasReport: false },
          { name: 'outside', status: 'completed', error: null, finalAccuracy: null, epsilon: null, hasReport: false },
        ],
      },
    ]);
    // A comparison folder is not a run.
    expect((await api<{ runs: RunListItem[] }>('/api/runs')).body.runs.map((r) => r.id)).not.toContain('noise-2025-01-01_00-00-00-000');
    expect(await api('/api/comparisons/noise-2025-01-01_00-00-00-000/report')).toEqual({ status: 200, body: '<html>comparison</html>' });
    expect(await api('/api/comparisons/noise-2025-01-01_00-00-00-000/variants/z1/report')).toEqual({ status: 200, body: '<html>z1</html>' });
    for (const variant of ['cut', 'escape', 'outside', 'nope']) {
      expect((await api(`/api/comparisons/noise-2025-01-01_00-00-00-000/variants/${variant}/report`)).status, variant).toBe(404);
    }
    expect((await api('/api/comparisons/nope/report')).status).toBe(404);
  });

  it('lists finished runs from disk and gives a reconnecting client the full state', async () => {
    const { body } = await api<{ runs: RunListItem[] }>('/api/runs');
    const ids = body.runs.map((r) => r.name);
    expect(ids).toEqual(expect.arrayContaining(['api-run', 'api-stop']));
    const finished = body.runs.find((r) => r.name === 'api-run')!;

    // A fresh registry over the same folder knows the run only from disk.
    const other = await startApiServer({ port: 0, runsDir, scenariosDir: 'scenarios', logLevel: 'silent' });
    try {
      const socket: Socket = connect(other.url, { transports: ['websocket'] });
      const state = await new Promise<RunState>((resolve) => socket.emit('subscribe', finished.id, resolve));
      socket.close();
      expect(state).toMatchObject({ id: finished.id, status: 'completed', live: false, roundsCompleted: 3, hasReport: true });
      expect(state.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    } finally {
      await other.close();
    }
    expect((await api('/api/runs/no-such-run')).status).toBe(404);
    expect((await api('/api/runs/..%2Fetc/report')).status).toBe(400);
  }, 60_000);
});
