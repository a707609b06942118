/**
 * Frames the coordinator refused without letting them change the round: forged, stale,
 * malformed or out of place. Counted by kind for the round's metrics (`refusedFrames`), since a
 * log line alone would hide an attack in progress.
 */
export type RefusalKind =
  /** The header did not decode (wrong version, schema, truncated). */
  | 'malformed'
  /** For a round that is not collecting. */
  | 'round-closed'
  /** For a client whose update is not awaited (already in, refused, or never in the round). */
  | 'not-awaited'
  /** Not from the worker granted the client's claim, or without the current grant. */
  | 'not-granted'
  /** A claim without the task's claim token. */
  | 'claim-token'
  /** A chunk that does not continue its transfer (out of order, overrunning, inconsistent). */
  | 'transfer';

export class FrameRefusals {
  private counts = new Map<RefusalKind, number>();

  count(kind: RefusalKind): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  /** The counts since the last call, by kind (empty when nothing was refused). */
  take(): Partial<Record<RefusalKind, number>> {
    const taken = Object.fromEntries(this.counts);
    this.counts = new Map();
    return taken;
  }
}
