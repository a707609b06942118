/**
 * Who masks with whom and who holds whose shares.
 *
 * SecAgg (Bonawitz et al., CCS 2017) uses the complete graph: every client masks with and shares
 * to every other, so per-client work and traffic grow with n.
 *
 * SecAgg+ (Bell, Bonawitz, Gascón, Lepoint, Raykova, "Secure Single-Server Aggregation with
 * (Poly)Logarithmic Overhead", CCS 2020, §3–4) replaces it with a sparse k-regular graph: the
 * Harary graph H(k, n) — clients on a ring, each joined to its k/2 nearest on either side (plus the
 * diametrically opposite one when k is odd) — with client ids assigned to ring positions by a
 * random permutation. The permutation is what makes each neighbourhood a uniformly random k-subset,
 * which is what the failure bounds in parameters.ts rely on. The graph is public: every party
 * rebuilds it from the round's `graphSeed`.
 */
import { Rng } from '../random.js';
import { SecAggError } from './errors.js';

export interface NeighbourGraph {
  readonly n: number;
  /** Neighbours per client (n − 1 for the complete graph). */
  readonly degree: number;
  readonly complete: boolean;
  /** Sorted, without i itself. */
  neighbours(i: number): readonly number[];
  areNeighbours(i: number, j: number): boolean;
}

export function completeGraph(n: number): NeighbourGraph {
  checkN(n);
  const cache = new Map<number, number[]>();
  return {
    n,
    degree: n - 1,
    complete: true,
    neighbours(i) {
      checkIndex(i, n);
      let list = cache.get(i);
      if (!list) {
        list = [];
        for (let j = 0; j < n; j++) if (j !== i) list.push(j);
        cache.set(i, list);
      }
      return list;
    },
    areNeighbours: (i, j) => i !== j && i >= 0 && j >= 0 && i < n && j < n,
  };
}

/**
 * H(k, n) with a random relabelling drawn from `seed`. k ≥ n − 1 degenerates to the complete graph;
 * odd k needs even n (the diametric edges must pair up).
 */
export function hararyGraph(n: number, degree: number, seed: number): NeighbourGraph {
  checkN(n);
  if (!Number.isInteger(degree) || degree < 1) throw new SecAggError('invalid-argument', `graph degree must be a positive integer, got ${degree}`);
  if (degree >= n - 1) return completeGraph(n);
  if (degree % 2 === 1 && n % 2 === 1) {
    throw new SecAggError('invalid-argument', `a ${degree}-regular Harary graph needs an even number of clients (got ${n}); use an even degree`);
  }
  const half = Math.floor(degree / 2);
  const odd = degree % 2 === 1;
  const atPosition = new Rng(seed >>> 0).fork('secagg+ harary permutation').shuffle(Array.from({ length: n }, (_, i) => i));
  const positionOf = new Int32Array(n);
  atPosition.forEach((client, position) => (positionOf[client] = position));
  const cache = new Map<number, number[]>();
  const ringDistance = (i: number, j: number) => {
    const d = Math.abs(positionOf[i]! - positionOf[j]!);
    return Math.min(d, n - d);
  };
  return {
    n,
    degree,
    complete: false,
    neighbours(i) {
      checkIndex(i, n);
      let list = cache.get(i);
      if (!list) {
        const p = positionOf[i]!;
        list = [];
        for (let d = 1; d <= half; d++) list.push(atPosition[(p + d) % n]!, atPosition[(p - d + n) % n]!);
        if (odd) list.push(atPosition[(p + n / 2) % n]!);
        list.sort((a, b) => a - b);
        cache.set(i, list);
      }
      return list;
    },
    areNeighbours(i, j) {
      if (i === j || i < 0 || j < 0 || i >= n || j >= n) return false;
      const d = ringDistance(i, j);
      return d <= half || (odd && d === n / 2);
    },
  };
}

/** Connected components of the subgraph induced by `members` (each sorted; largest first). */
export function componentsOf(graph: NeighbourGraph, members: Iterable<number>): number[][] {
  const inSet = new Set(members);
  const seen = new Set<number>();
  const components: number[][] = [];
  for (const start of inSet) {
    if (seen.has(start)) continue;
    const component: number[] = [];
    const stack = [start];
    seen.add(start);
    while (stack.length > 0) {
      const u = stack.pop()!;
      component.push(u);
      for (const v of graph.neighbours(u)) {
        if (inSet.has(v) && !seen.has(v)) {
          seen.add(v);
          stack.push(v);
        }
      }
    }
    components.push(component.sort((a, b) => a - b));
  }
  return components.sort((a, b) => b.length - a.length);
}

function checkN(n: number): void {
  if (!Number.isInteger(n) || n < 2) throw new SecAggError('invalid-argument', `secure aggregation needs at least 2 clients, got ${n}`);
}

function checkIndex(i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new SecAggError('invalid-argument', `client index ${i} outside [0, ${n})`);
}
