/**
 * How much client state a run may keep, decided before it starts: the values each client keeps
 * (the strategy's, plus a top-k residual of the update's length) times every client the run can
 * draw (at most the population; at most rounds × the largest sample), against
 * system.clientStateMB, and the store's limit from it. Null: the run keeps none, and no store is opened.
 */
import { usesErrorFeedback } from '../../shared/compression/pipeline.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import type { Strategy } from '../strategies/strategy.js';

export interface ClientStateBudget {
  valuesPerClient: number;
  clients: number;
  limitBytes: number;
}

export function clientStateBudget(scenario: Scenario, strategy: Strategy, parameterCount: number, largestSample: number): ClientStateBudget | null {
  const updateLength = strategy.updateLength?.(parameterCount) ?? parameterCount;
  // Under secure aggregation updates are masked, not compressed: no residual.
  const residual = usesErrorFeedback(scenario.compression.update) && !scenario.privacy.secureAggregation ? updateLength : 0;
  const valuesPerClient = (strategy.clientStateValues?.(parameterCount) ?? 0) + residual;
  if (valuesPerClient === 0) return null;
  const clients = Math.min(scenario.partition.clients, scenario.rounds * largestSample);
  const neededBytes = clients * valuesPerClient * 4;
  const neededMB = neededBytes / 2 ** 20;
  if (neededMB > scenario.system.clientStateMB) {
    throw new Error(
      `system.clientStateMB: up to ${clients} clients keep ${valuesPerClient} float32 each (${strategy.name}${residual ? ', top-k residuals' : ''}) = ${Math.ceil(neededMB)} MiB (got ${scenario.system.clientStateMB}, expected at least that; or fewer clients or rounds)`,
    );
  }
  // The store's own limit is what the run needs, not the ceiling: JetStream reserves a bucket's
  // max_bytes, and a cluster's max_file_store is shared by every run. The slack covers object
  // metadata and chunk headers, and one object twice over while an overwrite replaces it.
  const limitBytes = Math.ceil(neededBytes * 1.02) + clients * 4096 + valuesPerClient * 4;
  return { valuesPerClient, clients, limitBytes };
}
