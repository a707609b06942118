/**
 * k6: worker churn during a live run. One scenario kills a worker pod every
 * `churn.killEverySeconds` (deleted with no grace period, like a crash or a pre-empted node);
 * the Deployment replaces it, and the new pod joins the run. Another reads the run's state from
 * the coordinator's API every `churn.pollEverySeconds` and records what churn costs: clients
 * dropped per round, round wall time, and how the API answers meanwhile.
 *
 * k6 has no NATS client, and fedsim's frames are not something to re-implement in a load test:
 * workers are churned through the Kubernetes API (plain HTTPS, the pod's service account) and
 * observed through fedsim's HTTP API. Locally, `node --import tsx bench/load-driver.ts --churn`
 * does the same with worker processes and SIGKILL.
 *
 * In a cluster: deploy/k8s/load (Job fedsim-k6-worker-churn, with a Role that may list and delete
 * pods). Outside one, CHURN=0 observes only.
 */
import { check, fail } from 'k6';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import type { LoadPlan } from './load-plan.js';

const plan = JSON.parse(open('./load-plan.json')) as LoadPlan;
const BASE_URL = (__ENV.BASE_URL ?? 'http://fedsim-coordinator:8080').replace(/\/+$/, '');
/** The API's token (FEDSIM_API_TOKEN: in the cluster, from the Secret fedsim-api-token). */
const API_HEADERS: Record<string, string> = __ENV.FEDSIM_API_TOKEN ? { Authorization: `Bearer ${__ENV.FEDSIM_API_TOKEN}` } : {};
const CHURN = (__ENV.CHURN ?? '1') !== '0';
const WORKER_SELECTOR = __ENV.WORKER_SELECTOR ?? 'app.kubernetes.io/name=fedsim-worker';
const KUBE_API = __ENV.KUBE_API ?? 'https://kubernetes.default.svc';
const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
// open() works only here, in the init context. The API server's CA reaches k6 through
// SSL_CERT_FILE (set in the Job), which Go's TLS reads.
const token = CHURN ? open(`${SERVICE_ACCOUNT}/token`).trim() : '';
const namespace = __ENV.NAMESPACE ?? (CHURN ? open(`${SERVICE_ACCOUNT}/namespace`).trim() : 'fedsim');

const workersKilled = new Counter('fedsim_workers_killed');
const roundsSeen = new Counter('fedsim_rounds_observed');
const clientsSelected = new Counter('fedsim_clients_selected');
const clientsDropped = new Counter('fedsim_clients_dropped');
// One sample per selected client, true when it was dropped: a Rate, so that the plan's
// maxDroppedFraction is a threshold.
const droppedShare = new Rate('fedsim_client_dropped');
const roundWall = new Trend('fedsim_round_wall_ms', true);

export const options: Options = {
  scenarios: {
    observe: {
      executor: 'constant-arrival-rate',
      exec: 'observe',
      rate: 1,
      timeUnit: `${plan.churn.pollEverySeconds}s`,
      duration: plan.churn.duration,
      preAllocatedVUs: 1,
      maxVUs: 1,
    },
    ...(CHURN
      ? {
          churn: {
            executor: 'constant-arrival-rate' as const,
            exec: 'killWorker',
            rate: 1,
            timeUnit: `${plan.churn.killEverySeconds}s`,
            // The first kill after one interval, so the run has started and workers have joined.
            startTime: `${plan.churn.killEverySeconds}s`,
            duration: plan.churn.duration,
            preAllocatedVUs: 1,
            maxVUs: 1,
          },
        }
      : {}),
  },
  thresholds: {
    'http_req_duration{scenario:observe}': [`p(95)<${plan.churn.apiP95Ms}`],
    'checks{check:run has not failed}': ['rate==1'],
    ...(CHURN ? { 'checks{check:worker pod deleted}': ['rate>0.9'] } : {}),
    fedsim_client_dropped: [`rate<=${plan.churn.maxDroppedFraction}`],
  },
  summaryTrendStats: ['avg', 'p(50)', 'p(90)', 'p(95)', 'max'],
};

interface SetupData {
  runId: string;
}

export function setup(): SetupData {
  if (__ENV.RUN_ID) return { runId: __ENV.RUN_ID };
  const response = http.get(`${BASE_URL}/api/runs`, { headers: API_HEADERS });
  if (response.status !== 200) fail(`GET ${BASE_URL}/api/runs answered ${response.status}`);
  const runs = (response.json() as { runs?: { id: string; live: boolean }[] }).runs ?? [];
  const live = runs.find((r) => r.live);
  if (!live) fail(`no live run at ${BASE_URL}: start the coordinator Job first, or pass -e RUN_ID=<id>`);
  return { runId: live.id };
}

interface RunStateView {
  status: string;
  rounds: { round: number; selected: number; dropped: number; wallMs: number }[];
}

/** Rounds already counted, per VU (the observe scenario has one). */
let lastRoundCounted = -1;

export function observe(data: SetupData): void {
  const response = http.get(`${BASE_URL}/api/runs/${encodeURIComponent(data.runId)}`, { headers: API_HEADERS, tags: { name: '/api/runs/{runId}' } });
  if (response.status !== 200) {
    check(response, { 'run state read': () => false });
    return;
  }
  const state = response.json() as unknown as RunStateView;
  check(state, { 'run has not failed': (s) => s.status !== 'failed' });
  for (const round of state.rounds) {
    if (round.round <= lastRoundCounted) continue;
    lastRoundCounted = round.round;
    roundsSeen.add(1);
    clientsSelected.add(round.selected);
    clientsDropped.add(round.dropped);
    for (let i = 0; i < round.selected; i += 1) droppedShare.add(i < round.dropped);
    roundWall.add(round.wallMs);
  }
}

interface PodList {
  items: { metadata: { name: string; deletionTimestamp?: string }; status: { phase: string } }[];
}

export function killWorker(): void {
  const headers = { Authorization: `Bearer ${token}` };
  const list = http.get(`${KUBE_API}/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(WORKER_SELECTOR)}`, {
    headers,
    tags: { name: 'kube: list workers' },
  });
  if (list.status !== 200) fail(`listing worker pods answered ${list.status}: does the service account have the Role in deploy/k8s/load?`);
  const running = (list.json() as unknown as PodList).items.filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
  if (running.length === 0) return;
  const victim = running[Math.floor(Math.random() * running.length)]!;
  const deleted = http.del(`${KUBE_API}/api/v1/namespaces/${namespace}/pods/${victim.metadata.name}?gracePeriodSeconds=0`, null, {
    headers,
    tags: { name: 'kube: delete worker' },
  });
  if (check(deleted, { 'worker pod deleted': (r) => r.status === 200 || r.status === 202 })) workersKilled.add(1);
}
