/**
 * The HTTP API's and socket.io's wire types, shared by the server and the dashboard (which
 * imports them as types only).
 *
 * REST (JSON):
 *   GET  /healthz, /readyz               liveness / readiness
 *   GET  /metrics                        Prometheus text (prom-client): rounds, clients trained, dropped, bytes, round durations
 *   GET  /api/runs                       { runs: RunListItem[] }, newest first (live and finished on disk)
 *   GET  /api/runs/:id                   RunState (404 { error } if unknown)
 *   POST /api/runs                       body { scenario: {...} } | { scenarioName: "quickstart" } | { yaml: "..." }
 *                                        → 201 RunListItem; 400 { error, problems[] } (same field-level problems as the CLI);
 *                                          400 also when it asks for more workers than --max-workers, or sets system.natsUrl;
 *                                          409 { error } when a run of that name is live (they would share NATS subjects);
 *                                          429 { error } when --max-runs runs are live
 *   POST /api/runs/:id/stop              → 202 { id, status: 'stopping' }; 404; 409 when it is not running
 *   GET  /api/runs/:id/report            the run's report.html (404 until written)
 *   GET  /api/scenarios                  { scenarios: string[] } names in scenarios/
 *   GET  /api/comparisons                { comparisons: ComparisonListItem[] }, newest first: the `fedsim compare` folders in the runs folder
 *   GET  /api/comparisons/:id/report     the comparison's report.html (404 until written)
 *   GET  /api/comparisons/:id/variants/:variant/report   one variant's run report
 *   POST /api/session                    → 204, with the token as an HttpOnly SameSite=Strict cookie (the dashboard's sign-in)
 *
 * Every /api/ route and socket.io connection passes api-access.ts first: 401 without the token
 * where one is in force, 403 for another site's Origin or a non-loopback Host on loopback. Every
 * 4xx body is { error, problems? } with the reason; bodies over 1 MiB are 413.
 *
 * socket.io (default namespace; the token as auth.token, the cookie or an Authorization header):
 *   server → all:   'runs'        RunListItem[]                 whenever a run starts, changes status or ends
 *   client → server: 'subscribe'  runId, ack?: (RunState | { error }) => void
 *                    → joins the run's room and gets the full state once: as the ack's argument, or as a
 *                      'run:state' event without an ack (a reconnecting browser re-subscribes and is whole again)
 *   server → room:  'run:state'   RunState
 *                   'run:round'   { runId, metrics: RoundMetricsView }
 *                   'run:clients' { runId, events: ClientEventView[] }   batched (≤ 4 per second)
 *                   'run:worker'  { runId, worker: WorkerView }          each worker at most once a second
 *                   'run:log'     { runId, lines: string[] }             batched
 *                   'run:status'  { runId, status: RunStatus, summary: Record<string, unknown> | null, error?: string, hasReport: boolean }
 *   client → server: 'unsubscribe' runId
 */

/** `stopped`: ended without error because someone stopped it (summary.json: completed, stopReason "stopped"). */
export type RunStatus = 'starting' | 'running' | 'stopping' | 'completed' | 'stopped' | 'failed';

export interface RunListItem {
  id: string;
  name: string;
  status: RunStatus;
  /** True while this server runs it; false for runs read from the runs folder. */
  live: boolean;
  startedAt: string | null;
  roundsCompleted: number;
  roundsPlanned: number | null;
  finalTestAccuracy: number | null;
  epsilon: number | null;
}

/** A metrics.jsonl line (see RoundMetrics in coordinator.ts); fields may be null when not measured. */
export type RoundMetricsView = Record<string, unknown> & { round: number };

export type ClientState = 'selected' | 'training' | 'done' | 'dropped' | 'straggler' | 'rejected';

export interface ClientEventView {
  round: number;
  clientId: number;
  state: ClientState;
  workerId?: string;
  reason?: string;
}

export interface WorkerView {
  workerId: string;
  host: string;
  backend: string | null;
  clientsTrained: number;
  /** Local training samples per second over the run (samples × epochs / training time). */
  samplesPerSecond: number | null;
}

export interface RunState extends RunListItem {
  scenario: Record<string, unknown> | null;
  rounds: RoundMetricsView[];
  summary: Record<string, unknown> | null;
  error?: string;
  workers: WorkerView[];
  /** The current (or last) round's clients and their states. */
  clients: { round: number; states: Record<string, ClientState> };
  /** The last log lines (JSON, pino). */
  logTail: string[];
  hasReport: boolean;
}

/** A `fedsim compare` folder: the sweep and how each variant ended. */
export interface ComparisonListItem {
  id: string;
  sweep: string;
  description: string | null;
  createdAt: string | null;
  hasReport: boolean;
  variants: ComparisonVariantItem[];
}

export interface ComparisonVariantItem {
  name: string;
  status: 'completed' | 'stopped' | 'failed';
  error: string | null;
  finalAccuracy: number | null;
  epsilon: number | null;
  hasReport: boolean;
}
