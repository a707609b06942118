/**
 * The shape of load-plan.json, the one description of the load tests that k6 (in a cluster) and
 * bench/load-driver.ts (locally, with autocannon) both run. k6 scripts import only the types
 * (type imports vanish when k6 strips the TypeScript), so this file must hold nothing the k6
 * runtime would have to load.
 */
export interface LoadPlan {
  description: string;
  api: {
    /** Concurrent virtual users per endpoint (k6 VUs; autocannon connections). */
    vus: number;
    /** Per endpoint, in k6's duration format ("30s", "2m"). Endpoints run one after another. */
    duration: string;
    /** Largest share of failed requests (unexpected status or transport error). */
    maxErrorRate: number;
    endpoints: LoadEndpoint[];
  };
  churn: {
    duration: string;
    /** One worker is killed this often (pod deleted without grace; locally, SIGKILL). */
    killEverySeconds: number;
    /** How often the run's state is read from the API. */
    pollEverySeconds: number;
    /** 95th percentile of those reads, in ms. */
    apiP95Ms: number;
    /** Largest share of selected clients dropped over the observed rounds. */
    maxDroppedFraction: number;
  };
}

export interface LoadEndpoint {
  /** Names the k6 scenario and the driver's table row. */
  name: string;
  /** {runId} is replaced by a run the server knows. */
  path: string;
  expect: number[];
  /** k6 threshold on the 95th percentile of request duration, in ms. */
  p95Ms: number;
}

/** "30s", "5m", "1h" → seconds. */
export function durationSeconds(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(duration.trim());
  if (!match) throw new Error(`duration "${duration}": expected a number and ms, s, m or h`);
  const value = Number(match[1]);
  const unit = match[2];
  return unit === 'ms' ? value / 1000 : unit === 's' ? value : unit === 'm' ? value * 60 : value * 3600;
}

/** Checks a parsed load-plan.json, naming every field that is wrong. */
export function checkLoadPlan(value: unknown): LoadPlan {
  const problems: string[] = [];
  const plan = value as LoadPlan;
  const positive = (n: unknown, path: string) => {
    if (typeof n !== 'number' || !(n > 0)) problems.push(`${path}: expected a number > 0 (got ${JSON.stringify(n)})`);
  };
  const duration = (d: unknown, path: string) => {
    try {
      durationSeconds(String(d));
    } catch (error) {
      problems.push(`${path}: ${(error as Error).message}`);
    }
  };
  if (!plan?.api || !plan.churn) return fail(['expected sections api and churn']);
  positive(plan.api.vus, 'api.vus');
  duration(plan.api.duration, 'api.duration');
  if (!(plan.api.maxErrorRate >= 0 && plan.api.maxErrorRate < 1)) problems.push('api.maxErrorRate: expected 0 ≤ rate < 1');
  if (!Array.isArray(plan.api.endpoints) || plan.api.endpoints.length === 0) problems.push('api.endpoints: expected a non-empty list');
  const names = new Set<string>();
  for (const [i, e] of (plan.api.endpoints ?? []).entries()) {
    if (!/^[a-z][a-z0-9-]*$/.test(e.name ?? '')) problems.push(`api.endpoints[${i}].name: expected lower-case letters, digits and "-" (a k6 scenario name)`);
    if (names.has(e.name)) problems.push(`api.endpoints[${i}].name: "${e.name}" twice`);
    names.add(e.name);
    if (typeof e.path !== 'string' || !e.path.startsWith('/')) problems.push(`api.endpoints[${i}].path: expected a path starting with /`);
    if (!Array.isArray(e.expect) || e.expect.some((s) => !Number.isInteger(s))) problems.push(`api.endpoints[${i}].expect: expected a list of HTTP statuses`);
    positive(e.p95Ms, `api.endpoints[${i}].p95Ms`);
  }
  duration(plan.churn.duration, 'churn.duration');
  positive(plan.churn.killEverySeconds, 'churn.killEverySeconds');
  positive(plan.churn.pollEverySeconds, 'churn.pollEverySeconds');
  positive(plan.churn.apiP95Ms, 'churn.apiP95Ms');
  if (!(plan.churn.maxDroppedFraction >= 0 && plan.churn.maxDroppedFraction <= 1)) problems.push('churn.maxDroppedFraction: expected 0 ≤ fraction ≤ 1');
  return problems.length > 0 ? fail(problems) : plan;
}

function fail(problems: string[]): never {
  throw new Error(`load-plan.json is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
