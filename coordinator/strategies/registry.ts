/** The strategies a scenario can name (`strategy.name`): one file each, one line here. */
import { z } from 'zod';
import { Registry } from '../../shared/registry/registry.js';
import { fragmentsOf } from '../../shared/registry/schema-fragments.js';
import { FEDADAGRAD } from './fedadagrad.js';
import { FEDADAM } from './fedadam.js';
import { FEDAVG } from './fedavg.js';
import { FEDAVGM } from './fedavgm.js';
import { FEDNOVA } from './fednova.js';
import { FEDPROX } from './fedprox.js';
import { FEDYOGI } from './fedyogi.js';
import { QFEDAVG } from './qfedavg.js';
import { SCAFFOLD } from './scaffold.js';
import type { StrategyEntry } from './strategy-entry.js';

const ENTRIES = [FEDAVG, FEDPROX, FEDAVGM, FEDADAM, FEDYOGI, FEDADAGRAD, FEDNOVA, QFEDAVG, SCAFFOLD] as const;

export const STRATEGIES = new Registry<StrategyEntry>('strategy.name', ENTRIES);

/** Scenario schema: the union of every strategy's options; a block without a name is FedAvg's. */
export const STRATEGY_SPEC = z.preprocess(
  (block) => (block !== null && typeof block === 'object' && !Array.isArray(block) && !('name' in block) ? { ...block, name: FEDAVG.name } : block),
  z.discriminatedUnion('name', fragmentsOf(ENTRIES)),
);
