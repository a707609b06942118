/**
 * The locked-down API over real HTTP and socket.io: a server listening beyond loopback makes up a
 * token and refuses everything under /api/ without it (probes stay open); the dashboard's
 * cookie works for links; foreign pages are refused by Origin, also on the loopback server and on
 * socket.io; a rebound DNS name is refused on loopback; posted scenarios are capped; every 4xx
 * says why, an oversized body is a 413.
 */
import { request as httpRequest } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../app/api/api-server.js';
import { TOKEN_COOKIE } from '../../app/api/api-access.js';

const runsDir = mkdtempSync(join(tmpdir(), 'fedsim-api-security-'));
let open: ApiServer; // 0.0.0.0: a token is required
let loopback: ApiServer; // 127.0.0.1, no token, tight limits

function scenario(name: string, extra: { system?: Record<string, unknown>; rounds?: number } = {}) {
  return {
    name,
    seed: 5,
    dataset: { name: 'mnist', trainLimit: 1000, testLimit: 200 },
    partition: { kind: 'iid', clients: 4 },
    model: { name: 'mlp', hidden: [8] },
    rounds: extra.rounds ?? 2,
    clientsPerRound: 2,
    training: { epochs: 1, batchSize: 10, learningRate: 0.1 },
    system: { backend: 'cpu', transport: 'in-process', workers: 1, ...extra.system },
  };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { error?: string; problems?: string[] } & Record<string, unknown>;
}

/** A raw request, so that Host and Origin are exactly what a browser or an attacker would send. */
function send(
  server: ApiServer,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { error?: string; problems?: string[] } & Record<string, unknown>;
}> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: url.port, path, method: options.method ?? 'GET', headers: { host: `127.0.0.1:${url.port}`, ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode!, headers: res.headers, body: text.startsWith('{') ? (JSON.parse(text) as Reply['body']) : { text } });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  open = await startApiServer({ port: 0, host: '0.0.0.0', runsDir, scenariosDir: 'scenarios', logLevel: 'silent' });
  loopback = await startApiServer({
    port: 0,
    runsDir,
    scenariosDir: 'scenarios',
    logLevel: 'silent',
    limits: { maxWorkersPerRun: 2, maxLiveRuns: 1 },
    bodyLimitBytes: 64 * 1024,
  });
});
afterAll(async () => {
  await Promise.all([open, loopback].map(async (s) => s && (await s.registry.stopAll(), await s.close())));
});

