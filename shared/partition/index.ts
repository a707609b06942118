/**
 * Splitting a dataset's training samples among the federation's clients. A partition is a pure
 * function of (dataset, spec, seed): the coordinator and every worker compute it on their own and
 * agree without exchanging it.
 */
import type { Dataset } from '../data/dataset.js';
import { indicesByClass } from '../data/dataset.js';
import { Rng } from '../random.js';
import { partitionDirichlet } from './dirichlet.js';
import { partitionIid } from './iid.js';
import { partitionNatural } from './natural.js';
import { checkEnoughSamples, checkPositiveInteger, checkPositiveNumber, partitionError } from './parameter-checks.js';
import { partitionQuantitySkew } from './quantity-skew.js';
import { partitionShards } from './shards.js';

export { formatPartitionSummary, summarizePartition, type PartitionSummary } from './summary.js';

export type PartitionSpec =
  | { kind: 'iid'; clients: number }
  /** minSamples defaults to 1: no client is ever empty. */
  | { kind: 'dirichlet'; clients: number; alpha: number; minSamples?: number }
  | { kind: 'shards'; clients: number; shardsPerClient: number }
  /** minSamples defaults to 1. */
  | { kind: 'quantity-skew'; clients: number; sigma: number; minSamples?: number }
  | { kind: 'natural'; clients: number };

export const PARTITION_KINDS = ['iid', 'dirichlet', 'shards', 'quantity-skew', 'natural'] as const;

/**
 * Client id → indices into dataset.train. Every index is used at most once; every kind except
 * shards (which may leave out a remainder smaller than clients × shardsPerClient) and natural
 * (which uses what the dataset lists) uses every training sample.
 */
export function partitionDataset(dataset: Dataset, spec: PartitionSpec, seed: number): number[][] {
  if (!(PARTITION_KINDS as readonly string[]).includes(spec.kind)) {
    throw partitionError('kind', 'unknown partition kind', spec.kind, `one of ${PARTITION_KINDS.join(', ')}`);
  }
  checkPositiveInteger('clients', spec.clients);
  const total = dataset.train.count;
  const rng = new Rng(seed).fork('partition');

  if ((spec.kind === 'dirichlet' || spec.kind === 'shards') && dataset.task !== 'classification') {
    throw new Error(`partition.kind: '${spec.kind}' needs a classification dataset (got ${dataset.task} dataset ${dataset.name})`);
  }

  switch (spec.kind) {
    case 'iid':
      checkEnoughSamples(spec.clients, 1, total);
      return partitionIid(total, spec.clients, rng);

    case 'quantity-skew': {
      checkPositiveNumber('sigma', spec.sigma);
      const minSamples = spec.minSamples ?? 1;
      checkPositiveInteger('minSamples', minSamples);
      checkEnoughSamples(spec.clients, minSamples, total);
      return partitionQuantitySkew(total, spec.clients, spec.sigma, minSamples, rng);
    }

    case 'dirichlet': {
      checkPositiveNumber('alpha', spec.alpha);
      const minSamples = spec.minSamples ?? 1;
      checkPositiveInteger('minSamples', minSamples);
      checkEnoughSamples(spec.clients, minSamples, total);
      return partitionDirichlet(indicesByClass(dataset.train, dataset.numClasses), spec.clients, spec.alpha, minSamples, rng);
    }

    case 'shards': {
      checkPositiveInteger('shardsPerClient', spec.shardsPerClient);
      const shards = spec.clients * spec.shardsPerClient;
      if (shards > total) {
        throw partitionError(
          'shardsPerClient',
          'more shards than training samples',
          `${spec.clients} clients × ${spec.shardsPerClient} = ${shards} shards over ${total} samples`,
          `clients × shardsPerClient ≤ ${total}`,
        );
      }
      return partitionShards(indicesByClass(dataset.train, dataset.numClasses), total, spec.clients, spec.shardsPerClient, rng);
    }

    case 'natural':
      return partitionNatural(dataset, spec.clients);
  }
}
