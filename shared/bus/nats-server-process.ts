/**
 * Starts a private nats-server for one run (or one test) on a free loopback port and stops it
 * afterwards. Used by `transport: auto` when no NATS URL is given, and by the test harness.
 * JetStream is on (the task queue needs it), its store in the server's temporary folder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsServerOptions {
  /** Bytes; fedsim chunks anything larger. Default 8 MiB (the NATS docs' advised ceiling). */
  maxPayload?: number;
  /** Appended to the generated nats-server.conf (authorization blocks in tests, JetStream). */
  extraConfig?: string;
  /** Default true; false starts a core-only server (to test the error a user gets from one). */
  jetstream?: boolean;
  binary?: string;
}

export interface NatsServerHandle {
  url: string;
  port: number;
  /** The server's own temporary folder (0700; removed when it stops). */
  dir: string;
  stop(): Promise<void>;
}

export function findNatsServerBinary(binary = 'nats-server'): string | null {
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? binary : null;
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const binary = options.binary ?? 'nats-server';
  if (!findNatsServerBinary(binary)) {
    throw new Error(`${binary} is not on PATH (install it with: apt-get install nats-server)`);
  }
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'fedsim-nats-'));
  const config = join(dir, 'nats.conf');
  const jetstream = options.jetstream === false ? '' : `jetstream { store_dir: ${JSON.stringify(join(dir, 'jetstream'))} }\n`;
  // 0600: the config may hold the run's generated passwords.
  writeFileSync(config, `listen: 127.0.0.1:${port}\nmax_payload: ${options.maxPayload ?? 8 * 1024 * 1024}\n${jetstream}${options.extraConfig ?? ''}\n`, {
    mode: 0o600,
  });
  const child: ChildProcess = spawn(binary, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A process.exit() (a second Ctrl-C) skips stop(): the server and its folder go with the process anyway.
  const onExit = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const cleanup = () => {
    process.off('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    const code = await Promise.race([exited, sleep(50).then(() => undefined)]);
    if (code !== undefined) {
      cleanup();
      throw new Error(`nats-server exited (code ${code}) before accepting connections: ${stderr.trim()}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      cleanup();
      throw new Error(`nats-server did not accept connections on port ${port} within 10 s: ${stderr.trim()}`);
    }
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
      }
      cleanup();
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
