/**
 * Collaborative filtering by matrix factorisation, as the project documents' Keras example:
 * user and item embeddings (with biases) whose dot product is the rating, trained on MSE. Layers
 * `users` and `items`: with `strategy.localLayers: [users]` each client (one user) keeps its
 * embedding to itself and only the item side is averaged, federated collaborative filtering in
 * the manner of Ammad-ud-din et al. 2019 (each client's copy of the user table only ever trains
 * its own row).
 */
import { z } from 'zod';
import { positiveInt } from '../../scenario/spec-fields.js';
import { idEmbedding } from '../id-embedding.js';
import type { ModelEntry } from '../model-entry.js';

const SPEC = z.strictObject({
  name: z.literal('matrix-factorization'),
  /** Embedding dimension of users and items. */
  dimension: positiveInt.max(1024).default(16),
});
export type MatrixFactorizationSpec = z.output<typeof SPEC>;

export const MATRIX_FACTORIZATION = {
  name: 'matrix-factorization',
  description: 'matrix factorisation: user and item embeddings with biases, rating = their dot product (layers users, items; ratings data)',
  schema: SPEC,
  suits: 'synthetic-ratings',
  build: (tf, spec, shape) => {
    const [users, items] = shape.categories as [number, number];
    const input = tf.input({ shape: [2], name: 'ids' });
    const user = idEmbedding(tf, { column: 0, count: users, dimension: spec.dimension, side: 'user', name: 'users' }).apply(input) as ReturnType<
      typeof tf.input
    >;
    const item = idEmbedding(tf, { column: 1, count: items, dimension: spec.dimension, side: 'item', name: 'items' }).apply(input) as ReturnType<
      typeof tf.input
    >;
    const rating = tf.layers.dot({ axes: 1, name: 'rating' }).apply([user, item]) as ReturnType<typeof tf.input>;
    return tf.model({ inputs: input, outputs: rating, name: spec.name });
  },
  parameterCount: (spec, shape) => {
    const [users, items] = shape.categories ?? [0, 0];
    return (users! + items!) * (spec.dimension + 1) + 1;
  },
  problems: (spec, shape, datasetName) =>
    shape.task === 'regression' && shape.categories?.length === 2
      ? []
      : [`model.name: ${spec.name} factorises [user, item] ratings (got ${datasetName}, expected synthetic-ratings)`],
  layers: () => ['users', 'items'],
  describe: (spec, shape) => {
    const [users, items] = shape?.categories ?? [];
    return `matrix factorisation (${users ?? '?'} users × ${items ?? '?'} items, dimension ${spec.dimension}, with biases; rating = dot product, MSE)`;
  },
} satisfies ModelEntry<MatrixFactorizationSpec>;
