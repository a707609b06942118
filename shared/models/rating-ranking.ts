/**
 * The recommender's top-k view of a rating model: hit rate at 10. A user counts when one of its
 * held-out ratings is liked (≥ 4 of 5); it is a hit when one of those items is among the 10 the
 * model scores highest for the user, of every item the user did not rate in training. The share
 * of hits over the users that count (NCF's HR@10, ranked against the whole catalogue rather
 * than a sample of negatives). Null when no user counts.
 */
import type { DataSplit } from '../data/dataset.js';
import type { DataShape } from '../data/data-shape.js';
import * as tf from '../tf.js';

const K = 10;
const LIKED = 4;

/** `heldOut` and `rated`: [user, item] rows (rated: the training ratings, excluded from the ranking). */
export function hitRateAt10(model: tf.LayersModel, heldOut: DataSplit, rated: DataSplit, shape: DataShape): number | null {
  const items = shape.categories?.[1];
  if (shape.categories?.length !== 2 || items === undefined) throw new RangeError('hitRateAt10: the data are not [user, item] ratings');
  const liked = itemsByUser(heldOut, (rating) => rating >= LIKED);
  const seen = itemsByUser(rated, () => true);
  let users = 0;
  let hits = 0;
  for (const [user, likedItems] of liked) {
    users += 1;
    const scores = scoresOf(model, user, items);
    const excluded = seen.get(user) ?? new Set<number>();
    const top = Array.from({ length: items }, (_, i) => i)
      .filter((i) => !excluded.has(i))
      .sort((a, b) => scores[b]! - scores[a]! || a - b)
      .slice(0, K);
    if (top.some((i) => likedItems.has(i))) hits += 1;
  }
  return users === 0 ? null : hits / users;
}

function itemsByUser(split: DataSplit, keep: (rating: number) => boolean): Map<number, Set<number>> {
  const byUser = new Map<number, Set<number>>();
  for (let r = 0; r < split.count; r++) {
    if (!keep(split.labels[r]!)) continue;
    const user = split.features[2 * r]!;
    let items = byUser.get(user);
    if (!items) byUser.set(user, (items = new Set()));
    items.add(split.features[2 * r + 1]!);
  }
  return byUser;
}

function scoresOf(model: tf.LayersModel, user: number, items: number): Float32Array {
  const ids = new Float32Array(items * 2);
  for (let i = 0; i < items; i++) {
    ids[2 * i] = user;
    ids[2 * i + 1] = i;
  }
  return tf.tidy(() => (model.predict(tf.tensor2d(ids, [items, 2])) as tf.Tensor).dataSync() as Float32Array);
}
