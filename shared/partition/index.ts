/**
 * Splitting a dataset's training samples among the federation's clients. A partition is a pure
 * function of (dataset, spec, seed): the coordinator and every worker compute it on their own and
 * agree without exchanging it.
 */
import type { Dataset } from '../data/dataset.js';
import { Rng } from '../random.js';
import { checkPositiveInteger, partitionError } from './parameter-checks.js';
import { PARTITION_KINDS, PARTITIONERS, type PartitionSpec } from './registry.js';

export { formatPartitionSummary, summarizePartition, type PartitionSummary } from './summary.js';
export { PARTITION_KINDS, type PartitionSpec } from './registry.js';

/**
 * Client id → indices into dataset.train. Every index is used at most once; every kind except
 * shards (which may leave out a remainder smaller than clients × shardsPerClient) and natural
 * (which uses what the dataset lists) uses every training sample.
 */
export function partitionDataset(dataset: Dataset, spec: PartitionSpec, seed: number): number[][] {
  if (!PARTITIONERS.has(spec.kind)) {
    throw partitionError('kind', 'unknown partition kind', spec.kind, `one of ${PARTITION_KINDS.join(', ')}`);
  }
  checkPositiveInteger('clients', spec.clients);
  return PARTITIONERS.get(spec.kind).partition(dataset, spec, new Rng(seed).fork('partition'));
}