describe('the API beyond loopback', () => {
  it('makes up a token, refuses /api/ without it with the reason, and keeps the probes open', async () => {
    expect(open.access.generated).toBe(true);
    const token = open.access.token!;
    expect(open.dashboardUrl).toBe(`${open.url}/#token=${token}`);
    const refused = await send(open, '/api/runs');
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="fedsim"');
    expect(refused.body.error).toMatch(/needs its access token/);
    expect((await send(open, '/api/runs', { headers: { authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401);
    // The router decodes percent-escapes: an escaped path is the same route, and as locked.
    for (const path of ['/%61pi/runs', '/api/%72uns', '/api/runs/']) expect((await send(open, path)).status, path).toBe(401);
    expect((await send(open, '/api/runs', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    // A cross-origin bodiless POST (the attack of the issue) is refused before anything runs.
    expect((await send(open, '/api/runs/x/stop', { method: 'POST' })).status).toBe(401);
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await send(open, path)).status, path).toBe(200);
  });

  it("trades the token for the dashboard's HttpOnly cookie, which opens links too", async () => {
    expect((await send(open, '/api/session', { method: 'POST' })).status).toBe(401);
    const session = await send(open, '/api/session', { method: 'POST', headers: { authorization: `Bearer ${open.access.token}` } });
    expect(session.status).toBe(204);
    const cookie = String(session.headers['set-cookie']);
    expect(cookie).toMatch(new RegExp(`^${TOKEN_COOKIE}=[^;]+; HttpOnly; SameSite=Strict; Path=/$`));
    const report = await send(open, '/api/runs/nope/report', { headers: { cookie: cookie.split(';')[0]! } });
    expect(report).toMatchObject({ status: 404, body: { error: 'no report for run nope (yet)' } });
  });

  it('lets a socket.io client in with the token only', async () => {
    const refusal = await socketOutcome(open, {});
    expect(refusal).toMatch(/needs its access token/);
    expect(await socketOutcome(open, { auth: { token: open.access.token } })).toBe('runs');
  });
});

describe('the API on loopback', () => {
  it("refuses other sites' pages by Origin, over HTTP and socket.io, and a rebound DNS name", async () => {
    const stop = await send(loopback, '/api/runs/x/stop', { method: 'POST', headers: { origin: 'http://evil.example' } });
    expect(stop.status).toBe(403);
    expect(stop.body.error).toMatch(/^requests from pages of other sites are refused \(Origin "http:\/\/evil.example"/);
    const sameOrigin = await send(loopback, '/api/runs/x/stop', { method: 'POST', headers: { origin: loopback.url } });
    expect(sameOrigin).toMatchObject({ status: 404, body: { error: 'no run x' } });
    const rebound = await send(loopback, '/api/runs', { headers: { host: `evil.example:${new URL(loopback.url).port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.body.error).toMatch(/^Host "evil.example" is not a loopback name/);
    expect(await socketOutcome(loopback, { extraHeaders: { origin: 'http://evil.example' } })).toMatch(/^requests from pages of other sites/);
    expect(await socketOutcome(loopback, {})).toBe('runs');
  });

  it('caps what a posted scenario may start, and how many runs are live', async () => {
    const many = await send(loopback, '/api/runs', { method: 'POST', ...json({ scenario: scenario('cap-workers', { system: { workers: 64 } }) }) });
    expect(many.status).toBe(400);
    expect(many.body.problems).toEqual(['system.workers: 64 asks for 64 worker processes; this server starts at most 2 per run (fedsim serve --max-workers)']);
    const elsewhere = await send(loopback, '/api/runs', {
      method: 'POST',
      ...json({ scenario: scenario('cap-nats', { system: { natsUrl: 'nats://10.0.0.1:4222' } }) }),
    });
    expect(elsewhere.body.problems).toEqual([expect.stringMatching(/^system.natsUrl: a scenario posted to the API may not choose the NATS server/)]);

    const first = await send(loopback, '/api/runs', { method: 'POST', ...json({ scenario: scenario('cap-first', { rounds: 200 }) }) });
    expect(first.status).toBe(201);
    const second = await send(loopback, '/api/runs', { method: 'POST', ...json({ scenario: scenario('cap-second') }) });
    expect(second).toMatchObject({ status: 429, body: { error: expect.stringMatching(/^1 runs are live and this server runs at most 1 at once/) as unknown } });
    loopback.registry.stop(first.body.id as string);
    await loopback.registry.finished(first.body.id as string);
    expect((await send(loopback, '/api/runs', { method: 'POST', ...json({ scenario: scenario('cap-second') }) })).status).toBe(201);
    await loopback.registry.stopAll();
  });

  it('says why in every 4xx: bad body, wrong type, unknown route, oversized body', async () => {
    const missing = await send(loopback, '/api/runs', { method: 'POST', ...json({}) });
    expect(missing).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^invalid body: body must NOT have fewer than 1 properties/) as unknown },
    });
    const extra = await send(loopback, '/api/runs', { method: 'POST', ...json({ scenarioName: 'quickstart', yaml: 'x' }) });
    expect(extra.body.error).toMatch(/^invalid body: body must NOT have more than 1 properties/);
    const badJson = await send(loopback, '/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"scenario":' });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error).toMatch(/JSON/);
    const text = await send(loopback, '/api/runs', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'name: x' });
    expect(text).toMatchObject({ status: 400, body: { error: 'invalid body: body must be object' } });
    const form = await send(loopback, '/api/runs', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' });
    expect(form).toMatchObject({ status: 415, body: { error: expect.stringMatching(/application\/x-www-form-urlencoded/) as unknown } });
    expect(await send(loopback, '/api/nothing')).toMatchObject({ status: 404, body: { error: 'no route GET /api/nothing' } });
    const huge = await send(loopback, '/api/runs', { method: 'POST', ...json({ yaml: `description: ${'x'.repeat(100_000)}` }) });
    expect(huge).toMatchObject({ status: 413, body: { error: 'the request body is larger than this server accepts (65536 bytes); a scenario is a few KB' } });
  });
});

/** 'runs' when the server let the socket in (its first event), else the refusal's message. */
function socketOutcome(server: ApiServer, options: { auth?: Record<string, unknown>; extraHeaders?: Record<string, string> }): Promise<string> {
  const socket = connect(server.url, { transports: ['websocket'], reconnection: false, ...options });
  return new Promise<string>((resolve) => {
    socket.on('runs', () => resolve('runs'));
    socket.on('connect_error', (error) => resolve(error.message));
  }).finally(() => socket.close());
}
