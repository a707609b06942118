/**
 * `fedsim deploy creds`: what it writes (an authorization block, two Secrets), the exact subject
 * permissions of each role, strong passwords, refusing to overwrite by accident, and a folder
 * that never holds half a set of files.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import {
  CREDS_FILE_NAMES,
  deployCommand,
  generatePassword,
  natsAuthorizationBlock,
  natsHelmValues,
  rolePermissions,
  writeCreds,
} from '../../cli/deploy-command.js';
import { validateManifest } from '../../deploy/tools/validate-manifests.js';
import type { K8sObject } from '../../deploy/tools/kustomize.js';

const failRename = vi.hoisted(() => ({ to: null as string | null }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    rename: async (from: string, to: string) => {
      // One failure, then renames work again (so the rollback can run).
      if (failRename.to !== null && to === failRename.to) {
        failRename.to = null;
        throw Object.assign(new Error(`EIO: injected failure renaming to ${to}`), { code: 'EIO' });
      }
      return actual.rename(from, to);
    },
  };
});

const ROOT = resolve(import.meta.dirname, '../..');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fedsim-creds-'));
  failRename.to = null;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const readSecret = (file: string) => parseYaml(readFileSync(join(dir, file), 'utf8')) as K8sObject & { stringData: Record<string, string> };

describe('subject permissions', () => {
  it('gives a worker exactly its run, its consumer and its replies', () => {
    expect(rolePermissions('worker', 'exp-1')).toEqual({
      publish: {
        allow: [
          'fedsim.exp-1.join',
          'fedsim.exp-1.ready',
          'fedsim.exp-1.model',
          'fedsim.exp-1.claim',
          'fedsim.exp-1.results',
          'fedsim.exp-1.secagg',
          '$JS.API.CONSUMER.INFO.FEDSIM_TASKS.workers-exp-1',
          '$JS.API.CONSUMER.MSG.NEXT.FEDSIM_TASKS.workers-exp-1',
          '$JS.ACK.FEDSIM_TASKS.workers-exp-1.>',
          // The run's client-state bucket (SCAFFOLD's control variates, residuals, personal layers).
          '$JS.API.INFO',
          '$JS.API.STREAM.INFO.OBJ_fedsim-state-exp-1',
          '$JS.API.STREAM.MSG.GET.OBJ_fedsim-state-exp-1',
          '$JS.API.DIRECT.GET.OBJ_fedsim-state-exp-1',
          '$JS.API.DIRECT.GET.OBJ_fedsim-state-exp-1.>',
          '$JS.API.STREAM.PURGE.OBJ_fedsim-state-exp-1',
          '$JS.API.CONSUMER.CREATE.OBJ_fedsim-state-exp-1',
          '$JS.API.CONSUMER.CREATE.OBJ_fedsim-state-exp-1.>',
          '$JS.API.CONSUMER.DELETE.OBJ_fedsim-state-exp-1.>',
          '$JS.FC.OBJ_fedsim-state-exp-1.>',
          '$O.fedsim-state-exp-1.>',
        ],
      },
      subscribe: { allow: ['_INBOX.worker.>', 'fedsim.exp-1.control', 'fedsim.exp-1.secagg.*'] },
      allow_responses: true,
    });
  });

  it('gives the coordinator its run, the JetStream API and replies', () => {
    expect(rolePermissions('coordinator', 'exp-1')).toEqual({
      publish: { allow: ['fedsim.exp-1.>', '$JS.API.>', '_INBOX.>'] },
      subscribe: { allow: ['fedsim.exp-1.>', '_INBOX.>'] },
    });
  });

  it('never lets a worker read results, nor name another run', () => {
    const { publish, subscribe } = rolePermissions('worker', 'exp-1');
    // No wildcard that could cover results (fedsim.exp-1.> or fedsim.*.…); the one wildcard is
    // the secure-aggregation batches to workers, a level below fedsim.exp-1.secagg.
    expect(subscribe.allow.filter((s) => s.startsWith('fedsim.'))).toEqual(['fedsim.exp-1.control', 'fedsim.exp-1.secagg.*']);
    for (const subject of [...publish.allow, ...subscribe.allow]) {
      // Account info (stream counts and limits, no data): what opening an object store asks first.
      if (subject === '_INBOX.worker.>' || subject === '$JS.API.INFO') continue;
      expect(subject.startsWith('fedsim.exp-1.') || subject.includes('.workers-exp-1') || /fedsim-state-exp-1(\.|$)/.test(subject), subject).toBe(true);
      if (subject !== 'fedsim.exp-1.secagg.*') expect(subject.includes('*'), subject).toBe(false);
    }
  });

  it('refuses run names that would be subject wildcards or separators', () => {
    for (const bad of ['a.b', '>', '*', 'a b', '', '-x']) expect(() => rolePermissions('worker', bad), bad).toThrow(/run name/);
  });

  it('writes the block the base ConfigMap carries for the base run', () => {
    expect(readFileSync(join(ROOT, 'deploy/k8s/base/nats/auth.conf'), 'utf8')).toBe(natsAuthorizationBlock('k8s-mnist'));
  });
});

describe('NATS Helm chart values', () => {
  it('carry the same users and permissions, passwords from the Secrets through the environment', () => {
    const values = parseYaml(natsHelmValues('exp-1')) as {
      config: {
        jetstream: { enabled: boolean };
        monitor: { enabled: boolean };
        merge: { authorization: { users: { user: string; password: string; permissions: unknown }[] } };
      };
      container: { env: Record<string, { valueFrom: { secretKeyRef: { name: string; key: string } } }> };
      service: { ports: { monitor: { enabled: boolean } } };
    };
    expect(values.config.jetstream.enabled).toBe(true);
    // KEDA reads consumer lag from the monitoring port.
    expect(values.config.monitor.enabled && values.service.ports.monitor.enabled).toBe(true);
    expect(values.config.merge.authorization.users).toEqual([
      { user: 'coordinator', password: '<< $FEDSIM_COORDINATOR_PASSWORD >>', permissions: rolePermissions('coordinator', 'exp-1') },
      { user: 'worker', password: '<< $FEDSIM_WORKER_PASSWORD >>', permissions: rolePermissions('worker', 'exp-1') },
    ]);
    expect(values.container.env).toEqual({
      FEDSIM_COORDINATOR_PASSWORD: { valueFrom: { secretKeyRef: { name: 'fedsim-nats-coordinator', key: 'NATS_PASSWORD' } } },
      FEDSIM_WORKER_PASSWORD: { valueFrom: { secretKeyRef: { name: 'fedsim-nats-worker', key: 'NATS_PASSWORD' } } },
    });
  });
});

describe('passwords', () => {
  it('are 40 letters and digits, starting with a letter, and differ every time', () => {
    const many = Array.from({ length: 200 }, () => generatePassword());
    for (const p of many) expect(p).toMatch(/^[A-Za-z][A-Za-z0-9]{39}$/);
    expect(new Set(many).size).toBe(many.length);
    // Every one of the 62 characters turns up: the draw is not biased to a subset.
    expect(new Set(many.join('')).size).toBe(62);
  });
});

describe('fedsim deploy creds', () => {
  it('writes the authorization block, one valid Secret per role and the API token, readable by the owner only', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await deployCommand().parseAsync(['creds', '--run', 'exp-1', '--out', dir, '--namespace', 'fl-lab'], { from: 'user' });
    } finally {
      write.mockRestore();
    }
    expect(readdirSync(dir).sort()).toEqual(Object.values(CREDS_FILE_NAMES).sort());
    expect(readFileSync(join(dir, 'nats-auth.conf'), 'utf8')).toBe(natsAuthorizationBlock('exp-1'));
    expect(readFileSync(join(dir, 'nats-helm-values.yaml'), 'utf8')).toBe(natsHelmValues('exp-1'));
    expect(readFileSync(join(dir, 'nats-helm-values.yaml'), 'utf8')).not.toMatch(/NATS_PASSWORD: [A-Za-z0-9]{40}/);
    const coordinator = readSecret('coordinator-secret.yaml');
    const worker = readSecret('worker-secret.yaml');
    for (const [role, secret] of [
      ['coordinator', coordinator],
      ['worker', worker],
    ] as const) {
      expect(validateManifest(secret)).toEqual([]);
      expect(secret.metadata).toMatchObject({ name: `fedsim-nats-${role}`, namespace: 'fl-lab' });
      expect(Object.keys(secret.stringData).sort()).toEqual(['NATS_PASSWORD', 'NATS_USER']);
      expect(secret.stringData.NATS_USER).toBe(role);
      expect(secret.stringData.NATS_PASSWORD).toMatch(/^[A-Za-z][A-Za-z0-9]{39}$/);
    }
    expect(coordinator.stringData.NATS_PASSWORD).not.toBe(worker.stringData.NATS_PASSWORD);
    const apiToken = readSecret('api-token-secret.yaml');
    expect(validateManifest(apiToken)).toEqual([]);
    expect(apiToken.metadata).toMatchObject({ name: 'fedsim-api-token', namespace: 'fl-lab' });
    expect(Object.keys(apiToken.stringData)).toEqual(['FEDSIM_API_TOKEN']);
    expect(apiToken.stringData.FEDSIM_API_TOKEN).toMatch(/^[A-Za-z][A-Za-z0-9]{39}$/);
    for (const file of readdirSync(dir)) expect(statSync(join(dir, file)).mode & 0o777, file).toBe(0o600);
  });

  it('with --workers gives each worker its own user, Secret, password and inbox', async () => {
    await writeCreds({ run: 'exp-1', out: dir, namespace: 'fedsim', workers: 3 });
    const secrets = parseAllDocuments(readFileSync(join(dir, 'worker-secret.yaml'), 'utf8')).map(
      (d) => d.toJS() as K8sObject & { stringData: Record<string, string> },
    );
    expect(secrets.map((s) => [s.metadata.name, s.stringData.NATS_USER])).toEqual([
      ['fedsim-nats-worker-0', 'worker-0'],
      ['fedsim-nats-worker-1', 'worker-1'],
      ['fedsim-nats-worker-2', 'worker-2'],
    ]);
    for (const secret of secrets) expect(validateManifest(secret)).toEqual([]);
    expect(new Set(secrets.map((s) => s.stringData.NATS_PASSWORD)).size).toBe(3);
    const auth = readFileSync(join(dir, 'nats-auth.conf'), 'utf8');
    expect(auth).toBe(natsAuthorizationBlock('exp-1', 3));
    for (const k of [0, 1, 2]) {
      expect(auth).toContain(`user: worker-${k}\n      password: $FEDSIM_WORKER_${k}_PASSWORD`);
      // Each reads its own replies only.
      expect(auth).toContain(`subscribe: { allow: ["_INBOX.worker-${k}.>", "fedsim.exp-1.control"`);
    }
    expect(auth).not.toContain('"_INBOX.>", "fedsim.exp-1.control"');
  });

  it('refuses to replace existing credentials without --force, and replaces all of them with it', async () => {
    await writeCreds({ run: 'exp-1', out: dir, namespace: 'fedsim' });
    const before = readSecret('worker-secret.yaml').stringData.NATS_PASSWORD;
    await expect(writeCreds({ run: 'exp-1', out: dir, namespace: 'fedsim' })).rejects.toThrow(/--force/);
    expect(readSecret('worker-secret.yaml').stringData.NATS_PASSWORD).toBe(before);
    await writeCreds({ run: 'exp-2', out: dir, namespace: 'fedsim', force: true });
    expect(readSecret('worker-secret.yaml').stringData.NATS_PASSWORD).not.toBe(before);
    expect(readFileSync(join(dir, 'nats-auth.conf'), 'utf8')).toBe(natsAuthorizationBlock('exp-2'));
    expect(readdirSync(dir).sort()).toEqual(Object.values(CREDS_FILE_NAMES).sort());
  });

  it('puts the old set back when a file cannot be placed, leaving no half-written or mixed files', async () => {
    await writeCreds({ run: 'exp-1', out: dir, namespace: 'fedsim' });
    const snapshot = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    // The last rename fails, after the other new files were in place.
    failRename.to = join(dir, 'worker-secret.yaml');
    await expect(writeCreds({ run: 'exp-2', out: dir, namespace: 'fedsim', force: true })).rejects.toThrow(/injected/);
    expect(Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]))).toEqual(snapshot);
  });

  it('leaves nothing behind when the first write fails', async () => {
    failRename.to = join(dir, 'nats-auth.conf');
    await expect(writeCreds({ run: 'exp-1', out: dir, namespace: 'fedsim' })).rejects.toThrow(/injected/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects a run name that is not a scenario name before writing anything', async () => {
    const command = deployCommand();
    const creds = command.commands.find((c) => c.name() === 'creds')!;
    creds.exitOverride().configureOutput({ writeErr: () => {} });
    await expect(command.parseAsync(['creds', '--run', 'fedsim.>', '--out', dir], { from: 'user' })).rejects.toThrow(/scenario's name/);
    expect(existsSync(join(dir, 'nats-auth.conf'))).toBe(false);
  });
});
