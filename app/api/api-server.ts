/**
 * The coordinator's HTTP API (Fastify, with JSON schemas on every route) and its socket.io feed,
 * plus the dashboard's static files. `fedsim serve` runs it; `fedsim run --serve PORT` exposes
 * one run through it. The routes and events are listed in api-types.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Server as SocketServer } from 'socket.io';
import type { LogLevel } from '../../shared/logging/logger.js';
import { createCoordinatorMetrics, recordRound } from '../../shared/observability/prometheus-metrics.js';
import { parseScenarioText, ScenarioError, validateScenario } from '../../shared/scenario/load-scenario.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import { apiAccessPolicy, TOKEN_COOKIE, type ApiAccessPolicy, type RequestHeaders } from './api-access.js';
import type { RunState } from './api-types.js';
import { admissionProblems, DEFAULT_ADMISSION_LIMITS, liveRunLimitProblem, type AdmissionLimits } from './run-admission.js';
import { RunConflictError, RunRegistry } from './run-registry.js';

export interface ApiServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  runsDir: string;
  scenariosDir: string;
  logLevel?: LogLevel;
  /** Worker processes each run starts (default: the scenario's system.workers). */
  workers?: number;
  /** The built dashboard (index.html and assets); without it `/` explains how to build it. */
  dashboardDir?: string | null;
  /** Use this registry instead of creating one (`fedsim run --serve` shares its run). */
  registry?: RunRegistry;
  /** The API token (FEDSIM_API_TOKEN); without one, a server beyond loopback makes one up. */
  token?: string;
  /** Origins besides the server's own whose pages may call the API (e.g. a reverse proxy's). */
  allowedOrigins?: string[];
  /** What a scenario POSTed to /api/runs may start. */
  limits?: Partial<AdmissionLimits>;
  /** Largest request body accepted (default 1 MiB; scenarios are a few KB). */
  bodyLimitBytes?: number;
}

export interface ApiServer {
  url: string;
  /** The dashboard's address with the token in its fragment (never sent to the server), for the user to open. */
  dashboardUrl: string;
  access: Pick<ApiAccessPolicy, 'token' | 'generated'>;
  registry: RunRegistry;
  app: FastifyInstance;
  io: SocketServer;
  close(): Promise<void>;
}

