/** REST calls of the dashboard (see app/api/api-types.ts for the contract). */
import type { ComparisonListItem, RunListItem, RunState } from '../../api/api-types.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(path, { ...init, headers: { accept: 'application/json', ...(init?.body ? { 'content-type': 'application/json' } : {}) } });
  const body = (await response.json().catch(() => null)) as (T & { error?: string; problems?: unknown[] }) | null;
  if (!response.ok) {
    const problems = Array.isArray(body?.problems) ? body.problems.map(problemText) : [];
    throw new ApiError(body?.error ?? `${response.status} ${response.statusText}`, response.status, problems);
  }
  return body as T;
}

/** The server's field-level problems may be strings or { path, message } objects. */
function problemText(problem: unknown): string {
  if (typeof problem === 'string') return problem;
  if (problem && typeof problem === 'object') {
    const { path, message } = problem as { path?: unknown; message?: unknown };
    if (typeof message === 'string')
      return path ? `${Array.isArray(path) ? path.join('.') : typeof path === 'string' ? path : JSON.stringify(path)}: ${message}` : message;
  }
  return JSON.stringify(problem);
}

export const api = {
  runs: () => request<{ runs: RunListItem[] }>('/api/runs').then((r) => r.runs),
  run: (id: string) => request<RunState>(`/api/runs/${encodeURIComponent(id)}`),
  scenarios: () => request<{ scenarios: string[] }>('/api/scenarios').then((r) => r.scenarios),
  startRun: (scenarioName: string) => request<RunListItem>('/api/runs', { method: 'POST', body: JSON.stringify({ scenarioName }) }),
  stopRun: (id: string) => request<{ id: string; status: string }>(`/api/runs/${encodeURIComponent(id)}/stop`, { method: 'POST', body: '{}' }),
  reportUrl: (id: string) => `/api/runs/${encodeURIComponent(id)}/report`,
  comparisons: () => request<{ comparisons: ComparisonListItem[] }>('/api/comparisons').then((r) => r.comparisons),
  comparisonReportUrl: (id: string) => `/api/comparisons/${encodeURIComponent(id)}/report`,
  variantReportUrl: (id: string, variant: string) => `/api/comparisons/${encodeURIComponent(id)}/variants/${encodeURIComponent(variant)}/report`,
};
