/** Ctrl-C for `fedsim run` and `fedsim compare`: the first ends the work now and keeps its outputs, the second exits once summary.json is written. */
import type { RunInterrupts } from '../app/run/run-interrupts.js';

/** Returns the function that stops listening. */
export function interruptOnSigint(interrupts: RunInterrupts, what: 'run' | 'sweep'): () => void {
  const onSigint = () => {
    if (interrupts.presses === 0) process.stderr.write(`\ninterrupted: ending the ${what} now and writing its outputs (Ctrl-C again to quit at once)\n`);
    // Listeners write synchronously, so on the second press summary.json is on disk before the exit.
    interrupts.press();
    if (interrupts.presses > 1) process.exit(130);
  };
  process.on('SIGINT', onSigint);
  return () => process.off('SIGINT', onSigint);
}