const ERROR_SCHEMA = {
  type: 'object',
  properties: { error: { type: 'string' }, problems: { type: 'array', items: { type: 'string' } } },
  required: ['error'],
} as const;
const RUN_ID_PARAMS = { type: 'object', properties: { id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.=-]*$' } }, required: ['id'] } as const;
const VARIANT_PARAMS = {
  type: 'object',
  properties: { id: RUN_ID_PARAMS.properties.id, variant: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.=-]*$' } },
  required: ['id', 'variant'],
} as const;
const LIST_ITEM_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    status: { type: 'string', enum: ['starting', 'running', 'stopping', 'completed', 'stopped', 'failed'] },
    live: { type: 'boolean' },
    startedAt: { type: ['string', 'null'] },
    roundsCompleted: { type: 'integer' },
    roundsPlanned: { type: ['integer', 'null'] },
    finalTestAccuracy: { type: ['number', 'null'] },
    epsilon: { type: ['number', 'null'] },
  },
  required: ['id', 'name', 'status', 'live', 'roundsCompleted'],
} as const;
const START_BODY_SCHEMA = {
  type: 'object',
  description: 'exactly one of scenario (a scenario mapping), scenarioName (a file in scenarios/, without .yaml) or yaml (scenario text)',
  properties: {
    scenario: { type: 'object' },
    scenarioName: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' },
    yaml: { type: 'string' },
  },
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
} as const;

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const registry = options.registry ?? new RunRegistry({ runsDir: options.runsDir, logLevel: options.logLevel, workers: options.workers });
  const bodyLimit = options.bodyLimitBytes ?? 1024 * 1024;
  const app = Fastify({ logger: false, bodyLimit });
  const scenariosDir = resolve(options.scenariosDir);
  const host = options.host ?? '127.0.0.1';
  const access = apiAccessPolicy({ host, token: options.token, allowedOrigins: options.allowedOrigins });
  const limits: AdmissionLimits = { ...DEFAULT_ADMISSION_LIMITS, ...options.limits };

  app.addHook('onRequest', async (request, reply) => {
    // By the route it matched, not the raw URL: the router decodes "/%61pi/runs" to /api/runs.
    const route = request.routeOptions.url ?? decodedPath(request.url);
    if (!route.startsWith('/api/')) return;
    const refusal = access.check(headersOf(request.headers));
    if (refusal) {
      if (refusal.status === 401) void reply.header('www-authenticate', 'Bearer realm="fedsim"');
      return reply.code(refusal.status).send({ error: refusal.error });
    }
  });
  app.setErrorHandler((error: FastifyError, request, reply) => replyToError(error, request, reply, bodyLimit));
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` }));

  // The dashboard trades the token for a cookie, so report links and socket.io carry it too.
  app.post('/api/session', async (_request, reply) => {
    if (access.token !== null) void reply.header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(access.token)}; HttpOnly; SameSite=Strict; Path=/`);
    return reply.code(204).send();
  });

  const metrics = createCoordinatorMetrics();
  registry.on('round', (runId, round) => recordRound(metrics, runId, round as unknown as Parameters<typeof recordRound>[2]));
  registry.on('runs', (runs) => metrics.liveRuns.set(runs.filter((r) => r.live && ['starting', 'running', 'stopping'].includes(r.status)).length));
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', () => ({ ready: true }));

  app.get('/api/scenarios', () => ({ scenarios: scenarioNames(scenariosDir) }));

  app.get('/api/runs', { schema: { response: { 200: { type: 'object', properties: { runs: { type: 'array', items: LIST_ITEM_SCHEMA } } } } } }, () => ({
    runs: registry.list(),
  }));

  app.get<{ Params: { id: string } }>('/api/runs/:id', { schema: { params: RUN_ID_PARAMS, response: { 404: ERROR_SCHEMA } } }, async (request, reply) => {
    const state = registry.get(request.params.id);
    if (!state) return reply.code(404).send({ error: `no run ${request.params.id}` });
    return jsonSafe(state);
  });

  app.post<{ Body: { scenario?: Record<string, unknown>; scenarioName?: string; yaml?: string } }>(
    '/api/runs',
    { schema: { body: START_BODY_SCHEMA, response: { 201: LIST_ITEM_SCHEMA, 400: ERROR_SCHEMA, 404: ERROR_SCHEMA, 409: ERROR_SCHEMA, 429: ERROR_SCHEMA } } },
    async (request, reply) => {
      let scenario: Scenario;
      try {
        scenario = scenarioOfBody(request.body, scenariosDir);
      } catch (error) {
        if (error instanceof ScenarioError) return reply.code(400).send({ error: error.message.split('\n')[0]!, problems: error.problems });
        if (error instanceof ScenarioNotFound) return reply.code(404).send({ error: error.message });
        throw error;
      }
      const problems = admissionProblems(scenario, limits, options.workers);
      if (problems.length > 0) return reply.code(400).send({ error: 'this server does not start that scenario', problems });
      const busy = liveRunLimitProblem(registry.liveCount(), limits);
      if (busy) return reply.code(429).send({ error: busy });
      try {
        return reply.code(201).send(registry.start(scenario));
      } catch (error) {
        if (error instanceof RunConflictError) return reply.code(409).send({ error: error.message });
        throw error;
      }
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/runs/:id/stop',
    { schema: { params: RUN_ID_PARAMS, response: { 404: ERROR_SCHEMA, 409: ERROR_SCHEMA } } },
    async (request, reply) => {
      const { id } = request.params;
      if (!registry.get(id)) return reply.code(404).send({ error: `no run ${id}` });
      if (!registry.stop(id)) return reply.code(409).send({ error: `run ${id} is not running` });
      return reply.code(202).send({ id, status: 'stopping' });
    },
  );

  app.get<{ Params: { id: string } }>('/api/runs/:id/report', { schema: { params: RUN_ID_PARAMS } }, async (request, reply) => {
    const path = registry.reportPath(request.params.id);
    if (!path) return reply.code(404).send({ error: `no report for run ${request.params.id} (yet)` });
    return reply.type('text/html; charset=utf-8').send(readFileSync(path));
  });

  app.get('/api/comparisons', () => ({ comparisons: registry.comparisons() }));

  app.get<{ Params: { id: string } }>('/api/comparisons/:id/report', { schema: { params: RUN_ID_PARAMS } }, async (request, reply) => {
    const path = registry.comparisonReportPath(request.params.id);
    if (!path) return reply.code(404).send({ error: `no report for comparison ${request.params.id} (yet)` });
    return reply.type('text/html; charset=utf-8').send(readFileSync(path));
  });

  app.get<{ Params: { id: string; variant: string } }>(
    '/api/comparisons/:id/variants/:variant/report',
    { schema: { params: VARIANT_PARAMS } },
    async (request, reply) => {
      const { id, variant } = request.params;
      const path = registry.comparisonReportPath(id, variant);
      if (!path) return reply.code(404).send({ error: `no report for variant ${variant} of comparison ${id}` });
      return reply.type('text/html; charset=utf-8').send(readFileSync(path));
    },
  );

  if (options.dashboardDir && existsSync(resolve(options.dashboardDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: resolve(options.dashboardDir), prefix: '/' });
  } else {
    app.get('/', async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><title>fedsim</title><p>The dashboard is not built: run <code>npm run build:dashboard</code>, then reload. The API is at <a href="/api/runs">/api/runs</a>.</p>',
        ),
    );
  }

  const io = new SocketServer(app.server, { serveClient: false, maxHttpBufferSize: 64 * 1024 });
  io.use((socket, next) => {
    const refusal = access.check(headersOf(socket.handshake.headers), (socket.handshake.auth as { token?: unknown }).token);
    next(refusal ? Object.assign(new Error(refusal.error), { data: { status: refusal.status } }) : undefined);
  });
  io.on('connection', (socket) => {
    socket.emit('runs', registry.list());
    socket.on('subscribe', (runId: unknown, ack?: (state: RunState | { error: string }) => void) => {
      const state = typeof runId === 'string' ? registry.get(runId) : null;
      if (!state) {
        if (typeof ack === 'function') ack({ error: `no run ${String(runId)}` });
        return;
      }
      void socket.join(room(runId as string));
      // One full state per subscription: the ack when the client asked for one, else an event.
      if (typeof ack === 'function') ack(jsonSafe(state));
      else socket.emit('run:state', jsonSafe(state));
    });
    socket.on('unsubscribe', (runId: unknown) => {
      if (typeof runId === 'string') void socket.leave(room(runId));
    });
  });
  registry.on('runs', (runs) => io.emit('runs', runs));
  registry.on('round', (runId, metrics) => io.to(room(runId)).emit('run:round', { runId, metrics: jsonSafe(metrics) }));
  registry.on('clients', (runId, events) => io.to(room(runId)).emit('run:clients', { runId, events }));
  registry.on('worker', (runId, worker) => io.to(room(runId)).emit('run:worker', { runId, worker }));
  registry.on('log', (runId, lines) => io.to(room(runId)).emit('run:log', { runId, lines }));
  registry.on('status', (runId, status, summary, error, hasReport) =>
    io.to(room(runId)).emit('run:status', { runId, status, summary: jsonSafe(summary), error, hasReport }),
  );

  const address = await app.listen({ port: options.port, host });
  return {
    url: address,
    dashboardUrl: access.token === null ? `${address}/` : `${address}/#token=${encodeURIComponent(access.token)}`,
    access: { token: access.token, generated: access.generated },
    registry,
    app,
    io,
    close: async () => {
      // Started in this order, as before: socket.io drops its clients, then Fastify closes the HTTP
      // server they share. Awaiting both surfaces a failure of either instead of leaving it unhandled.
      await Promise.all([io.close(), app.close()]);
    },
  };
}

