/**
 * The round in progress, as the progress bar shows it: clients done of the round's cohort and
 * the samples/s trained so far, from the coordinator's client events. The ETA comes from whole
 * rounds, so there is none until the first round has ended.
 */
import type { ClientEvent } from '../../coordinator/coordinator.js';

export class RoundTally {
  private round = 0;
  private cohort = new Set<number>();
  private done = 0;
  private samples = 0;
  private roundStartedMs = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  event(event: ClientEvent): void {
    if (event.round !== this.round) this.begin(event.round);
    if (event.state === 'selected') this.cohort.add(event.clientId);
    else if (event.state === 'straggler') this.cohort.delete(event.clientId);
    else if (event.state === 'done') {
      this.done += 1;
      this.samples += event.samplesTrained ?? 0;
    }
  }

  /** "3/10 clients, 412 samples/s"; empty before the round's first client event. */
  text(): string {
    if (this.round === 0) return '';
    const seconds = (this.now() - this.roundStartedMs) / 1000;
    const rate = this.done > 0 && seconds > 0 ? `, ${Math.round(this.samples / seconds).toLocaleString('en-US')} samples/s` : '';
    return `round ${this.round}: ${this.done}/${this.cohort.size} clients${rate}`;
  }

  private begin(round: number): void {
    this.round = round;
    this.cohort = new Set();
    this.done = 0;
    this.samples = 0;
    this.roundStartedMs = this.now();
  }
}

/** Rounds left × the mean round so far; null before a round has ended. */
export function etaSeconds(roundsDone: number, totalRounds: number, elapsedMs: number): number | null {
  if (roundsDone === 0) return null;
  return ((elapsedMs / roundsDone) * (totalRounds - roundsDone)) / 1000;
}

export function formatEta(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
