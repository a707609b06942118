/** `fedsim serve`: the HTTP API, socket.io feed and dashboard; runs start from the API. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { LOG_LEVELS, type LogLevel } from '../shared/logging/logger.js';
import { defaultLogLevel, parseCount, parsePort } from './argument-parsers.js';

interface ServeOptions {
  port: number;
  host: string;
  runsDir: string;
  scenarios: string;
  workers?: number;
  maxWorkers?: number;
  maxRuns?: number;
  allowOrigin?: string[];
  logLevel: LogLevel;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the HTTP API and live dashboard; start, watch and stop runs from a browser or with curl')
    .option('--port <port>', 'TCP port (0 = any free port)', parsePort, 8080)
    .option('--host <host>', 'interface to listen on (0.0.0.0 for all, e.g. in a container)', '127.0.0.1')
    .option('--runs-dir <dir>', 'where runs are written and finished runs are listed from', 'runs')
    .option('--scenarios <dir>', 'scenarios that POST /api/runs {"scenarioName": …} may start', 'scenarios')
    .option('--workers <n>', "worker processes each run starts (default: the scenario's system.workers)", parseCount)
    .option('--max-workers <n>', 'most worker processes a run started from the API may start (default: the cores of this machine)', parsePositive)
    .option('--max-runs <n>', 'most runs live at once; more are answered 429 (default 4)', parsePositive)
    .option('--allow-origin <origin...>', "origins besides the server's own whose pages may call the API (e.g. https://proxy.example)")
    .addOption(
      new Option('--log-level <level>', 'terminal log level of runs (default: FEDSIM_LOG_LEVEL or warn)').choices(LOG_LEVELS).default(defaultLogLevel('warn')),
    )
    .action(async (opts: ServeOptions) => {
      const server = await startServer(opts);
      process.stderr.write(`fedsim serve: dashboard and API on ${server.url}  (Ctrl-C to stop)\n`);
      announceAccess(server);
      const shutdown = async () => {
        process.stderr.write('stopping: live runs finish their current round\n');
        await server.registry.stopAll();
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown());
      process.once('SIGTERM', () => void shutdown());
    });
}

function parsePositive(value: string): number {
  const n = parseCount(value);
  if (n === 0) throw new InvalidArgumentError(`expected a whole number ≥ 1 (got "${value}")`);
  return n;
}

/**
 * Where to point the browser, and with which token: printed once, on standard error. A token the
 * user chose (FEDSIM_API_TOKEN, a Kubernetes Secret) is never echoed: logs travel further than secrets.
 */
function announceAccess(server: { url: string; dashboardUrl: string; access: { token: string | null; generated: boolean } }): void {
  if (server.access.token === null) return;
  if (!server.access.generated) {
    process.stderr.write(`API token required (FEDSIM_API_TOKEN): open ${server.url}/#token=<the token>, or send "Authorization: Bearer <the token>"\n`);
    return;
  }
  const { token } = server.access;
  process.stderr.write(
    `API token (generated for this process; set FEDSIM_API_TOKEN to choose one): ${token}\n  open ${server.dashboardUrl}\n  or: curl -H "Authorization: Bearer ${token}" ${server.url}/api/runs\n`,
  );
}

/** Builds the dashboard if needed (a failed build leaves the API up, with a note at /). */
export async function startServer(options: ServeOptions & { registry?: import('../app/api/run-registry.js').RunRegistry }) {
  const { startApiServer } = await import('../app/api/api-server.js');
  let dashboardDir: string | null = null;
  try {
    const { ensureDashboardBuilt } = await import('../app/dashboard/build-dashboard.js');
    dashboardDir = await ensureDashboardBuilt();
  } catch (error) {
    process.stderr.write(`fedsim serve: the dashboard could not be built (${(error as Error).message}); the API works without it\n`);
  }
  return startApiServer({
    port: options.port,
    host: options.host,
    runsDir: options.runsDir,
    scenariosDir: options.scenarios,
    workers: options.workers,
    logLevel: options.logLevel,
    dashboardDir,
    registry: options.registry,
    token: process.env.FEDSIM_API_TOKEN || undefined,
    allowedOrigins: options.allowOrigin,
    limits: {
      ...(options.maxWorkers !== undefined && { maxWorkersPerRun: options.maxWorkers }),
      ...(options.maxRuns !== undefined && { maxLiveRuns: options.maxRuns }),
    },
  });
}

/** `fedsim run --serve PORT`: the run, watchable in a browser while it lasts. */
export async function runWithDashboard(
  scenario: import('../shared/scenario/schema.js').Scenario,
  options: { port: number; host: string; logLevel: LogLevel; workers?: number; progress: boolean },
): Promise<import('../app/run/run-simulation.js').RunSummary> {
  const { RunRegistry } = await import('../app/api/run-registry.js');
  const registry = new RunRegistry({ runsDir: scenario.output.dir, logLevel: options.logLevel, workers: options.workers, progress: options.progress });
  const server = await startServer({
    port: options.port,
    host: options.host,
    runsDir: scenario.output.dir,
    scenarios: 'scenarios',
    logLevel: options.logLevel,
    registry,
  });
  const run = registry.start(scenario);
  process.stderr.write(`watch it live: ${server.url}/#/runs/${run.id}\n`);
  announceAccess(server);
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nstopping after the current round (Ctrl-C again to abort)\n');
    registry.stop(run.id);
  };
  process.on('SIGINT', onSigint);
  try {
    const summary = await registry.finished(run.id);
    if (!summary) throw new Error(`run ${run.id} ended without a summary: ${registry.get(run.id)?.error ?? 'unknown error'}`);
    return summary;
  } finally {
    process.off('SIGINT', onSigint);
    await server.close();
  }
}
