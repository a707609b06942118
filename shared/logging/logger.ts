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
      : pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' });
    streams.push({ level: options.level, stream: terminal });
  }
  const fileLevel: LogLevel = options.level === 'trace' ? 'trace' : 'debug';
  if (options.file) {
    mkdirSync(dirname(options.file), { recursive: true });
    streams.push({ level: fileLevel, stream: pino.destination({ dest: options.file, sync: true }) });
  }
  if (options.sink && options.sink.level !== 'silent') streams.push({ level: options.sink.level, stream: { write: options.sink.write } });
  const levels = streams.map((s) => pino.levels.values[s.level as string] ?? Infinity);
  const lowest = levels.length > 0 ? (pino.levels.labels[Math.min(...levels)] as LogLevel) : 'silent';
  return pino({ name: options.name, level: lowest }, pino.multistream(streams));
}

/** For library callers and tests that want no output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
