/**
 * Area under the ROC curve of a binary classifier: the probability that a random positive
 * sample scores above a random negative one, ties counting one half (the Mann–Whitney U
 * statistic over both classes' counts). Accuracy at 0.5 hides how well a model ranks; AUC is
 * the figure binary-classification work (sentiment, spam) reports beside it.
 */

/** `scores[i]`: the model's probability that sample i is positive; `labels[i]`: 1 positive, 0 negative. Null when a class is missing. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  if (scores.length !== labels.length) throw new RangeError(`rocAuc: ${scores.length} scores for ${labels.length} labels`);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]!] === scores[order[start]!]) end += 1;
    // Tied scores share the mean of their 1-based ranks.
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (labels[order[k]!] === 1) {
        positives += 1;
        positiveRankSum += rank;
      }
    }
    start = end + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
