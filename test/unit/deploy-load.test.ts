/**
 * The k6 scripts of test/load, without k6: each is stripped of its types (as k6 does), its k6
 * imports pointed at small stand-ins, and run in the init context and through its functions
 * against canned responses. That checks what k6 would see (options built from load-plan.json,
 * requests made, pods killed) and that the scripts import nothing k6 cannot load. The in-cluster
 * Jobs must run those scripts against the coordinator's Service.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderKustomization, type K8sObject } from '../../deploy/tools/kustomize.js';
import { checkLoadPlan, durationSeconds, type LoadPlan } from '../load/load-plan.js';

const ROOT = resolve(import.meta.dirname, '../..');
const LOAD = join(ROOT, 'test/load');
const plan: LoadPlan = checkLoadPlan(JSON.parse(readFileSync(join(LOAD, 'load-plan.json'), 'utf8')));

/** The k6 modules the scripts may use; each stand-in records what the script does. */
const K6_MODULES = new Set(['k6', 'k6/http', 'k6/metrics']);
const SHIMS: Record<string, string> = {
  'k6.mjs': `
    export function check(value, sets) { let ok = true; for (const [name, f] of Object.entries(sets)) { const r = !!f(value); globalThis.__k6.checks.push([name, r]); ok &&= r; } return ok; }
    export function fail(message) { throw new Error('k6 fail: ' + message); }
    export function sleep() {}`,
  'k6-http.mjs': `
    const request = (method, url, body, params) => globalThis.__k6.request(method, url, body, params);
    export default {
      get: (url, params) => request('GET', url, null, params),
      del: (url, body, params) => request('DELETE', url, body, params),
      expectedStatuses: (...statuses) => ({ expectedStatuses: statuses }),
    };`,
  'k6-metrics.mjs': `
    class Metric { constructor(name) { this.name = name; globalThis.__k6.metrics[name] = []; } add(v) { globalThis.__k6.metrics[this.name].push(v); } }
    export class Counter extends Metric {}
    export class Rate extends Metric {}
    export class Trend extends Metric {}
    export class Gauge extends Metric {}`,
};

interface Recorded {
  method: string;
  url: string;
  params?: { headers?: Record<string, string>; responseCallback?: { expectedStatuses: number[] }; tags?: Record<string, string> };
}
interface K6Env {
  requests: Recorded[];
  checks: [string, boolean][];
  metrics: Record<string, (number | boolean)[]>;
}

let work: string;
let loads = 0;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'fedsim-k6-'));
  for (const [name, text] of Object.entries(SHIMS)) writeFileSync(join(work, name), text);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The script's JavaScript as k6 runs it: types stripped, nothing else changed. */
function transpiled(script: string): string {
  const source = readFileSync(join(LOAD, script), 'utf8');
  return ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false } })
    .outputText;
}

