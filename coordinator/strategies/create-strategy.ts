/** The run's strategy: the registry entry the scenario names, wrapped for partial aggregation when it keeps layers local. */
import { layerSlices } from '../../shared/models/layer-slices.js';
import type { ParameterLayout } from '../../shared/models/parameters.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import { PartialAggregation } from './partial-aggregation.js';
import { STRATEGIES } from './registry.js';
import { strategyContextOf } from './strategy-entry.js';
import type { Strategy } from './strategy.js';

export function createStrategy(scenario: Scenario, layout: ParameterLayout): Strategy {
  const strategy = STRATEGIES.get(scenario.strategy.name).create(scenario.strategy, strategyContextOf(scenario, layout.totalSize));
  const localLayers = scenario.strategy.localLayers ?? [];
  return localLayers.length > 0 ? new PartialAggregation(strategy, layerSlices(layout, localLayers)) : strategy;
}
