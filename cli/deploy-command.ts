/**
 * `fedsim deploy creds`: per-role NATS credentials for one run on a cluster.
 *
 * Writes four files into --out:
 *   nats-auth.conf          the nats-server `authorization` block: users `coordinator` and `worker`
 *                           with the run's subject permissions. It holds no secret: each password
 *                           is a reference ($FEDSIM_COORDINATOR_PASSWORD, $FEDSIM_WORKER_PASSWORD)
 *                           that nats-server resolves from its environment, so the block can live
 *                           in a ConfigMap (deploy/k8s/base/nats/auth.conf is this file for the
 *                           base scenario's run).
 *   coordinator-secret.yaml Secret fedsim-nats-coordinator: NATS_USER, NATS_PASSWORD
 *   worker-secret.yaml      Secret fedsim-nats-worker: NATS_USER, NATS_PASSWORD
 *   nats-helm-values.yaml   the same users for the NATS Helm chart (nats/nats 1.x), for clusters
 *                           that run NATS from the chart instead of deploy/k8s/base/nats
 * The NATS server reads both Secrets into those two variables; the coordinator Job and the
 * worker Deployment each read only their own.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { stringify } from 'yaml';
import { TASK_STREAM, workerConsumer } from '../shared/bus/task-queue.js';
import { subjects, WORKER_HEARS, WORKER_SENDS } from '../shared/protocol/messages.js';

export { TASK_STREAM, workerConsumer } from '../shared/bus/task-queue.js';
export const NATS_ROLES = ['coordinator', 'worker'] as const;
export type NatsRole = (typeof NATS_ROLES)[number];

export function secretName(role: NatsRole): string {
  return `fedsim-nats-${role}`;
}

/** The variable nats-server reads the role's password from (set from the role's Secret). */
export function passwordVariable(role: NatsRole): string {
  return `FEDSIM_${role.toUpperCase()}_PASSWORD`;
}

export interface SubjectPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
  /** May answer a request it received (once), without the right to publish to any inbox. */
  allow_responses?: boolean;
}

const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * What each role may do on the bus. A worker asks to join, says it is ready, fetches the model,
 * pulls tasks from its run's consumer, claims and acks them, and sends results (and, under secure
 * aggregation, its clients' protocol messages); it hears replies to requests, the run's control
 * broadcasts and the secure-aggregation batches addressed to workers. It can subscribe to no
 * run's results, so it never sees another client's update, and to nothing of another run.
 * Secure-aggregation batches for other workers carry public keys, end-to-end sealed shares and
 * rosters, none of which reveals an update; a per-worker subject would need a user per pod.
 */
export function rolePermissions(role: NatsRole, run: string): SubjectPermissions {
  assertRunName(run);
  const runSubjects = subjects(run);
  if (role === 'coordinator') {
    return {
      publish: { allow: [runSubjects.everything, '$JS.API.>', '_INBOX.>'] },
      subscribe: { allow: [runSubjects.everything, '_INBOX.>'] },
    };
  }
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
      ],
    },
    subscribe: { allow: ['_INBOX.>', ...WORKER_HEARS.map((name) => runSubjects[name])] },
    // The coordinator's secure-aggregation batches are requests the worker acknowledges.
    allow_responses: true,
  };
}

/** The nats-server `authorization` block for one run (passwords as environment references). */
export function natsAuthorizationBlock(run: string): string {
  assertRunName(run);
  const quote = (subjects: string[]) => subjects.map((s) => JSON.stringify(s)).join(', ');
  const users = NATS_ROLES.map((role) => {
    const p = rolePermissions(role, run);
    return [
      `    {`,
      `      user: ${role}`,
      // Unquoted: nats-server substitutes $NAME from its environment; a quoted "$..." is literal.
      `      password: $${passwordVariable(role)}`,
      `      permissions: {`,
      `        publish: { allow: [${quote(p.publish.allow)}] }`,
      `        subscribe: { allow: [${quote(p.subscribe.allow)}] }`,
      ...(p.allow_responses ? [`        allow_responses: true`] : []),
      `      }`,
      `    }`,
    ].join('\n');
  });
  return [
    `# Generated by \`fedsim deploy creds --run ${run}\`: NATS users of run "${run}".`,
    `# Passwords come from the server's environment (Secrets ${NATS_ROLES.map(secretName).join(', ')}).`,
    `# Subjects are quoted so that "$JS..." is not read as a variable.`,
    `authorization {`,
    `  users: [`,
    users.join('\n'),
    `  ]`,
    `}`,
    ``,
  ].join('\n');
}