class ScenarioNotFound extends Error {}

/** An unmatched request's path as the router would read it (it then meets the 404 handler). */
function decodedPath(url: string): string {
  try {
    return decodeURIComponent(url.split('?')[0]!);
  } catch {
    return url;
  }
}

function headersOf(headers: IncomingHttpHeaders): RequestHeaders {
  const one = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  return {
    host: one(headers.host),
    origin: one(headers.origin),
    'sec-fetch-site': one(headers['sec-fetch-site']),
    authorization: one(headers.authorization),
    cookie: one(headers.cookie),
  };
}

/** Every 4xx says why in `error`; a server error says where to look instead of what broke. */
function replyToError(error: FastifyError, request: FastifyRequest, reply: FastifyReply, bodyLimit: number): FastifyReply {
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    return reply
      .code(400)
      .send({ error: `invalid ${where}: ${error.message}`, problems: error.validation.map((v) => `${where}${v.instancePath} ${v.message ?? ''}`.trim()) });
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return reply.code(413).send({ error: `the request body is larger than this server accepts (${bodyLimit} bytes); a scenario is a few KB` });
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return reply.code(415).send({ error: `content-type ${JSON.stringify(request.headers['content-type'] ?? '')} is not accepted; send application/json` });
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return reply.code(status).send({ error: error.message });
  process.stderr.write(`fedsim api: ${error.stack ?? error.message}\n`);
  return reply.code(500).send({ error: 'internal server error; the server wrote the details to its standard error' });
}

function scenarioOfBody(body: { scenario?: Record<string, unknown>; scenarioName?: string; yaml?: string }, scenariosDir: string): Scenario {
  if (body.scenario) return validateScenario(body.scenario, 'request body scenario');
  if (body.yaml !== undefined) return parseScenarioText(body.yaml, 'request body yaml');
  const name = body.scenarioName!;
  if (!scenarioNames(scenariosDir).includes(name)) {
    throw new ScenarioNotFound(`no scenario "${name}" in ${scenariosDir} (expected one of ${scenarioNames(scenariosDir).join(', ')})`);
  }
  return parseScenarioText(readFileSync(resolve(scenariosDir, `${name}.yaml`), 'utf8'), `scenarios/${name}.yaml`);
}

/** Scenario files (sweeps are not runnable scenarios). */
function scenarioNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && !/^sweep:/m.test(readFileSync(resolve(dir, f), 'utf8')))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

function room(runId: string): string {
  return `run:${runId}`;
}

/** ε is Infinity without noise; JSON has no Infinity, so it travels as null, the same as in metrics.jsonl. */
function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
