/**
 * Ctrl-C, as a run sees it: the first press ends the run now and keeps what the finished rounds
 * produced (summary, model, report); the second leaves at once, writing summary.json first. The
 * CLI presses on SIGINT; tests press directly.
 */
export type InterruptListener = (presses: number) => void;

export class RunInterrupts {
  private count = 0;
  private readonly listeners = new Set<InterruptListener>();

  get presses(): number {
    return this.count;
  }

  press(): void {
    this.count += 1;
    for (const listener of this.listeners) listener(this.count);
  }

  /** Returns the function that removes `listener`. */
  listen(listener: InterruptListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
