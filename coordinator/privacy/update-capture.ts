/**
 * What a curious coordinator keeps of the plain collection: copies of the individual updates it
 * accepted from the clients it chose to attack, and the global model each round started from.
 * The attacks run on them after the run, so collection never waits on an attack.
 */
import { Rng } from '../../shared/random.js';
import type { UpdateAttacksSpec } from '../../shared/scenario/schema.js';

export interface CapturedUpdate {
  round: number;
  clientId: number;
  /** The client's own report: its sample count tells the inversion how many inputs to rebuild. */
  samples: number;
  steps: number;
  delta: Float32Array;
}

export type UpdateObserver = (update: Omit<CapturedUpdate, 'round'>) => void;

export class UpdateCapture {
  readonly globals = new Map<number, Float32Array>();
  readonly updates: CapturedUpdate[] = [];

  constructor(
    private readonly spec: UpdateAttacksSpec,
    private readonly seed: number,
  ) {}

  /** Most float32 values it can come to hold over `rounds` rounds: the updates and one global model per attacked round. */
  static peakValues(spec: UpdateAttacksSpec, rounds: number, parameterCount: number): number {
    const attacked = spec.rounds ? new Set(spec.rounds).size : rounds;
    return attacked * (spec.clientsPerRound + 1) * parameterCount;
  }

  /** The observer of one round's accepted updates, or null when this round is not attacked. */
  openRound(round: number, cohort: readonly number[], global: Float32Array): UpdateObserver | null {
    if (this.spec.rounds && !this.spec.rounds.includes(round)) return null;
    // Seeded from the cohort (sorted), not from arrival order, so the same clients are attacked every run.
    const picks = new Rng(this.seed)
      .fork(`update-attacks:${round}`)
      .sampleWithoutReplacement(cohort.length, Math.min(this.spec.clientsPerRound, cohort.length));
    const targets = new Set(picks.map((i) => cohort[i]!));
    if (targets.size === 0) return null;
    this.globals.set(round, Float32Array.from(global));
    return (update) => {
      if (targets.has(update.clientId)) this.updates.push({ round, ...update, delta: Float32Array.from(update.delta) });
    };
  }
}
