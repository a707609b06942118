/** Parsers for command-line values: a bad value names itself and what was expected. */
import { InvalidArgumentError } from 'commander';

export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number ≥ 0 (got "${value}")`);
  return n;
}
