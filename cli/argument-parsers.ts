/** Parsers for command-line values: a bad value names itself and what was expected. */
import { InvalidArgumentError } from 'commander';
import { LOG_LEVELS, type LogLevel } from '../shared/logging/logger.js';

export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number ≥ 0 (got "${value}")`);
  return n;
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port number 0–65535 (got "${value}")`);
  return n;
}

/** FEDSIM_LOG_LEVEL when it names a level, else the fallback. */
export function defaultLogLevel(fallback: LogLevel): LogLevel {
  const fromEnv = process.env.FEDSIM_LOG_LEVEL;
  if (!fromEnv) return fallback;
  if (!(LOG_LEVELS as string[]).includes(fromEnv))
    throw new InvalidArgumentError(`FEDSIM_LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')} (got "${fromEnv}")`);
  return fromEnv as LogLevel;
}
