/**
 * Partial aggregation around any strategy (FedPer, Arivazhagan et al. 2019; the same shape as
 * Flower's DP wrappers): `strategy.localLayers` stay on the clients. Clients start from the
 * global model with their own copy of those layers (from the client state store), and send
 * zeros there; this wrapper keeps the server's copy of them exactly as it was, so server noise
 * (DP) or an optimizer's momentum cannot move what no client aggregates. The server's copy is
 * only the starting point of a client that has not trained yet.
 */
import type { LayerSlices } from '../../shared/models/layer-slices.js';
import { copySlices } from '../../shared/models/layer-slices.js';
import type { AggregateOutput } from '../aggregation/aggregator.js';
import type {
  ClientPool,
  EvaluateInstructions,
  EvaluateResult,
  Strategy,
  StrategyRoundOutcome,
  StrategyState,
  TrainFailure,
  TrainInstructions,
  TrainResult,
} from './strategy.js';

export class PartialAggregation implements Strategy {
  readonly name: string;

  constructor(
    private readonly inner: Strategy,
    private readonly personal: LayerSlices,
  ) {
    this.name = inner.name;
  }

  updateLength(parameterCount: number): number {
    return this.inner.updateLength?.(parameterCount) ?? parameterCount;
  }

  clientStateValues(parameterCount: number): number {
    return (this.inner.clientStateValues?.(parameterCount) ?? 0) + this.personal.size;
  }

  configureTrain(round: number, eligible: ClientPool): TrainInstructions {
    return this.inner.configureTrain(round, eligible);
  }

  aggregateTrain(
    round: number,
    global: Float32Array,
    aggregate: AggregateOutput,
    results: readonly TrainResult[],
    failures: readonly TrainFailure[],
  ): StrategyRoundOutcome {
    const outcome = this.inner.aggregateTrain(round, global, aggregate, results, failures);
    if (outcome.weights === global) return outcome;
    const weights = outcome.weights.slice();
    copySlices(weights, global, this.personal);
    return { ...outcome, weights };
  }

  configureEvaluate(round: number, eligible: ClientPool): EvaluateInstructions | null {
    return this.inner.configureEvaluate(round, eligible);
  }

  aggregateEvaluate(round: number, results: readonly EvaluateResult[]): Record<string, number> | null {
    return this.inner.aggregateEvaluate(round, results);
  }

  exportState(): StrategyState {
    return this.inner.exportState();
  }

  restoreState(state: StrategyState): void {
    this.inner.restoreState(state);
  }
}
