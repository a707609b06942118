/**
 * Each client's held-out split for federated evaluation (LEAF keeps one per client the same
 * way): a seeded share of the client's own samples that it never trains on. Every side derives
 * it from the scenario, like the partition itself. A client keeps at least one training sample;
 * one with a single sample holds none out.
 */
import { Rng } from '../random.js';

export interface HeldOutSplit {
  /** Client id → indices it trains on. */
  train: number[][];
  /** Client id → indices it evaluates on (empty: the client cannot be evaluated). */
  heldOut: number[][];
}

export function splitHeldOut(clients: readonly number[][], fraction: number, seed: number): HeldOutSplit {
  const rng = new Rng(seed).fork('held-out');
  const train: number[][] = [];
  const heldOut: number[][] = [];
  clients.forEach((indices, clientId) => {
    const count = indices.length < 2 ? 0 : Math.min(indices.length - 1, Math.max(1, Math.round(fraction * indices.length)));
    const order = [...indices];
    rng.fork(`client:${clientId}`).shuffle(order);
    // Sorted, so a client's training order depends only on its training seed, not on this shuffle.
    heldOut.push(order.slice(0, count).sort((a, b) => a - b));
    train.push(order.slice(count).sort((a, b) => a - b));
  });
  return { train, heldOut };
}
