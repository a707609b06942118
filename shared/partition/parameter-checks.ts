/**
 * Partition parameters are checked where they are used, and every failure reads like a scenario
 * validation problem: `partition.<field>: <what is wrong> (got X, expected Y)`, so a user can fix
 * the scenario file from the message alone.
 */
import type { Dataset } from '../data/dataset.js';

export function partitionError(field: string, problem: string, got: unknown, expected: string): Error {
  return new Error(`partition.${field}: ${problem} (got ${typeof got === 'string' ? got : JSON.stringify(got)}, expected ${expected})`);
}

export function checkPositiveInteger(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw partitionError(field, 'not a positive integer', value, 'an integer ≥ 1');
}

export function checkPositiveNumber(field: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) throw partitionError(field, 'not a positive number', value, 'a finite number > 0');
}

/** Each client needs at least `minSamples` of the `total` training samples. */
export function checkEnoughSamples(clients: number, minSamples: number, total: number): void {
  if (clients > total) {
    throw partitionError('clients', 'more clients than training samples', clients, `at most ${total}`);
  }
  if (clients * minSamples > total) {
    throw partitionError(
      'minSamples',
      'more than the training samples allow',
      `${clients} clients × ${minSamples} = ${clients * minSamples} samples, of ${total}`,
      `at most ${Math.floor(total / clients)}`,
    );
  }
}

/** Label-based kinds (dirichlet, shards) split by class. */
export function checkClassification(kind: string, dataset: Dataset): void {
  if (dataset.task !== 'classification') {
    throw new Error(`partition.kind: '${kind}' needs a classification dataset (got ${dataset.task} dataset ${dataset.name})`);
  }
}