/**
 * Values for the NATS Helm chart (1.x): a three-node JetStream cluster on persistent volumes, the
 * monitoring port on the Service (KEDA), and the run's users merged into the server config, their
 * passwords again read from the Secrets through the environment (`<< $X >>` is the chart's
 * syntax for an unquoted value).
 */
export function natsHelmValues(run: string): string {
  assertRunName(run);
  const values = {
    config: {
      cluster: { enabled: true, replicas: 3 },
      jetstream: { enabled: true, fileStore: { pvc: { size: '10Gi' } } },
      monitor: { enabled: true },
      merge: {
        authorization: {
          users: NATS_ROLES.map((role) => ({ user: role, password: `<< $${passwordVariable(role)} >>`, permissions: rolePermissions(role, run) })),
        },
      },
    },
    container: {
      env: Object.fromEntries(
        NATS_ROLES.map((role) => [passwordVariable(role), { valueFrom: { secretKeyRef: { name: secretName(role), key: 'NATS_PASSWORD' } } }]),
      ),
    },
    service: { ports: { monitor: { enabled: true } } },
  };
  return (
    `# Generated by \`fedsim deploy creds --run ${run}\`: values for the NATS Helm chart (nats/nats 1.x).\n` +
    `#   helm install nats nats/nats -n <namespace> -f nats-helm-values.yaml\n` +
    `# then apply deploy/k8s/overlays/nats-helm (fedsim without its own NATS). No secrets in here.\n` +
    stringify(values)
  );
}

/** A Kubernetes Secret with one role's NATS login, as the coordinator Job / worker Deployment read it. */
export function roleSecretYaml(role: NatsRole, run: string, password: string, namespace: string): string {
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secretName(role),
      namespace,
      labels: { 'app.kubernetes.io/part-of': 'fedsim', 'app.kubernetes.io/component': `nats-${role}`, 'fedsim.dev/run': run },
    },
    type: 'Opaque',
    stringData: { NATS_USER: role, NATS_PASSWORD: password },
  };
  return `# Generated by \`fedsim deploy creds --run ${run}\`. Secret: keep it out of version control.\n${stringify(secret)}`;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * 40 alphanumerics (≈238 bits), first a letter: nats-server re-parses an environment value as a
 * config value, so a password that began with a digit or held punctuation could turn into a
 * number or a syntax error.
 */
export function generatePassword(length = 40): string {
  let out = ALPHABET[randomInt(0, 52)]!;
  // Rejection sampling keeps every character uniform (256 is not a multiple of 62).
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62]!;
    }
  }
  return out;
}

export interface CredsFiles {
  auth: string;
  helmValues: string;
  coordinatorSecret: string;
  workerSecret: string;
}

export const CREDS_FILE_NAMES: Record<keyof CredsFiles, string> = {
  auth: 'nats-auth.conf',
  helmValues: 'nats-helm-values.yaml',
  coordinatorSecret: 'coordinator-secret.yaml',
  workerSecret: 'worker-secret.yaml',
};

