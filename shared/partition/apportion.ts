/**
 * Splitting a whole number of samples by real-valued proportions (largest-remainder method): the
 * parts sum to `total` exactly and each is within 1 of its share, so partitions cover every sample.
 */
export function apportion(total: number, weights: ArrayLike<number>): number[] {
  const n = weights.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += weights[i]!;
  if (!(sum > 0)) throw new RangeError(`apportion: weights must have a positive sum (got ${sum})`);
  const counts = new Array<number>(n);
  const remainders: { index: number; remainder: number }[] = [];
  let assigned = 0;
  for (let i = 0; i < n; i++) {
    const share = (total * weights[i]!) / sum;
    counts[i] = Math.floor(share);
    assigned += counts[i]!;
    remainders.push({ index: i, remainder: share - counts[i]! });
  }
  // Ties go to the lower index, which keeps the result a pure function of the weights.
  remainders.sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (let r = 0; r < total - assigned; r++) counts[remainders[r]!.index]! += 1;
  return counts;
}
