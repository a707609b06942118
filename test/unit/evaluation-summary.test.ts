/** Federated evaluation's summary across clients: weighted and unweighted means, spread and the bad tail. */
import { describe, expect, it } from 'vitest';
import { summarizeEvaluations } from '../../coordinator/strategies/evaluation-summary.js';
import { comparisonMarkdown, rowOf } from '../../app/compare/comparison-table.js';

describe('federated evaluation summary', () => {
  it('weighs by samples for the pooled figure and counts each client once for the fairness view', () => {
    // Ten clients with accuracies 0.0, 0.1, … 0.9; client k holds 10·(k + 1) samples.
    const results = Array.from({ length: 10 }, (_, k) => ({ clientId: 9 - k, samples: 10 * (10 - k), loss: k, metrics: { accuracy: (9 - k) / 10 } }));
    const summary = summarizeEvaluations(results)!;
    const samples = 550;
    expect(summary).toMatchObject({ clients: 10, samples, accuracyWorst: 0, accuracyP10: 0 });
    expect(summary.accuracy).toBeCloseTo(results.reduce((s, r) => s + r.metrics.accuracy * r.samples, 0) / samples, 12);
    expect(summary.accuracyMean).toBeCloseTo(0.45, 12);
    expect(summary.accuracyStd).toBeCloseTo(Math.sqrt(0.0825), 12);
    expect(summary.loss).toBeCloseTo(results.reduce((s, r) => s + r.loss * r.samples, 0) / samples, 12);
    // Twenty clients: the 10th percentile is the second worst.
    const twenty = Array.from({ length: 20 }, (_, k) => ({ clientId: k, samples: 5, loss: 1, metrics: { accuracy: k / 20 } }));
    expect(summarizeEvaluations(twenty)).toMatchObject({ accuracyP10: 0.05, accuracyWorst: 0 });
  });

  it("reads MSE's bad tail at the top, and has nothing to say without results", () => {
    const results = [1, 4, 2].map((mse, clientId) => ({ clientId, samples: 1, loss: mse, metrics: { mse } }));
    expect(summarizeEvaluations(results)).toMatchObject({ mse: 7 / 3, mseWorst: 4, mseP90: 4 });
    expect(summarizeEvaluations([])).toBeNull();
  });

  it('puts the client view of the final model in comparison.md', () => {
    const summary = { federatedEvaluation: { round: 5, accuracy: 0.9, accuracyMean: 0.88, accuracyP10: 0.7, accuracyWorst: 0.5 } };
    const row = rowOf('fedavg', {}, 'fedavg', {
      status: 'completed',
      compute: { flops: null, simulatedSeconds: null, energyJoules: null, emissionsGrams: null, stragglers: null },
      totalWallMs: 1000,
      bytesDown: 0,
      bytesUp: 0,
      roundsCompleted: 5,
      finalTestAccuracy: 0.9,
      finalTestMse: null,
      roundsToTarget: null,
      costToTarget: null,
      ...summary,
    } as never);
    expect(row.clientAccuracy).toEqual({ weighted: 0.9, mean: 0.88, p10: 0.7, worst: 0.5 });
    expect(comparisonMarkdown('s', [row])).toContain('| fedavg | 90.0% | 88.0% | 70.0% | 50.0% |');
  });
});
