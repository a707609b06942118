/**
 * k6: load on the coordinator's HTTP API. Each endpoint of load-plan.json gets `vus` virtual
 * users for `duration`, one endpoint after another, and its own p95 threshold.
 *
 *   k6 run test/load/api-load.ts                                  (k6 ≥ 0.57 runs TypeScript)
 *   k6 run -e BASE_URL=http://127.0.0.1:8080 -e RUN_ID=<id> test/load/api-load.ts
 *
 * In a cluster: the Job in deploy/k8s/load (BASE_URL=http://fedsim-coordinator:8080). Without
 * k6, `npm run`-free: node --import tsx bench/load-driver.ts runs the same plan with autocannon.
 */
import { check, fail } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';
import type { LoadEndpoint, LoadPlan } from './load-plan.js';

const plan = JSON.parse(open('./load-plan.json')) as LoadPlan;
const BASE_URL = (__ENV.BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
/** The API's token (FEDSIM_API_TOKEN: in the cluster, from the Secret fedsim-api-token). */
const API_HEADERS: Record<string, string> = __ENV.FEDSIM_API_TOKEN ? { Authorization: `Bearer ${__ENV.FEDSIM_API_TOKEN}` } : {};
const VUS = __ENV.VUS ? Number(__ENV.VUS) : plan.api.vus;
const DURATION = __ENV.DURATION ?? plan.api.duration;
const seconds = parseDuration(DURATION);

export const options: Options = {
  scenarios: Object.fromEntries(
    plan.api.endpoints.map((endpoint, i) => [
      endpoint.name,
      {
        executor: 'constant-vus',
        exec: 'hit',
        vus: VUS,
        duration: DURATION,
        // One endpoint at a time, as the Node driver does, so each row measures one route.
        startTime: `${i * (seconds + 2)}s`,
        gracefulStop: '5s',
        env: { ENDPOINT: endpoint.name },
        tags: { endpoint: endpoint.name },
      },
    ]),
  ),
  thresholds: {
    http_req_failed: [`rate<${plan.api.maxErrorRate}`],
    checks: [`rate>${1 - plan.api.maxErrorRate}`],
    ...Object.fromEntries(plan.api.endpoints.map((e) => [`http_req_duration{scenario:${e.name}}`, [`p(95)<${e.p95Ms}`]])),
  },
  summaryTrendStats: ['avg', 'p(50)', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

interface SetupData {
  runId: string;
}

/** A run the server knows, for /api/runs/{runId}: RUN_ID, else the newest listed. */
export function setup(): SetupData {
  if (__ENV.RUN_ID) return { runId: __ENV.RUN_ID };
  const response = http.get(`${BASE_URL}/api/runs`, { headers: API_HEADERS });
  if (response.status !== 200) fail(`GET ${BASE_URL}/api/runs answered ${response.status}: is the coordinator up?`);
  const runs = (response.json() as { runs?: { id: string }[] }).runs ?? [];
  if (runs.length === 0) fail(`no runs at ${BASE_URL}: start one (the coordinator Job) or pass -e RUN_ID=<id>`);
  return { runId: runs[0]!.id };
}

const endpoints = new Map<string, LoadEndpoint>(plan.api.endpoints.map((e) => [e.name, e]));

export function hit(data: SetupData): void {
  const endpoint = endpoints.get(__ENV.ENDPOINT ?? '');
  if (!endpoint) fail(`unknown endpoint ${__ENV.ENDPOINT}`);
  const path = endpoint.path.replace('{runId}', encodeURIComponent(data.runId));
  const response = http.get(`${BASE_URL}${path}`, {
    headers: API_HEADERS,
    // Expected statuses are not failures in http_req_failed (a 404 can be the expected answer).
    responseCallback: http.expectedStatuses(...endpoint.expect),
    tags: { name: endpoint.path },
  });
  check(response, { [`${endpoint.name}: status ${endpoint.expect.join('|')}`]: (r) => endpoint.expect.includes(r.status) });
}

function parseDuration(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(duration.trim());
  if (!match) fail(`DURATION "${duration}": expected a number and ms, s, m or h`);
  const value = Number(match[1]);
  return match[2] === 'ms' ? value / 1000 : match[2] === 's' ? value : match[2] === 'm' ? value * 60 : value * 3600;
}
