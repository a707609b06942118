/**
 * Which clients are malicious: an explicit list, or a seeded draw of round(fraction · N) of the
 * population. The scenario describes the simulated world, attacker included; every worker
 * derives the same set from it (like the partition), and the run records it. The coordinator's
 * rounds never read it: in a deployment the server does not know who attacks.
 */
import { Rng } from '../random.js';

export interface AdversarySelection {
  fraction?: number;
  clients?: readonly number[];
}

/** The malicious client ids, sorted. */
export function maliciousClients(selection: AdversarySelection, population: number, seed: number): number[] {
  if (selection.clients) return [...new Set(selection.clients)].sort((a, b) => a - b);
  const count = Math.round((selection.fraction ?? 0) * population);
  return new Rng(seed)
    .fork('adversaries')
    .sampleWithoutReplacement(population, Math.min(count, population))
    .sort((a, b) => a - b);
}
