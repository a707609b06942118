/**
 * Pathological non-IID split of the FedAvg paper (McMahan et al. 2017): sort the samples by
 * label, cut them into clients × shardsPerClient shards of equal size, and give each client
 * shardsPerClient shards at random. With 2 shards per client most clients see only two digits.
 *
 * When the sample count is not a multiple of the shard count, the remainder (fewer than
 * clients × shardsPerClient samples) is left out of every client. Those samples are drawn at
 * random before sorting, so the loss is spread over the classes instead of falling on the last.
 */
import { z } from 'zod';
import { indicesByClass } from '../data/dataset.js';
import type { Rng } from '../random.js';
import { positiveInt } from '../scenario/spec-fields.js';
import { checkClassification, checkPositiveInteger, partitionError } from './parameter-checks.js';
import { partitionOptions, type PartitionerEntry } from './partitioner-entry.js';

const SPEC = partitionOptions('shards', { shardsPerClient: positiveInt.default(2) });
export type ShardsSpec = z.output<typeof SPEC>;

export const SHARDS = {
  name: 'shards',
  description: "the FedAvg paper's pathological non-IID split: label-sorted shards, shardsPerClient per client",
  schema: SPEC,
  partition: (dataset, spec, rng) => {
    checkClassification(spec.kind, dataset);
    checkPositiveInteger('shardsPerClient', spec.shardsPerClient);
    const total = dataset.train.count;
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
  },
} satisfies PartitionerEntry<ShardsSpec>;

export function partitionShards(byClass: number[][], sampleCount: number, clients: number, shardsPerClient: number, rng: Rng): number[][] {
  const shardCount = clients * shardsPerClient;
  const shardSize = Math.floor(sampleCount / shardCount);
  const kept = new Uint8Array(sampleCount).fill(1);
  for (const i of rng.sampleWithoutReplacement(sampleCount, sampleCount - shardCount * shardSize)) kept[i] = 0;

  // Shuffling within each class first makes which samples of a class share a shard random.
  const sorted: number[] = [];
  for (const members of byClass) for (const i of rng.shuffle([...members])) if (kept[i]) sorted.push(i);

  const shardOrder = rng.shuffle(Array.from({ length: shardCount }, (_, s) => s));
  const parts: number[][] = [];
  for (let c = 0; c < clients; c++) {
    const part: number[] = [];
    for (let j = 0; j < shardsPerClient; j++) {
      const start = shardOrder[c * shardsPerClient + j]! * shardSize;
      for (let i = start; i < start + shardSize; i++) part.push(sorted[i]!);
    }
    // As in the Dirichlet split: no label runs in the order a client's samples are listed.
    parts.push(rng.shuffle(part));
  }
  return parts;
}
