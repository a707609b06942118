/**
 * Long synchronous work (a client's local training on the cpu or wasm backend) would starve the
 * timers and sockets that keep a process reachable: ack-wait extensions, NATS pings, heartbeats,
 * control messages. A turn yields to the event loop once this much time has passed since the last
 * yield, so the cost is one setImmediate per slice of work, not per step.
 */
export const DEFAULT_TURN_MS = 20;

export type YieldTurn = () => Promise<void>;

/** A function to await between steps; it yields only when the current slice has run `turnMs`. */
export function eventLoopTurns(turnMs = DEFAULT_TURN_MS): YieldTurn {
  let sliceStart = performance.now();
  return async () => {
    if (performance.now() - sliceStart < turnMs) return;
    // setImmediate runs after the poll phase: due timers and socket reads get their turn first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
  };
}