function importsOf(js: string): string[] {
  return [...js.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

/** Loads a script afresh with the stand-ins; `respond` answers its HTTP requests. */
async function loadScript(
  script: string,
  env: Record<string, string>,
  respond: (method: string, url: string) => { status: number; body?: unknown },
  files: Record<string, string> = {},
): Promise<{ module: Record<string, unknown>; k6: K6Env }> {
  const k6: K6Env = { requests: [], checks: [], metrics: {} };
  const g = globalThis as Record<string, unknown>;
  g.__ENV = env;
  g.open = (path: string) => {
    if (path === './load-plan.json') return readFileSync(join(LOAD, 'load-plan.json'), 'utf8');
    if (path in files) return files[path];
    throw new Error(`open(${path}): no such file`);
  };
  g.__k6 = {
    ...k6,
    request: (method: string, url: string, _body: unknown, params: Recorded['params']) => {
      k6.requests.push({ method, url, params });
      const answer = respond(method, url);
      return { status: answer.status, json: () => answer.body, body: JSON.stringify(answer.body ?? null) };
    },
  };
  Object.assign(g.__k6 as object, { checks: k6.checks, metrics: k6.metrics });
  const js = transpiled(script)
    .replace(/from ['"]k6['"]/g, "from './k6.mjs'")
    .replace(/from ['"]k6\/http['"]/g, "from './k6-http.mjs'")
    .replace(/from ['"]k6\/metrics['"]/g, "from './k6-metrics.mjs'");
  loads += 1;
  const file = join(work, `${script.replace(/\.ts$/, '')}-${loads}.mjs`);
  writeFileSync(file, js);
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  return { module, k6 };
}

describe('load-plan.json', () => {
  it('is a valid plan', () => {
    expect(plan.api.endpoints.map((e) => e.name)).toEqual(['healthz', 'list-runs', 'show-run']);
    expect(() => checkLoadPlan({ ...plan, api: { ...plan.api, vus: 0 } })).toThrow(/api.vus/);
    expect(durationSeconds('30s') + durationSeconds('5m') + durationSeconds('250ms')).toBe(330.25);
  });
});

describe.each(['api-load.ts', 'worker-churn.ts'])('%s', (script) => {
  it('imports only k6 modules at run time (types vanish)', () => {
    const runtime = importsOf(transpiled(script));
    expect(runtime.filter((m) => !K6_MODULES.has(m))).toEqual([]);
    // The plan reaches the script through open(), which resolves beside the script in the ConfigMap.
    expect(readFileSync(join(LOAD, script), 'utf8')).toContain("open('./load-plan.json')");
  });
});

describe('api-load.ts', () => {
  const runs = { runs: [{ id: 'k8s-mnist-2025-01-01_00-00-00-000' }, { id: 'older' }] };

  it('gives every endpoint of the plan its own scenario, one after another, with its p95 threshold', async () => {
    const { module } = await loadScript('api-load.ts', {}, () => ({ status: 200, body: runs }));
    const options = module.options as {
      scenarios: Record<string, { executor: string; exec: string; vus: number; duration: string; startTime: string; env: Record<string, string> }>;
      thresholds: Record<string, string[]>;
    };
    expect(Object.keys(options.scenarios)).toEqual(plan.api.endpoints.map((e) => e.name));
    const starts = Object.values(options.scenarios).map((s) => durationSeconds(s.startTime));
    for (let i = 1; i < starts.length; i += 1) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(durationSeconds(plan.api.duration));
    for (const endpoint of plan.api.endpoints) {
      expect(options.scenarios[endpoint.name]).toMatchObject({
        executor: 'constant-vus',
        exec: 'hit',
        vus: plan.api.vus,
        duration: plan.api.duration,
        env: { ENDPOINT: endpoint.name },
      });
      expect(options.thresholds[`http_req_duration{scenario:${endpoint.name}}`]).toEqual([`p(95)<${endpoint.p95Ms}`]);
    }
    expect(options.thresholds.http_req_failed).toEqual([`rate<${plan.api.maxErrorRate}`]);
    expect(typeof module.hit).toBe('function');
  });

  it('finds the newest run in setup and requests each endpoint with it', async () => {
    const { module, k6 } = await loadScript('api-load.ts', { BASE_URL: 'http://fedsim-coordinator:8080/' }, () => ({ status: 200, body: runs }));
    const data = (module.setup as () => { runId: string })();
    expect(data).toEqual({ runId: runs.runs[0]!.id });
    for (const endpoint of plan.api.endpoints) {
      (globalThis as Record<string, unknown>).__ENV = { BASE_URL: 'http://fedsim-coordinator:8080/', ENDPOINT: endpoint.name };
      (module.hit as (d: unknown) => void)(data);
    }
    expect(k6.requests.map((r) => r.url)).toEqual([
      'http://fedsim-coordinator:8080/api/runs',
      'http://fedsim-coordinator:8080/healthz',
      'http://fedsim-coordinator:8080/api/runs',
      `http://fedsim-coordinator:8080/api/runs/${runs.runs[0]!.id}`,
    ]);
    expect(k6.requests.slice(1).map((r) => r.params?.responseCallback?.expectedStatuses)).toEqual(plan.api.endpoints.map((e) => e.expect));
    expect(k6.checks.every(([, ok]) => ok)).toBe(true);
  });

  it('stops in setup, with the reason, when the server has no run', async () => {
    const { module } = await loadScript('api-load.ts', {}, () => ({ status: 200, body: { runs: [] } }));
    expect(() => (module.setup as () => unknown)()).toThrow(/no runs at .*RUN_ID/);
  });
});

describe('worker-churn.ts', () => {
  const base = rendered('base');
  const workerLabels = (
    base.find((o) => o.kind === 'Deployment' && o.metadata.name === 'fedsim-worker')!.spec as { template: { metadata: { labels: Record<string, string> } } }
  ).template.metadata.labels;
  const state = {
    status: 'running',
    rounds: [
      { round: 1, selected: 20, dropped: 0, wallMs: 900 },
      { round: 2, selected: 20, dropped: 3, wallMs: 300_000 },
    ],
  };
  const pods = {
    items: [
      { metadata: { name: 'fedsim-worker-a' }, status: { phase: 'Running' } },
      { metadata: { name: 'fedsim-worker-b', deletionTimestamp: '2025-01-01T00:00:00Z' }, status: { phase: 'Running' } },
      { metadata: { name: 'fedsim-worker-c' }, status: { phase: 'Pending' } },
    ],
  };
  const serviceAccount = {
    '/var/run/secrets/kubernetes.io/serviceaccount/token': 'token-123\n',
    '/var/run/secrets/kubernetes.io/serviceaccount/namespace': 'fedsim\n',
  };
  const respond = (method: string, url: string) => {
    if (url.endsWith('/api/runs'))
      return {
        status: 200,
        body: {
          runs: [
            { id: 'done', live: false },
            { id: 'live-1', live: true },
          ],
        },
      };
    if (url.includes('/api/runs/')) return { status: 200, body: state };
    if (method === 'GET' && url.includes('/pods?')) return { status: 200, body: pods };
    if (method === 'DELETE') return { status: 200, body: {} };
    return { status: 404 };
  };

  it('kills a running worker pod, selected by the Deployment label, with no grace period', async () => {
    const { module, k6 } = await loadScript('worker-churn.ts', {}, respond, serviceAccount);
    const options = module.options as { scenarios: Record<string, { exec: string; timeUnit: string; duration: string }> };
    expect(Object.keys(options.scenarios).sort()).toEqual(['churn', 'observe']);
    expect(options.scenarios.churn).toMatchObject({ exec: 'killWorker', timeUnit: `${plan.churn.killEverySeconds}s`, duration: plan.churn.duration });
    (module.killWorker as () => void)();
    const [list, del] = k6.requests;
    const selector = new URL(list!.url).searchParams.get('labelSelector')!;
    const [key, value] = selector.split('=');
    expect(workerLabels[key!]).toBe(value);
    expect(list!.url.startsWith('https://kubernetes.default.svc/api/v1/namespaces/fedsim/pods?')).toBe(true);
    expect(del).toMatchObject({ method: 'DELETE', url: 'https://kubernetes.default.svc/api/v1/namespaces/fedsim/pods/fedsim-worker-a?gracePeriodSeconds=0' });
    expect(del!.params?.headers?.Authorization).toBe('Bearer token-123');
    expect(k6.metrics.fedsim_workers_killed).toEqual([1]);
  });

  it('observes the live run and counts each round once, dropped clients as a rate', async () => {
    const { module, k6 } = await loadScript('worker-churn.ts', { CHURN: '0', BASE_URL: 'http://fedsim-coordinator:8080' }, respond);
    expect(Object.keys((module.options as { scenarios: object }).scenarios)).toEqual(['observe']);
    const data = (module.setup as () => { runId: string })();
    expect(data.runId).toBe('live-1');
    (module.observe as (d: unknown) => void)(data);
    (module.observe as (d: unknown) => void)(data);
    expect(k6.metrics.fedsim_rounds_observed).toEqual([1, 1]);
    expect(k6.metrics.fedsim_round_wall_ms).toEqual([900, 300_000]);
    const dropped = k6.metrics.fedsim_client_dropped!;
    expect(dropped).toHaveLength(40);
    expect(dropped.filter(Boolean)).toHaveLength(3);
    expect((module.options as { thresholds: Record<string, string[]> }).thresholds.fedsim_client_dropped).toEqual([`rate<=${plan.churn.maxDroppedFraction}`]);
  });
});

describe('the in-cluster Jobs (deploy/k8s/load)', () => {
  const objects = rendered('load');
  const base = rendered('base');
  const jobs = objects.filter((o) => o.kind === 'Job');

  it.each(jobs.map((j) => [j.metadata.name, j] as const))('%s runs a script of test/load against the coordinator Service', (_name, job) => {
    const pod = (job.spec as { template: { spec: PodSpec } }).template.spec;
    const container = pod.containers[0]!;
    expect(container.image).toMatch(/^grafana\/k6:\d+\.\d+\.\d+$/);
    const [verb, path] = container.args;
    expect(verb).toBe('run');
    const mount = container.volumeMounts.find((m) => path!.startsWith(`${m.mountPath}/`))!;
    expect(pod.volumes.find((v) => v.name === mount.name)?.configMap?.name).toBe('fedsim-k6-scripts');
    expect(readFileSync(join(LOAD, path!.slice(mount.mountPath.length + 1)), 'utf8')).toContain('k6');
    const url = new URL(container.env.find((e) => e.name === 'BASE_URL')!.value!);
    const service = base.find((o) => o.kind === 'Service' && o.metadata.name === url.hostname)!;
    expect((service.spec as { ports: { port: number }[] }).ports.map((p) => p.port)).toContain(Number(url.port));
  });

  it('lets only the churn Job delete pods, through its own service account', () => {
    const churn = jobs.find((j) => j.metadata.name === 'fedsim-k6-worker-churn')!;
    const pod = (churn.spec as { template: { spec: PodSpec } }).template.spec;
    const binding = objects.find((o) => o.kind === 'RoleBinding')! as K8sObject & {
      subjects: { kind: string; name: string; namespace: string }[];
      roleRef: { name: string };
    };
    const role = objects.find((o) => o.kind === 'Role' && o.metadata.name === binding.roleRef.name)! as K8sObject & {
      rules: { resources: string[]; verbs: string[] }[];
    };
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: churn.metadata.namespace }]);
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'delete'] }]);
    expect(pod.containers[0]!.env.find((e) => e.name === 'SSL_CERT_FILE')?.value).toBe('/var/run/secrets/kubernetes.io/serviceaccount/ca.crt');
    const api = jobs.find((j) => j.metadata.name === 'fedsim-k6-api-load')!;
    expect((api.spec as { template: { spec: { automountServiceAccountToken?: boolean } } }).template.spec.automountServiceAccountToken).toBe(false);
  });
});

interface PodSpec {
  containers: { image: string; args: string[]; env: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string }[] }[];
  volumes: { name: string; configMap?: { name: string } }[];
  serviceAccountName?: string;
}

function rendered(dir: string): K8sObject[] {
  return renderKustomization(join(ROOT, 'deploy/k8s', dir));
}
