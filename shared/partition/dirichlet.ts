/**
 * Label skew by Dirichlet allocation (as in Hsu et al. 2019, in the per-class form used by
 * Yurochkin et al. 2019 and NIID-Bench): for each class, proportions over the clients are drawn
 * from Dirichlet(α, …, α) and the class's samples are dealt out in those proportions. Small α
 * (0.1) gives clients a few dominant classes; large α (100) approaches IID.
 *
 * Small α can leave a client with nothing, so whole draws are repeated until every client has at
 * least `minSamples`. Only the per-client counts are drawn in the loop; indices are dealt once.
 */
import { z } from 'zod';
import { indicesByClass } from '../data/dataset.js';
import type { Rng } from '../random.js';
import { positiveInt } from '../scenario/spec-fields.js';
import { apportion } from './apportion.js';
import { checkClassification, checkEnoughSamples, checkPositiveInteger, checkPositiveNumber, partitionError } from './parameter-checks.js';
import { partitionOptions, type PartitionerEntry } from './partitioner-entry.js';

export const DIRICHLET_MAX_DRAWS = 1000;

const SPEC = partitionOptions('dirichlet', {
  alpha: z.number().gt(0),
  /** Defaults to 1: no client is ever empty. */
  minSamples: positiveInt.optional(),
});
export type DirichletSpec = z.output<typeof SPEC>;

export const DIRICHLET = {
  name: 'dirichlet',
  description: 'label skew: each class dealt out in Dirichlet(α) proportions (small α: a few classes per client)',
  schema: SPEC,
  partition: (dataset, spec, rng) => {
    checkClassification(spec.kind, dataset);
    checkPositiveNumber('alpha', spec.alpha);
    const minSamples = spec.minSamples ?? 1;
    checkPositiveInteger('minSamples', minSamples);
    checkEnoughSamples(spec.clients, minSamples, dataset.train.count);
    return partitionDirichlet(indicesByClass(dataset.train, dataset.numClasses), spec.clients, spec.alpha, minSamples, rng);
  },
} satisfies PartitionerEntry<DirichletSpec>;

export function partitionDirichlet(byClass: number[][], clients: number, alpha: number, minSamples: number, rng: Rng): number[][] {
  let counts: number[][] | undefined;
  for (let draw = 0; draw < DIRICHLET_MAX_DRAWS && !counts; draw++) {
    const candidate = byClass.map((members) =>
      members.length === 0 ? new Array<number>(clients).fill(0) : apportion(members.length, rng.dirichlet(alpha, clients)),
    );
    const sizes = new Array<number>(clients).fill(0);
    for (const perClient of candidate) perClient.forEach((n, c) => (sizes[c]! += n));
    if (sizes.every((n) => n >= minSamples)) counts = candidate;
  }
  if (!counts) {
    const total = byClass.reduce((s, m) => s + m.length, 0);
    throw partitionError(
      'minSamples',
      `no Dirichlet draw in ${DIRICHLET_MAX_DRAWS} gave every client at least ${minSamples} sample(s)`,
      `alpha ${alpha}, ${clients} clients, ${total} samples in ${byClass.length} classes`,
      'a larger alpha, fewer clients or a smaller minSamples',
    );
  }

  const parts = Array.from({ length: clients }, () => [] as number[]);
  byClass.forEach((members, k) => {
    const shuffled = rng.shuffle([...members]);
    let start = 0;
    counts[k]!.forEach((n, c) => {
      for (let i = start; i < start + n; i++) parts[c]!.push(shuffled[i]!);
      start += n;
    });
  });
  // Dealt class by class, each part would list its samples in label runs; shuffled, nothing
  // downstream can come to depend on that order.
  return parts.map((part) => rng.shuffle(part));
}
