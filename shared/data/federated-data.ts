/**
 * The federation's data as both sides see it: the dataset and its partition into clients.
 * Workers and the coordinator compute it independently from the scenario and its seed (same
 * seed, same partition), so no training data ever crosses the bus.
 */
import type { Scenario } from '../scenario/schema.js';
import { splitHeldOut } from '../partition/held-out.js';
import { partitionDataset } from '../partition/index.js';
import type { Dataset } from './dataset.js';
import { loadDataset } from './load-dataset.js';

export interface FederatedData {
  dataset: Dataset;
  /** Client id → indices into dataset.train it trains on. */
  clients: number[][];
  /** Client id → its held-out indices into dataset.train (evaluation.federated; all empty without it). */
  heldOut: number[][];
}

export async function loadFederatedData(scenario: Scenario): Promise<FederatedData> {
  const dataset = await loadDataset(scenario.dataset, { clients: scenario.partition.clients }, scenario.seed);
  const partition = partitionDataset(dataset, scenario.partition, scenario.seed);
  const federated = scenario.evaluation.federated;
  if (!federated) return { dataset, clients: partition, heldOut: partition.map(() => []) };
  const { train, heldOut } = splitHeldOut(partition, federated.heldOutFraction, scenario.seed);
  return { dataset, clients: train, heldOut };
}
