/**
 * The worker processes `fedsim run` starts itself on this machine. They are ordinary
 * `fedsim worker` processes that join over NATS exactly as workers on other machines do; their
 * JSON logs go to workers.log in the run folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendPreference } from '../../client/backend/select-backend.js';

export const FEDSIM_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/fedsim.js');

export interface WorkerProcessOptions {
  count: number;
  natsUrl: string;
  runName: string;
  logFile: string;
  logLevel: string;
  backend?: BackendPreference;
  /** Workers stay for the next run of the same name (a sweep's pool); stop them with terminate(). */
  keepAlive?: boolean;
  /** Worker `index`'s NATS login (the private server's generated users), added to its environment. */
  loginOf?: (index: number) => Record<string, string> | null;
}

export class WorkerProcesses {
  private readonly children: ChildProcess[] = [];
  /** A process.exit() (a second Ctrl-C) skips stop(): no worker outlives the process that started it. */
  private readonly onExit = () => this.killAll();

  constructor(private readonly options: WorkerProcessOptions) {}

  start(): void {
    const { count, natsUrl, runName, logFile, logLevel, backend } = this.options;
    const logFd = openSync(logFile, 'a');
    process.once('exit', this.onExit);
    try {
      for (let i = 0; i < count; i++) {
        const args = [
          FEDSIM_BIN,
          'worker',
          '--nats',
          natsUrl,
          '--run',
          runName,
          '--log-level',
          logLevel,
          '--log-format',
          'json',
          '--worker-id',
          `${runName}-w${i + 1}-${process.pid}`,
        ];
        if (backend) args.push('--backend', backend);
        if (this.options.keepAlive) args.push('--keep-alive');
        const env = { ...process.env, ...this.options.loginOf?.(i) };
        const child = spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd], env });
        this.children.push(child);
      }
    } finally {
      closeSync(logFd);
    }
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Waits for the workers to leave after the run-end message, then kills any that linger. */
  async stop(graceMs = 10_000): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((done) => child.once('exit', () => done()));
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }),
    );
    process.off('exit', this.onExit);
  }

  /** Asks every worker to leave (SIGTERM), then waits as stop() does. */
  async terminate(graceMs = 10_000): Promise<void> {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await this.stop(graceMs);
  }

  killAll(): void {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}
