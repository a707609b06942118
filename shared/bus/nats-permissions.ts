/**
 * What each NATS user of a run may do on the bus, derived from the protocol's subject lists, so
 * the private nats-server of a laptop run and `fedsim deploy creds` on a cluster grant the same.
 *
 * A worker asks to join, says it is ready, fetches the model, pulls tasks from its run's
 * consumer, claims and acks them, and sends results (and, under secure aggregation, its clients'
 * protocol messages), and reads and writes its run's client-state bucket; it hears the run's control broadcasts, the secure-aggregation batches
 * addressed to workers, and the replies to its own requests only (its own inbox prefix, so no
 * worker reads another's task deliveries, claim grants or model chunks). It can publish on no
 * control subject and subscribe to no run's results, and it can name nothing of another run.
 * Secure-aggregation batches for other workers carry public keys, end-to-end sealed shares and
 * rosters, none of which reveals an update.
 */
import { subjects, WORKER_HEARS, WORKER_SENDS } from '../protocol/messages.js';
import { TASK_STREAM, workerConsumer } from './task-queue.js';

export interface SubjectPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
  /** May answer a request it received (once), without the right to publish to any inbox. */
  allow_responses?: boolean;
}

export const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
/** A NATS user name that is also one subject token (it names the user's inbox). */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function assertRunName(run: string): void {
  if (!RUN_NAME.test(run)) throw new Error(`run name "${run}": expected letters, digits, "-" or "_" (the scenario's name:, which names NATS subjects)`);
}

/** Where a user's replies arrive: the one inbox subtree its permissions let it read. */
export function inboxPrefixOf(user: string): string {
  if (!USER_NAME.test(user)) throw new Error(`NATS user "${user}": expected letters, digits, "-" or "_" (it names the user's inbox subject)`);
  return `_INBOX.${user}`;
}

/**
 * One user of a nats-server `authorization` block. `user` and `password` come as they are to
 * be written: quoted literals, or an unquoted `$VARIABLE` that nats-server reads from its environment.
 */
export function authorizationUserEntry(user: string, password: string, permissions: SubjectPermissions): string {
  const quote = (subjects: string[]) => subjects.map((s) => JSON.stringify(s)).join(', ');
  return [
    `    {`,
    `      user: ${user}`,
    `      password: ${password}`,
    `      permissions: {`,
    `        publish: { allow: [${quote(permissions.publish.allow)}] }`,
    `        subscribe: { allow: [${quote(permissions.subscribe.allow)}] }`,
    ...(permissions.allow_responses ? [`        allow_responses: true`] : []),
    `      }`,
    `    }`,
  ].join('\n');
}

/** The JetStream object-store bucket of a run's client state (its stream is `OBJ_<bucket>`). */
export function clientStateBucket(run: string): string {
  assertRunName(run);
  return `fedsim-state-${run}`;
}

/**
 * What reading and writing objects in the run's client-state bucket takes (@nats-io/obj 3.4):
 * its stream's info and last-message lookups, the ordered push consumer a read creates (delivered
 * to the worker's own inbox, with flow control), chunk and metadata publishes, and the purge of an
 * overwritten object's old chunks. All of it names this run's bucket alone.
 */
function clientStateSubjects(run: string): string[] {
  const bucket = clientStateBucket(run);
  const stream = `OBJ_${bucket}`;
  return [
    '$JS.API.INFO',
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.STREAM.PURGE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.FC.${stream}.>`,
    `$O.${bucket}.>`,
  ];
}

export function coordinatorPermissions(run: string): SubjectPermissions {
  assertRunName(run);
  const everything = subjects(run).everything;
  return { publish: { allow: [everything, '$JS.API.>', '_INBOX.>'] }, subscribe: { allow: [everything, '_INBOX.>'] } };
}

export function workerPermissions(run: string, user: string): SubjectPermissions {
  assertRunName(run);
  const runSubjects = subjects(run);
  const consumer = workerConsumer(run);
  return {
    publish: {
      allow: [
        ...WORKER_SENDS.map((name) => runSubjects[name]),
        `$JS.API.CONSUMER.INFO.${TASK_STREAM}.${consumer}`,
        `$JS.API.CONSUMER.MSG.NEXT.${TASK_STREAM}.${consumer}`,
        // Narrower than $JS.ACK.FEDSIM_TASKS.>: an ack removes a message from a work queue, so a
        // worker able to ack another run's consumer could delete that run's tasks.
        `$JS.ACK.${TASK_STREAM}.${consumer}.>`,
        ...clientStateSubjects(run),
      ],
    },
    subscribe: { allow: [`${inboxPrefixOf(user)}.>`, ...WORKER_HEARS.map((name) => runSubjects[name])] },
    // The coordinator's secure-aggregation batches are requests the worker acknowledges.
    allow_responses: true,
  };
}
