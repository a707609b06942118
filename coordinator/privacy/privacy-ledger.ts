/**
 * The run's privacy budget, round by round. Central DP: one RDP accountant for the federation
 * (Poisson rate q, multiplier z per round). Local DP: each client's own releases, composed over
 * the rounds it took part in, without amplification by sampling; the worst client is reported.
 */
import { computeEpsilon, RdpAccountant } from '../../shared/privacy/rdp-accountant.js';
import type { DpPlan } from './dp-plan.js';

export interface RoundPrivacy {
  mode: 'central' | 'local';
  /** ε at `delta` after this round: the federation's (central) or the worst client's (local). */
  epsilon: number;
  delta: number;
  conversion: 'tight' | 'classic';
  /** The Rényi order that gave ε. */
  order: number;
  noiseMultiplier: number;
  clipNorm: number;
  /** Clients Poisson-sampled this round. */
  cohortSize: number;
  expectedClients: number;
  /** Adaptive clipping: noised fraction of updates that were within the clip norm. */
  unclippedFraction?: number;
  /** Local DP: ε of one client's single release. */
  epsilonPerRelease?: number;
}

export class PrivacyLedger {
  private readonly accountant = new RdpAccountant();
  private readonly participations = new Map<number, number>();
  private mostParticipations = 0;
  readonly epsilonPerRelease: number | null;

  constructor(readonly plan: DpPlan) {
    this.epsilonPerRelease = plan.mode === 'local' ? this.localEpsilon(1) : null;
  }

  /** ε if a round with these clients ran now; used to stop before the budget is exceeded. */
  projectedEpsilon(clients: readonly number[]): number {
    const { plan } = this;
    if (plan.mode === 'central') {
      return this.accountant.epsilonAfter({ q: plan.q, noiseMultiplier: plan.noiseMultiplier }, plan.delta, plan.conversion).epsilon;
    }
    const worst = clients.reduce((most, c) => Math.max(most, (this.participations.get(c) ?? 0) + 1), this.mostParticipations);
    return worst === 0 ? 0 : this.localEpsilon(worst);
  }

  /**
   * Central DP: true when running this round would take the federation past targetEpsilon (the
   * run stops). Local DP never stops the run: clients out of budget sit out instead.
   */
  wouldExceedBudget(clients: readonly number[]): boolean {
    if (this.plan.mode === 'local') return false;
    return this.plan.targetEpsilon !== undefined && this.projectedEpsilon(clients) > this.plan.targetEpsilon;
  }

  /** Local DP with a budget: whether the client can release once more without exceeding it. */
  mayParticipate(clientId: number): boolean {
    const { plan } = this;
    if (plan.mode !== 'local' || plan.targetEpsilon === undefined) return true;
    return this.localEpsilon((this.participations.get(clientId) ?? 0) + 1) <= plan.targetEpsilon;
  }

  record(clients: readonly number[], facts: { clipNorm: number; unclippedFraction?: number }): RoundPrivacy {
    const { plan } = this;
    let epsilon: number;
    let order: number;
    if (plan.mode === 'central') {
      this.accountant.step(plan.q, plan.noiseMultiplier);
      ({ epsilon, order } = this.accountant.epsilon(plan.delta, plan.conversion));
    } else {
      for (const client of clients) {
        const n = (this.participations.get(client) ?? 0) + 1;
        this.participations.set(client, n);
        this.mostParticipations = Math.max(this.mostParticipations, n);
      }
      ({ epsilon, order } = this.mostParticipations === 0 ? { epsilon: 0, order: Number.NaN } : computeEpsilon(this.localParameters(this.mostParticipations)));
    }
    return {
      mode: plan.mode,
      epsilon,
      delta: plan.delta,
      conversion: plan.conversion,
      order,
      noiseMultiplier: plan.noiseMultiplier,
      clipNorm: facts.clipNorm,
      cohortSize: clients.length,
      expectedClients: plan.expectedClients,
      ...(facts.unclippedFraction !== undefined ? { unclippedFraction: facts.unclippedFraction } : {}),
      ...(this.epsilonPerRelease !== null ? { epsilonPerRelease: this.epsilonPerRelease } : {}),
    };
  }

  private localEpsilon(releases: number): number {
    return computeEpsilon(this.localParameters(releases)).epsilon;
  }

  /** Any two updates in the clip ball differ by up to 2S, so the noise z·S counts as multiplier z/2. */
  private localParameters(releases: number) {
    const { plan } = this;
    return { q: 1, noiseMultiplier: plan.updateNoiseMultiplier / 2, steps: releases, delta: plan.delta, conversion: plan.conversion };
  }
}
