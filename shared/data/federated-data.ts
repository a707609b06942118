/**
 * The federation's data as both sides see it: the dataset and its partition into clients.
 * Workers and the coordinator compute it independently from the scenario and its seed (same
 * seed, same partition), so no training data ever crosses the bus.
 */
import type { Scenario } from '../scenario/schema.js';
import { partitionDataset } from '../partition/index.js';
import type { Dataset } from './dataset.js';
import { loadDataset, type DatasetSpec as LoaderSpec } from './load-dataset.js';

export interface FederatedData {
  dataset: Dataset;
  /** Client id → indices into dataset.train. */
  clients: number[][];
}

export async function loadFederatedData(scenario: Scenario): Promise<FederatedData> {
  const dataset = await loadDataset(loaderSpec(scenario), scenario.seed);
  const clients = partitionDataset(dataset, scenario.partition, scenario.seed);
  return { dataset, clients };
}

function loaderSpec(scenario: Scenario): LoaderSpec {
  const spec = scenario.dataset;
  switch (spec.name) {
    case 'mnist':
      return { name: 'mnist', trainLimit: spec.trainLimit, testLimit: spec.testLimit };
    case 'boston-housing':
      return { name: 'boston-housing', testFraction: spec.testFraction };
    case 'synthetic':
      // The synthetic generator is federated by construction: one generator per client.
      return {
        name: 'synthetic',
        alpha: spec.alpha,
        beta: spec.beta,
        clients: scenario.partition.clients,
        featureSize: spec.featureSize,
        numClasses: spec.numClasses,
        meanSamples: spec.meanSamples,
        testFraction: spec.testFraction,
      };
  }
}