export async function writeCreds(options: { run: string; out: string; namespace: string; force?: boolean }): Promise<CredsFiles> {
  assertRunName(options.run);
  const out = resolve(options.out);
  const paths = Object.fromEntries(Object.entries(CREDS_FILE_NAMES).map(([key, name]) => [key, join(out, name)])) as unknown as CredsFiles;
  // New passwords for a live deployment would lock its pods out until every Secret and the
  // server are updated together; overwriting is a deliberate act.
  const existing = Object.values(CREDS_FILE_NAMES)
    .map((name) => join(out, name))
    .filter((p) => existsSync(p));
  if (existing.length > 0 && !options.force) {
    throw new Error(`${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}: pass --force to replace them with new passwords`);
  }
  await mkdir(out, { recursive: true, mode: 0o700 });
  const contents: CredsFiles = {
    auth: natsAuthorizationBlock(options.run),
    helmValues: natsHelmValues(options.run),
    coordinatorSecret: roleSecretYaml('coordinator', options.run, generatePassword(), options.namespace),
    workerSecret: roleSecretYaml('worker', options.run, generatePassword(), options.namespace),
  };
  // Every file is written in full under a temporary name first; then the old files step aside
  // and the new ones are renamed into place. A failure anywhere puts the old set back, so the
  // folder holds the old passwords or the new ones, never half a file or a mix of the two.
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const keys = Object.keys(paths) as (keyof CredsFiles)[];
  const staged: string[] = [];
  const movedAside: [string, string][] = [];
  const placed: string[] = [];
  try {
    for (const key of keys) {
      const temp = `${paths[key]}.tmp-${suffix}`;
      staged.push(temp);
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(contents[key], 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    for (const key of keys) {
      if (!existsSync(paths[key])) continue;
      const old = `${paths[key]}.old-${suffix}`;
      await rename(paths[key], old);
      movedAside.push([old, paths[key]]);
    }
    for (const [i, key] of keys.entries()) {
      await rename(staged[i]!, paths[key]);
      placed.push(paths[key]);
    }
  } catch (error) {
    for (const path of placed) await rm(path, { force: true }).catch(() => {});
    for (const [old, path] of movedAside) await rename(old, path).catch(() => {});
    for (const temp of staged) await rm(temp, { force: true }).catch(() => {});
    throw error;
  }
  await Promise.all(movedAside.map(([old]) => rm(old, { force: true })));
  return paths;
}

function assertRunName(run: string): void {
  if (!RUN_NAME.test(run)) throw new Error(`run name "${run}": expected letters, digits, "-" or "_" (the scenario's name:, which names NATS subjects)`);
}

function parseRunName(value: string): string {
  if (!RUN_NAME.test(value)) throw new InvalidArgumentError(`expected the scenario's name: letters, digits, "-" or "_" (got "${value}")`);
  return value;
}

function parseNamespace(value: string): string {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value))
    throw new InvalidArgumentError(`expected a Kubernetes namespace name (lower-case letters, digits, "-"; got "${value}")`);
  return value;
}

export function deployCommand(): Command {
  const deploy = new Command('deploy').description('Kubernetes helpers (see deploy/README.md)');
  deploy
    .command('creds')
    .description('generate per-role NATS credentials for a run: nats-server authorization block and Kubernetes Secrets')
    .requiredOption('--run <name>', "the run's scenario name (its `name:` field)", parseRunName)
    .option('--out <dir>', 'folder for nats-auth.conf, nats-helm-values.yaml, coordinator-secret.yaml, worker-secret.yaml', 'deploy/k8s/creds')
    .addOption(new Option('--namespace <ns>', 'namespace of the Secrets').default('fedsim').argParser(parseNamespace))
    .option('--force', 'replace existing files (new passwords: re-apply both Secrets and restart NATS)')
    .action(async (opts: { run: string; out: string; namespace: string; force?: boolean }) => {
      const paths = await writeCreds(opts);
      process.stdout.write(
        `wrote NATS credentials for run "${opts.run}" (namespace ${opts.namespace}):\n` +
          `  ${paths.auth}\n  ${paths.helmValues}\n  ${paths.coordinatorSecret}\n  ${paths.workerSecret}\n` +
          `next: kubectl apply -f ${paths.coordinatorSecret} -f ${paths.workerSecret}\n` +
          `      and use ${CREDS_FILE_NAMES.auth} as the auth.conf of the nats-config ConfigMap (deploy/README.md)\n`,
      );
    });
  return deploy;
}
