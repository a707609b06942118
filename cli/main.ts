/**
 * The `fedsim` command line: run, worker, validate, compare, serve, report, privacy. Each command
 * validates its input before it starts anything and exits non-zero with a readable message on
 * failure.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { LOG_LEVELS, type LogLevel } from '../shared/logging/logger.js';
import { loadScenarioFile, ScenarioError } from '../shared/scenario/load-scenario.js';
import { interruptOnSigint } from './interrupt-on-sigint.js';
import type { BackendPreference } from '../client/backend/select-backend.js';
import { defaultLogLevel, parseCount, parsePort } from './argument-parsers.js';
import { catalogCommands } from './catalog-command.js';
import { compareCommand } from './compare-command.js';
import { deployCommand } from './deploy-command.js';
import { serveCommand } from './serve-command.js';
import { privacyCommand } from './privacy-command.js';
import { reportCommand } from './report-command.js';
import { validateCommand } from './validate-command.js';

// run and worker load TensorFlow.js and NATS on demand, so `validate` and `--help` stay instant.

const program = new Command()
  .name('fedsim')
  .description('Federated-learning simulator: FedAvg rounds over NATS with TensorFlow.js workers.')
  .version(packageVersion(), '-V, --version', 'print the fedsim version')
  .showHelpAfterError();

// FEDSIM_LOG_LEVEL sets the default where flags are awkward (container manifests).
const logLevelOption = () =>
  new Option('--log-level <level>', 'terminal log level (default: FEDSIM_LOG_LEVEL or info)').choices(LOG_LEVELS).default(defaultLogLevel('info'));

program
  .command('run')
  .description('run a federated simulation from a scenario file; outputs go to runs/<name>-<timestamp>/')
  .argument('<scenario>', 'scenario YAML file (see scenarios/)')
  .option('--json', 'print the run summary as JSON on stdout (for scripts)')
  .option('--workers <n>', 'worker processes to start (overrides system.workers; 0 = only workers started by hand)', parseCount)
  .option('--serve <port>', 'serve the live dashboard and HTTP API on this port while the run lasts', parsePort)
  .option('--host <host>', 'interface --serve listens on (0.0.0.0 in a container)', '127.0.0.1')
  .addOption(logLevelOption())
  .action(async (file: string, opts: { json?: boolean; workers?: number; serve?: number; host: string; logLevel: LogLevel }) => {
    const scenario = await loadScenarioFile(file);
    const { runSimulation } = await import('../app/run/run-simulation.js');
    const { summaryLine } = await import('../app/output/summary-line.js');
    if (opts.serve !== undefined) {
      const { runWithDashboard } = await import('./serve-command.js');
      const summary = await runWithDashboard(scenario, {
        port: opts.serve,
        host: opts.host,
        logLevel: opts.logLevel,
        workers: opts.workers,
        progress: !opts.json || process.stderr.isTTY === true,
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else process.stderr.write(`${summaryLine(summary)}\n`);
      process.exitCode = summary.status === 'completed' ? 0 : 1;
      exitWhenFlushed();
      return;
    }
    const { RunInterrupts } = await import('../app/run/run-interrupts.js');
    const interrupts = new RunInterrupts();
    const stopListening = interruptOnSigint(interrupts, 'run');
    const summary = await runSimulation(scenario, {
      logLevel: opts.logLevel,
      progress: !opts.json || process.stderr.isTTY === true,
      workers: opts.workers,
      interrupts,
    });
    stopListening();
    if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stderr.write(`${summaryLine(summary)}\n`);
    process.exitCode = summary.status === 'completed' ? 0 : 1;
    exitWhenFlushed();
  });

program
  .command('worker')
  .description('join a run as a worker process: host virtual clients and train them as tasks arrive')
  .addOption(new Option('--nats <url>', 'NATS server of the run, e.g. nats://host:4222; required, here or in the environment').env('NATS_URL'))
  .requiredOption('--run <name>', "the run's scenario name (its `name:` field)")
  .addOption(
    new Option('--backend <backend>', "tfjs backend for this worker (default: the scenario's system.backend)").choices(['auto', 'tensorflow', 'wasm', 'cpu']),
  )
  .option('--worker-id <id>', 'a name for this worker in logs and metrics')
  .option('--join-timeout <seconds>', 'how long to wait for the coordinator', parseCount, 120)
  .option('--keep-alive', 'after a run ends, wait for the next run of the same name (fedsim compare reuses its workers so)')
  .option('--health-port <port>', 'serve /healthz, /readyz and Prometheus /metrics on this port (Kubernetes probes)', parseCount)
  .addOption(logLevelOption())
  .addOption(new Option('--log-format <format>', 'pretty lines or JSON on stderr').choices(['pretty', 'json']).default('pretty'))
  .action(
    async (
      opts: {
        nats?: string;
        run: string;
        backend?: BackendPreference;
        workerId?: string;
        joinTimeout: number;
        keepAlive?: boolean;
        healthPort?: number;
        logLevel: LogLevel;
        logFormat: string;
      },
      command: Command,
    ) => {
      // Not a requiredOption: commander's message for one would not mention NATS_URL.
      if (!opts.nats) command.error('error: no NATS server given: pass --nats nats://host:4222 or set NATS_URL in the environment');
      const natsUrl = opts.nats;
      const urlOrigin = command.getOptionValueSource('nats') === 'env' ? 'NATS_URL in the environment' : '--nats';
      const { createLogger } = await import('../shared/logging/logger.js');
      const { NatsBus } = await import('../shared/bus/nats-bus.js');
      const { Worker } = await import('../client/worker.js');
      const log = createLogger({ name: 'worker', level: opts.logLevel, jsonToStderr: opts.logFormat === 'json' });
      const { createWorkerMetrics } = await import('../shared/observability/prometheus-metrics.js');
      const metrics = createWorkerMetrics();
      let health: Awaited<ReturnType<typeof import('../shared/observability/health-server.js').startHealthServer>> | null = null;
      if (opts.healthPort !== undefined) {
        const { startHealthServer } = await import('../shared/observability/health-server.js');
        health = await startHealthServer(opts.healthPort, metrics.registry);
        log.info({ port: health.port }, 'health and metrics endpoints up');
      }
      const bus = await NatsBus.connect(natsUrl, `fedsim-worker-${opts.workerId ?? process.pid}`, (message) =>
        log.error({ err: message }, "NATS refused an operation: check the worker user's permissions (fedsim deploy creds)"),
      ).catch((error: Error) => {
        throw new Error(`${error.message} (the URL came from ${urlOrigin})`);
      });
      let worker: InstanceType<typeof Worker> | null = null;
      let ended: string | null = null;
      const stop = (reason: string) => {
        ended = reason;
        worker?.stop(reason);
      };
      process.once('SIGINT', () => stop('interrupted'));
      process.once('SIGTERM', () => stop('terminated'));
      // A vanished server ends the worker instead of leaving it waiting forever.
      void bus.closed().then(() => stop('NATS connection closed'));
      const servedRuns = new Set<string>();
      const dataCache = new Map();
      try {
        do {
          worker = new Worker({
            bus,
            runName: opts.run,
            log,
            workerId: opts.workerId,
            backend: opts.backend,
            joinTimeoutMs: opts.joinTimeout * 1000,
            skipRuns: servedRuns,
            dataCache,
            metrics,
            onReadyChange: (ready) => health?.setReady(ready),
          });
          const stats = await worker.run();
          servedRuns.add(stats.runId);
        } while (opts.keepAlive && ended === null);
      } finally {
        await bus.close().catch(() => {});
        await health?.close();
      }
      exitWhenFlushed();
    },
  );

program.addCommand(validateCommand());
program.addCommand(compareCommand());
program.addCommand(deployCommand());
program.addCommand(serveCommand());
program.addCommand(privacyCommand());
program.addCommand(reportCommand());
for (const command of catalogCommands()) program.addCommand(command);

/** Read at run time, so a release only has to change package.json. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

/**
 * Ends the process once stdout has drained. tfjs backends keep handles open that would otherwise
 * keep a finished run alive.
 */
function exitWhenFlushed(): void {
  process.stdout.write('', () => process.exit());
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ScenarioError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  if (error instanceof Error) {
    process.stderr.write(`fedsim: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
