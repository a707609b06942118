/**
 * The waiting every phase that sends tasks does (training, federated evaluation): enqueue the
 * tasks, then wait until everything asked for is in, the deadline passes or the run is
 * interrupted, and end the dispatcher's round. An interruption ends the dispatcher's round (and
 * its wait for claims) at once; the abort listener is removed either way, so a long run does not
 * gather one per phase on its signal.
 */
import type { RoundTasks, TaskDispatcher } from '../transport/task-dispatcher.js';

/** The clients no worker claimed before the deadline; null when interrupted. */
export async function dispatchAndWait(
  dispatcher: TaskDispatcher,
  tasks: RoundTasks,
  allIn: Promise<void>,
  interruption?: AbortSignal,
): Promise<number[] | null> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const interrupted = new Promise<void>((resolve) =>
    interruption?.addEventListener('abort', (onAbort = () => void dispatcher.endRound().then(resolve)), { once: true }),
  );
  let undispatched: number[];
  try {
    undispatched = await dispatcher.dispatch(tasks);
    // The abort already ended the dispatcher's round.
    if (interruption?.aborted) return null;
    await Promise.race([allIn, interrupted, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, tasks.deadline - Date.now()))))]);
  } finally {
    clearTimeout(timer);
    if (onAbort) interruption?.removeEventListener('abort', onAbort);
  }
  await dispatcher.endRound();
  return interruption?.aborted ? null : undispatched;
}
