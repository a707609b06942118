/**
 * Structured logs with pino: JSON lines into a file for machines, readable lines on stderr for
 * people. One logger per process; components take child loggers.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface LoggerOptions {
  name: string;
  /** Terminal level. */
  level: LogLevel;
  /** JSON lines go here at debug level or the terminal level, whichever is lower. */
  file?: string;
  /** Write JSON (not pretty lines) to stderr, e.g. for worker processes whose stderr is collected. */
  jsonToStderr?: boolean;
  /** Also hand each JSON line at this level or above to a listener (the dashboard's log tail). */
  sink?: { level: LogLevel; write(line: string): void };
}

export function createLogger(options: LoggerOptions): Logger {
  const streams: pino.StreamEntry[] = [];
  if (options.level !== 'silent') {
    const terminal = options.jsonToStderr
      ? pino.destination({ fd: 2, sync: true })
      : readableNumbers(pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' }));
    streams.push({ level: options.level, stream: terminal });
  }
  const fileLevel: LogLevel = options.level === 'trace' ? 'trace' : 'debug';
  if (options.file) {
    mkdirSync(dirname(options.file), { recursive: true });
    streams.push({ level: fileLevel, stream: pino.destination({ dest: options.file, sync: true }) });
  }
  const sink = options.sink;
  // Called through the sink, so a sink whose write uses `this` still works.
  if (sink && sink.level !== 'silent') streams.push({ level: sink.level, stream: { write: (line: string) => sink.write(line) } });
  const levels = streams.map((s) => pino.levels.values[s.level as string] ?? Infinity);
  const lowest = levels.length > 0 ? (pino.levels.labels[Math.min(...levels)] as LogLevel) : 'silent';
  return pino({ name: options.name, level: lowest }, pino.multistream(streams));
}

/**
 * Pretty lines are for people: `trainMs: 28579.46553500003` reads as `trainMs: 28579`. Only the
 * terminal's copy is rounded; log files and JSON on stderr keep every digit for machines.
 */
export function readableNumbers(stream: { write(line: string): unknown }): { write(line: string): void } {
  return {
    write(line: string) {
      let entry: unknown;
      try {
        entry = JSON.parse(line, (_key, value: unknown) => (typeof value === 'number' ? roundForReading(value) : value));
      } catch {
        stream.write(line);
        return;
      }
      stream.write(`${JSON.stringify(entry)}\n`);
    },
  };
}

/** Every integer digit, and at least 4 significant ones: 28579.4655 → 28579, 0.00999999 → 0.01, 13.5146 → 13.51. */
export function roundForReading(n: number): number {
  if (Number.isInteger(n) || !Number.isFinite(n)) return n;
  const integerDigits = Math.abs(n) >= 1 ? Math.floor(Math.log10(Math.abs(n))) + 1 : 0;
  return Number(n.toPrecision(Math.min(Math.max(4, integerDigits), 100)));
}

/** For library callers and tests that want no output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
