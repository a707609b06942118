/**
 * The run's record of its adversaries: who is malicious (the same seeded draw the workers make),
 * which of them each round selected, the backdoor whose success the evaluation measures, and
 * their totals for summary.json. Record-keeping only: the coordinator's rounds never see it.
 */
import type { RoundMetrics } from '../../coordinator/coordinator.js';
import type { BackdoorSpec } from '../../shared/adversaries/backdoor-trigger.js';
import { maliciousClients } from '../../shared/adversaries/malicious-clients.js';
import type { Scenario } from '../../shared/scenario/schema.js';

export interface AdversariesSummary {
  attack: string;
  /** The attack's options as run. */
  options: Record<string, unknown>;
  colluding: boolean;
  /** Every malicious client id of the population. */
  clients: number[];
  /** Malicious updates the rounds selected, summed over rounds. */
  selectedInRounds: number;
  /** Backdoor runs: the last evaluated round's attack success rate. */
  finalAttackSuccessRate: number | null;
}

/** The backdoor of the scenario's attack (the backdoor attack itself, or model replacement of a backdoored model). */
export function backdoorOf(scenario: Scenario): BackdoorSpec | null {
  const attack = scenario.adversaries?.attack;
  if (attack?.name === 'backdoor') return attack;
  if (attack?.name === 'scaling') return attack.backdoor ?? null;
  return null;
}

export function maliciousOf(scenario: Scenario): number[] {
  return scenario.adversaries ? maliciousClients(scenario.adversaries, scenario.partition.clients, scenario.seed) : [];
}

/** Adds the round's selected malicious clients to its metrics line. */
export function recordMalicious(scenario: Scenario, metrics: RoundMetrics): void {
  if (!scenario.adversaries) return;
  const malicious = new Set(maliciousOf(scenario));
  metrics.maliciousClients = metrics.selectedClients.filter((id) => malicious.has(id));
}

export function adversariesSummary(scenario: Scenario, rounds: readonly RoundMetrics[]): AdversariesSummary | null {
  const adversaries = scenario.adversaries;
  if (!adversaries) return null;
  const { name, ...options } = adversaries.attack;
  const evaluated = rounds.filter((r) => r.attackSuccessRate !== undefined);
  return {
    attack: name,
    options,
    colluding: adversaries.colluding,
    clients: maliciousOf(scenario),
    selectedInRounds: rounds.reduce((sum, r) => sum + (r.maliciousClients?.length ?? 0), 0),
    finalAttackSuccessRate: evaluated.at(-1)?.attackSuccessRate ?? null,
  };
}
