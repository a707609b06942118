/**
 * `system.stragglers` in a scenario: what the coordinator does about slow clients. It lives in
 * shared/ (not beside the policy in coordinator/simulation) because the scenario schema, which
 * workers load too, will import it.
 *
 * - wait-all: the round ends when the slowest selected client reports (FedAvg as published).
 * - deadline: reports later than deadlineSeconds are dropped (the server's reporting window).
 * - over-select: select ⌈overSelect · K⌉ clients, keep the first K to report (Bonawitz et al.
 *   2019 select 130% of the target), optionally also within a deadline.
 * - partial-work: every client does as many local steps as fit in the deadline and reports what
 *   it has (FedProx's variable local work, Li et al. 2020).
 */
import { z } from 'zod';

const seconds = z.number().gt(0);

export const STRAGGLER_SPEC = z.discriminatedUnion(
  'policy',
  [
    z.strictObject({ policy: z.literal('wait-all') }),
    z.strictObject({ policy: z.literal('deadline'), deadlineSeconds: seconds }),
    z.strictObject({
      policy: z.literal('over-select'),
      /** r ≥ 1: how many clients to select per client wanted. */
      overSelect: z.number().min(1).max(10),
      deadlineSeconds: seconds.optional(),
    }),
    z.strictObject({ policy: z.literal('partial-work'), deadlineSeconds: seconds }),
  ],
  { error: 'expected policy wait-all, deadline, over-select or partial-work' },
);

export type StragglerSpec = z.output<typeof STRAGGLER_SPEC>;
export type StragglerPolicyName = StragglerSpec['policy'];

export const DEFAULT_STRAGGLER_SPEC: StragglerSpec = { policy: 'wait-all' };
