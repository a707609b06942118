/**
 * The attacks a scenario can give its malicious clients (`adversaries.attack.name`): one file
 * each, one line here. The `adversaries:` section names who attacks (a seeded fraction or a
 * list), whether they collude, and the attack with its options.
 */
import { z } from 'zod';
import { maliciousClients } from '../../shared/adversaries/malicious-clients.js';
import type { DataShape } from '../../shared/data/data-shape.js';
import { Registry } from '../../shared/registry/registry.js';
import { fragmentsOf } from '../../shared/registry/schema-fragments.js';
import type { AttackEntry } from './attack-entry.js';
import { BACKDOOR } from './backdoor.js';
import { GAUSSIAN_NOISE } from './gaussian-noise.js';
import { INNER_PRODUCT } from './inner-product.js';
import { LABEL_FLIP } from './label-flip.js';
import { LITTLE_IS_ENOUGH } from './little-is-enough.js';
import { MIN_MAX } from './min-max.js';
import { SCALING } from './scaling.js';
import { SIGN_FLIP } from './sign-flip.js';

const ENTRIES = [LABEL_FLIP, SIGN_FLIP, SCALING, GAUSSIAN_NOISE, LITTLE_IS_ENOUGH, INNER_PRODUCT, MIN_MAX, BACKDOOR] as const;

export const ATTACKS = new Registry<AttackEntry>('adversaries.attack.name', ENTRIES);

export const ATTACK_SPEC = z.discriminatedUnion('name', fragmentsOf(ENTRIES));

export const ADVERSARIES_SPEC = z.strictObject({
  /** A seeded draw of round(fraction · N) malicious clients… */
  fraction: z.number().gt(0).lt(1).optional(),
  /** …or their ids. */
  clients: z.array(z.number().int().min(0)).min(1).optional(),
  /** Colluders share one adversary: it holds every colluder's data and crafts their updates together. */
  colluding: z.boolean().default(false),
  attack: ATTACK_SPEC,
});

export type AdversariesSpec = z.output<typeof ADVERSARIES_SPEC>;

/** What the scenario needs to say for `adversaries:` to be checked against the rest of it. */
export interface AdversaryFacts {
  adversaries?: AdversariesSpec;
  seed: number;
  population: number;
  shape: DataShape;
  dataset: string;
}

/** `adversaries.*: … (got …, expected …)` lines; none when the section is absent or fine. */
export function adversaryProblems({ adversaries, seed, population, shape, dataset }: AdversaryFacts): string[] {
  if (!adversaries) return [];
  const problems: string[] = [];
  const { fraction, clients, colluding, attack } = adversaries;
  if ((fraction === undefined) === (clients === undefined)) {
    problems.push(
      `adversaries: give either fraction or clients (got ${fraction === undefined ? 'neither' : 'both'}, expected adversaries.fraction: 0.2 or adversaries.clients: [0, 5, 9])`,
    );
    return problems;
  }
  const outside = (clients ?? []).filter((id) => id >= population);
  if (outside.length > 0)
    problems.push(`adversaries.clients: not clients of this partition (got ${outside.join(', ')}, expected ids below partition.clients = ${population})`);
  const count = maliciousClients(adversaries, population, seed).length;
  if (fraction !== undefined && count === 0)
    problems.push(`adversaries.fraction: rounds to no client of ${population} (got ${fraction}, expected at least ${(0.5 / population).toPrecision(2)})`);
  const entry = ATTACKS.get(attack.name);
  if (entry.collusion === 'required' && !colluding) {
    problems.push(`adversaries.colluding: ${attack.name} crafts its update from the benign updates of several attackers (got false, expected colluding: true)`);
  }
  if (entry.collusion === 'required' && count < 2) {
    problems.push(`adversaries: ${attack.name} needs the statistics of at least 2 colluding clients (got ${count}, expected at least 2)`);
  }
  if (entry.collusion === 'none' && colluding) {
    problems.push(`adversaries.colluding: ${attack.name} poisons each attacker's own data or update, so collusion changes nothing (got true, expected false)`);
  }
  problems.push(...(entry.dataProblems?.(attack, shape, dataset) ?? []));
  return problems;
}

/** An unknown attack name gets the list of valid ones instead of zod's union dump. */
export function attackNameProblem(raw: unknown): string | null {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const attack = (raw as Record<string, unknown>).attack;
  if (attack === null || typeof attack !== 'object' || Array.isArray(attack)) return null;
  const name = (attack as Record<string, unknown>).name;
  if (typeof name === 'string' && ATTACKS.has(name)) return null;
  return `adversaries.attack.name: unknown attack (got ${name === undefined ? 'nothing' : JSON.stringify(name)}, expected one of ${ATTACKS.names().join(', ')})`;
}
