/** The partitions a scenario can name (`partition.kind`): one file each, one line here. */
import type { z } from 'zod';
import { Registry } from '../registry/registry.js';
import { fragmentsOf } from '../registry/schema-fragments.js';
import { DIRICHLET } from './dirichlet.js';
import { IID } from './iid.js';
import { NATURAL } from './natural.js';
import type { PartitionerEntry } from './partitioner-entry.js';
import { QUANTITY_SKEW } from './quantity-skew.js';
import { SHARDS } from './shards.js';

const ENTRIES = [IID, DIRICHLET, SHARDS, QUANTITY_SKEW, NATURAL] as const;

export const PARTITIONERS = new Registry<PartitionerEntry>('partition.kind', ENTRIES);
/** Each kind's `partition:` options, for the scenario schema's union. */
export const PARTITION_FRAGMENTS = fragmentsOf(ENTRIES);
export type PartitionSpec = z.output<(typeof PARTITION_FRAGMENTS)[number]>;
export const PARTITION_KINDS: readonly string[] = PARTITIONERS.names();
