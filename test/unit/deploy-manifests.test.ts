/**
 * The Kubernetes side, checked without a cluster: every kustomization under deploy/k8s renders
 * with the real kustomize (`kubectl kustomize`, deploy/tools/kustomize.ts; without kubectl these
 * tests fail with an install hint, never skip), every object passes the Kubernetes schemas of
 * kubernetes-models with unknown fields refused (KEDA's ScaledObject: a zod schema), and the
 * manifests agree with the code they run: commands and flags, ports and probes, environment,
 * the scenario in the ConfigMap, NATS users and permissions, KEDA's stream and consumer, images
 * and the Dockerfiles.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { natsAuthorizationBlock, NATS_ROLES, passwordVariable, secretName, TASK_STREAM, workerConsumer, type NatsRole } from '../../cli/deploy-command.js';
import {
  findKustomizations,
  KUBECTL_INSTALL_HINT,
  kustomizeVersion,
  MIN_KUSTOMIZE_MAJOR,
  objectId,
  renderKustomization,
  type K8sObject,
} from '../../deploy/tools/kustomize.js';
import { validateManifest } from '../../deploy/tools/validate-manifests.js';
import { findNatsServerBinary } from '../../shared/bus/nats-server-process.js';
import { parseScenarioText } from '../../shared/scenario/load-scenario.js';
import type { Scenario } from '../../shared/scenario/schema.js';

const ROOT = resolve(import.meta.dirname, '../..');
const K8S = join(ROOT, 'deploy/k8s');

/** What the code reads from its environment (shared/bus/nats-bus.ts, the logger). */
const FEDSIM_ENV = new Set(['NATS_URL', 'NATS_USER', 'NATS_PASSWORD', 'NATS_CREDS', 'NATS_TLS_CA', 'FEDSIM_LOG_LEVEL', 'FEDSIM_API_TOKEN']);
/** The pods that serve the HTTP API on 0.0.0.0, and so need its token. */
const API_SERVERS = new Set(['fedsim-coordinator', 'fedsim-results']);
/** The image's user (deploy/Dockerfile, USER). */
const IMAGE_UID = 10001;
/** Flags the code side promised for this issue; checked against --help once they exist there. */
const CONTRACT_FLAGS: Record<string, string[]> = {
  run: ['--workers', '--serve'],
  worker: ['--run', '--keep-alive', '--health-port', '--backend'],
  serve: ['--host', '--port', '--runs-dir'],
};
/** Objects the manifests use but that are created outside kustomize (README, `fedsim deploy creds`). */
const EXTERNAL_SECRETS = new Set(['fedsim-nats-coordinator', 'fedsim-nats-worker', 'fedsim-nats-tls', 'fedsim-api-token']);
const EXTERNAL_CONFIGMAPS = new Set(['fedsim-k6-scripts']);

const KUSTOMIZATIONS = findKustomizations(K8S);
const rel = (dir: string) => relative(K8S, dir);
/** Kustomizations that deploy fedsim (the load tests' one only adds Jobs to a running one). */
const APP_DIRS = KUSTOMIZATIONS.filter((k) => k.kind === 'Kustomization' && rel(k.dir) !== 'load').map((k) => rel(k.dir));

const renderCache = new Map<string, K8sObject[]>();
function rendered(dir: string): K8sObject[] {
  if (!renderCache.has(dir)) renderCache.set(dir, renderKustomization(join(K8S, dir)));
  // Each test gets its own copy to look at.
  return structuredClone(renderCache.get(dir)!);
}

// ---------- small accessors ----------

interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: unknown } }[];
  envFrom?: unknown[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Probe {
  httpGet?: { path: string; port: number | string };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: {
    name: string;
    configMap?: { name: string };
    secret?: { secretName: string; items?: { key: string }[] };
    persistentVolumeClaim?: { claimName: string };
    emptyDir?: object;
  }[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; fsGroup?: number };
  tolerations?: { key?: string }[];
  serviceAccountName?: string;
}
interface Workload {
  object: K8sObject;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  pod: PodSpec;
  claimTemplates: string[];
}

function workloads(objects: K8sObject[]): Workload[] {
  return objects
    .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
    .map((object) => {
      const spec = object.spec as {
        template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
        volumeClaimTemplates?: { metadata: { name: string } }[];
      };
      return {
        object,
        labels: spec.template.metadata?.labels ?? {},
        annotations: spec.template.metadata?.annotations ?? {},
        pod: spec.template.spec,
        claimTemplates: (spec.volumeClaimTemplates ?? []).map((t) => t.metadata.name),
      };
    });
}

function workload(objects: K8sObject[], kind: string, name: string): Workload {
  const found = workloads(objects).find((w) => w.object.kind === kind && w.object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

/** name[:tag][@digest]; a registry's port (host:5000/x) is part of the name. */
function parseImage(image: string): { name: string; tag?: string; digest?: string } {
  const [rest, digest] = image.split('@', 2) as [string, string | undefined];
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), ...(digest ? { digest } : {}) };
  return { name: rest, ...(digest ? { digest } : {}) };
}

function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected one ${what} (found ${items.length})`);
  return items[0]!;
}

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  return only(
    objects.filter((o) => o.kind === kind && o.metadata.name === name),
    `${kind} ${name}`,
  );
}

function configData(objects: K8sObject[], name: string): Record<string, string> {
  return (find(objects, 'ConfigMap', name).data ?? {}) as Record<string, string>;
}

function envOf(container: Container): Map<string, NonNullable<Container['env']>[number]> {
  return new Map((container.env ?? []).map((e) => [e.name, e]));
}

/** `--flag value` from a fedsim command line. */
function flagValue(args: string[] | undefined, flag: string): string | undefined {
  const at = (args ?? []).indexOf(flag);
  return at >= 0 ? args![at + 1] : undefined;
}

function portNumber(container: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return container.ports?.some((p) => p.containerPort === port) ? port : undefined;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

const isFedsim = (c: Container) => /(^|\/)fedsim(-gpu)?(:|@|$)/.test(c.image);

function fedsimContainers(objects: K8sObject[]): { workload: Workload; container: Container }[] {
  return workloads(objects).flatMap((w) => w.pod.containers.filter(isFedsim).map((container) => ({ workload: w, container })));
}

/** The overlay runs its own NATS (the base's StatefulSet), or expects the Helm chart's release "nats". */
function ownNats(objects: K8sObject[]): boolean {
  return objects.some((o) => o.kind === 'StatefulSet' && o.metadata.name === 'nats');
}

/** The chart's defaults for release "nats": Service nats (client 4222), headless Service nats-headless (monitor 8222). */
const HELM_NATS = { service: 'nats', clientPort: 4222, headless: 'nats-headless', monitorPort: 8222 };

function scenarioOf(objects: K8sObject[]): Scenario {
  const data = configData(objects, 'fedsim-scenario');
  expect(Object.keys(data)).toEqual(['scenario.yaml']);
  return parseScenarioText(data['scenario.yaml']!, 'ConfigMap fedsim-scenario scenario.yaml');
}

// ---------- fedsim's own command line, read from --help ----------

interface CommandSpec {
  positionals: number;
  options: Map<string, { takesValue: boolean; choices?: string[] }>;
}

const helpCache = new Map<string, CommandSpec>();
function commandSpec(command: string): CommandSpec {
  const cached = helpCache.get(command);
  if (cached) return cached;
  const text = execFileSync(process.execPath, [join(ROOT, 'bin/fedsim.js'), command, '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const usage = /^Usage: fedsim \S+ (.*)$/m.exec(text)?.[1] ?? '';
  const positionals = (usage.match(/<[^>]+>/g) ?? []).length;
  const options = new Map<string, { takesValue: boolean; choices?: string[] }>();
  const section = text.split(/^Options:$/m)[1] ?? '';
  // One entry per option; commander wraps long descriptions onto indented lines.
  const entries: string[] = [];
  for (const line of section.split('\n')) {
    if (/^ {2}-/.test(line)) entries.push(line.trim());
    else if (line.trim() && entries.length > 0) entries[entries.length - 1] += ` ${line.trim()}`;
  }
  for (const entry of entries) {
    const match = /^(?:-\w, )?(--[\w-]+)( [<[][^>\]]+[>\]])?/.exec(entry);
    if (!match) continue;
    const choices = /\(choices: ([^)]*?)(?:, default: [^)]*)?\)/
      .exec(entry)?.[1]
      ?.split(', ')
      .map((c) => c.replace(/^"|"$/g, ''));
    options.set(match[1]!, { takesValue: Boolean(match[2]), ...(choices ? { choices } : {}) });
  }
  const spec = { positionals, options };
  helpCache.set(command, spec);
  return spec;
}

/** Problems with a fedsim command line (args of the container, image entrypoint `fedsim`). */
function commandLineProblems(args: string[]): { problems: string[]; pending: string[] } {
  const [command, ...rest] = args;
  const problems: string[] = [];
  const pending: string[] = [];
  if (!command || !(command in CONTRACT_FLAGS)) return { problems: [`unexpected fedsim command "${command}"`], pending };
  const spec = commandSpec(command);
  let positionals = 0;
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i]!;
    if (!arg.startsWith('--')) {
      positionals += 1;
      continue;
    }
    const option = spec.options.get(arg);
    if (!option) {
      // Promised by the code side but not in --help yet: the manifest follows the contract.
      if (CONTRACT_FLAGS[command]!.includes(arg)) pending.push(`${command} ${arg}`);
      else problems.push(`${command}: no option ${arg} in \`fedsim ${command} --help\``);
      if (rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('--')) i += 1;
      continue;
    }
    if (!option.takesValue) continue;
    const value = rest[i + 1];
    if (value === undefined || value.startsWith('--')) problems.push(`${command} ${arg}: missing its value`);
    else if (option.choices && !option.choices.includes(value)) problems.push(`${command} ${arg} ${value}: expected one of ${option.choices.join(', ')}`);
    i += 1;
  }
  if (positionals !== spec.positionals) problems.push(`${command}: ${positionals} positional arguments (its usage takes ${spec.positionals})`);
  return { problems, pending };
}

// ---------- tests ----------

describe('the real kustomize renders the manifests', () => {
  it(`kubectl with kustomize v${MIN_KUSTOMIZE_MAJOR} or later is on PATH (if not, the error says how to install it)`, () => {
    const major = Number(/^v(\d+)\./.exec(kustomizeVersion())?.[1]);
    expect(major).toBeGreaterThanOrEqual(MIN_KUSTOMIZE_MAJOR);
  });

  it('fails with the install hint, not a skip, where kubectl is missing', () => {
    const missing = join(tmpdir(), 'fedsim-no-such-kubectl');
    expect(() => renderKustomization(join(K8S, 'base'), { kubectl: missing })).toThrow(`${missing} is not installed or not on PATH: ${KUBECTL_INSTALL_HINT}`);
  });

  it("reports kustomize's own error for a kustomization it cannot render", () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedsim-broken-'));
    try {
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${relative(dir, join(K8S, 'base'))}\npatches:\n  - path: missing.yaml\n`,
      );
      expect(() => renderKustomization(dir)).toThrow(/kubectl kustomize .* failed \(exit 1\):\n.*missing\.yaml/s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('every kustomization renders and passes the schemas offline', () => {
  it('finds the base, the overlays and the components', () => {
    const dirs = KUSTOMIZATIONS.map((k) => rel(k.dir));
    expect(dirs).toEqual(expect.arrayContaining(['base', 'overlays/local', 'overlays/gpu', 'components/keda', 'components/nats-tls', 'load']));
  });

  it.each(KUSTOMIZATIONS.filter((k) => k.kind === 'Kustomization').map((k) => rel(k.dir)))('%s', (dir) => {
    const objects = rendered(dir);
    expect(objects.length).toBeGreaterThan(0);
    const problems = objects.flatMap((o) => validateManifest(o).map((p) => `${o.kind} ${o.metadata.name}${p}`));
    expect(problems).toEqual([]);
  });

  it('uses every component in some overlay, so none goes unrendered', () => {
    const used = new Set<string>();
    for (const k of KUSTOMIZATIONS) {
      const file = parseYaml(readFileSync(join(k.dir, 'kustomization.yaml'), 'utf8')) as { components?: string[] };
      for (const c of file.components ?? []) used.add(rel(resolve(k.dir, c)));
    }
    const components = KUSTOMIZATIONS.filter((k) => k.kind === 'Component').map((k) => rel(k.dir));
    // tier-cpu-large is documented for users to add; render it here through the base.
    expect(components.filter((c) => !used.has(c) && c !== 'components/tier-cpu-large')).toEqual([]);
  });

  it('refuses unknown fields and wrong types (the check itself works)', () => {
    const worker = workload(rendered('base'), 'Deployment', 'fedsim-worker');
    const container = worker.pod.containers[0]! as unknown as Record<string, unknown>;
    (container.livenessProbe as Record<string, unknown>).periodSecond = 5;
    container.ports = [{ containerPort: '9464' }];
    const problems = validateManifest(worker.object);
    expect(problems.join('\n')).toMatch(/containerPort must be integer/);
    (container as { ports: unknown }).ports = [{ containerPort: 9464 }];
    expect(validateManifest(worker.object)).toEqual(['/spec/template/spec/containers/0/livenessProbe/periodSecond: unknown field']);
  });

  it('puts every namespaced object in one namespace', () => {
    for (const dir of APP_DIRS) {
      const namespaces = new Set(
        rendered(dir)
          .filter((o) => o.kind !== 'Namespace')
          .map((o) => o.metadata.namespace),
      );
      expect([...namespaces], dir).toEqual(['fedsim']);
    }
  });
});

describe.each(APP_DIRS)('%s agrees with the code', (dir) => {
  it('runs fedsim commands with options that exist', () => {
    const problems: string[] = [];
    const pending: string[] = [];
    for (const { workload: w, container } of fedsimContainers(rendered(dir))) {
      // The image's entrypoint is `node bin/fedsim.js`: args are the fedsim command line.
      expect(container.command, `${w.object.metadata.name}: keep the image's entrypoint`).toBeUndefined();
      const result = commandLineProblems(container.args ?? []);
      problems.push(...result.problems.map((p) => `${w.object.metadata.name}: ${p}`));
      pending.push(...result.pending);
    }
    expect(problems).toEqual([]);
    if (pending.length > 0) console.warn(`flags from the code-side contract, not in --help yet: ${[...new Set(pending)].join(', ')}`);
  });

  it('reads only the environment the code reads, and each role only its own NATS login', () => {
    for (const { workload: w, container } of fedsimContainers(rendered(dir))) {
      const name = w.object.metadata.name;
      expect(container.envFrom, name).toBeUndefined();
      const env = envOf(container);
      expect(
        [...env.keys()].filter((k) => !FEDSIM_ENV.has(k)),
        name,
      ).toEqual([]);
      const role: NatsRole | null = name === 'fedsim-coordinator' ? 'coordinator' : name === 'fedsim-worker' ? 'worker' : null;
      // Whoever listens beyond loopback gets the API token (else it would make one up per pod start).
      expect(env.get('FEDSIM_API_TOKEN')?.valueFrom?.secretKeyRef, name).toEqual(
        API_SERVERS.has(name) ? { name: 'fedsim-api-token', key: 'FEDSIM_API_TOKEN' } : undefined,
      );
      const secrets = [...env.entries()].flatMap(([k, e]) => (k !== 'FEDSIM_API_TOKEN' && e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : []));
      if (role === null) {
        expect(secrets, `${name} needs no NATS login`).toEqual([]);
        continue;
      }
      expect(secrets).toEqual([
        { name: secretName(role), key: 'NATS_USER' },
        { name: secretName(role), key: 'NATS_PASSWORD' },
      ]);
      expect(env.get('NATS_USER')?.valueFrom?.secretKeyRef?.key).toBe('NATS_USER');
      const url = new URL(env.get('NATS_URL')!.value!);
      const objects = rendered(dir);
      if (ownNats(objects)) {
        const service = find(objects, 'Service', url.hostname).spec as { ports: { name: string; port: number }[] };
        expect(service.ports.find((p) => p.name === 'client')?.port).toBe(Number(url.port));
      } else {
        expect([url.hostname, Number(url.port)]).toEqual([HELM_NATS.service, HELM_NATS.clientPort]);
      }
      expect(['nats:', 'tls:']).toContain(url.protocol);
      // The init container waits for the same server the process will connect to.
      for (const init of w.pod.initContainers ?? []) {
        const waited = new URL(envOf(init).get('NATS_URL')!.value!);
        expect([waited.hostname, waited.port], `${name}: ${init.name}`).toEqual([url.hostname, url.port]);
      }
      if (url.protocol === 'tls:') {
        // tls:// without a CA to verify against would trust nothing (or, worse, anything).
        const ca = env.get('NATS_TLS_CA')?.value;
        expect(ca, name).toBeDefined();
        const mount = container.volumeMounts?.find((m) => ca!.startsWith(`${m.mountPath}/`));
        const volume = w.pod.volumes?.find((v) => v.name === mount?.name);
        expect(
          volume?.secret?.items?.map((i) => i.key),
          `${name} sees only the CA of the TLS secret`,
        ).toEqual(['ca.crt']);
      }
    }
  });

  it('probes the health endpoints on the ports the commands serve', () => {
    for (const { workload: w, container } of fedsimContainers(rendered(dir))) {
      const name = w.object.metadata.name;
      const args = container.args ?? [];
      const served = args[0] === 'run' ? flagValue(args, '--serve') : args[0] === 'worker' ? flagValue(args, '--health-port') : flagValue(args, '--port');
      expect(served, `${name}: serves HTTP`).toBeDefined();
      expect(
        container.ports?.map((p) => p.containerPort),
        name,
      ).toEqual([Number(served)]);
      expect([8080, 9464]).toContain(Number(served));
      if (args[0] === 'serve') expect(flagValue(args, '--host'), 'serve must listen beyond loopback').toBe('0.0.0.0');
      expect(container.livenessProbe?.httpGet?.path, name).toBe('/healthz');
      expect(container.readinessProbe?.httpGet?.path, name).toBe('/readyz');
      for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
        if (!probe) continue;
        expect(['/healthz', '/readyz']).toContain(probe.httpGet?.path);
        expect(portNumber(container, probe.httpGet!.port), `${name} probe port ${probe.httpGet!.port}`).toBe(Number(served));
      }
      if (w.annotations['prometheus.io/scrape'] === 'true') {
        expect(w.annotations['prometheus.io/port']).toBe(served);
        expect(w.annotations['prometheus.io/path']).toBe('/metrics');
      }
    }
  });

  it('runs the scenario of its ConfigMap under the run name the workers, KEDA and NATS use', () => {
    const objects = rendered(dir);
    const scenario = scenarioOf(objects);
    const coordinator = workload(objects, 'Job', 'fedsim-coordinator');
    const c = coordinator.pod.containers[0]!;
    expect(c.args?.slice(0, 2)[0]).toBe('run');
    const scenarioPath = c.args![1]!;
    const scenarioMount = c.volumeMounts!.find((m) => scenarioPath.startsWith(`${m.mountPath}/`))!;
    expect(coordinator.pod.volumes?.find((v) => v.name === scenarioMount.name)?.configMap?.name).toBe('fedsim-scenario');
    expect(posix.basename(scenarioPath)).toBe('scenario.yaml');
    // Only the worker Deployment trains, over NATS, and the run folder lands on the runs volume.
    expect(flagValue(c.args, '--workers')).toBe('0');
    expect(scenario.system.workers).toBe(0);
    expect(scenario.system.transport).toBe('nats');
    const runsMount = c.volumeMounts!.find((m) => scenario.output.dir.startsWith(`${m.mountPath}/`));
    expect(coordinator.pod.volumes?.find((v) => v.name === runsMount?.name)?.persistentVolumeClaim?.claimName, 'output.dir on the runs PVC').toBe(
      'fedsim-runs',
    );
    const results = workload(objects, 'Deployment', 'fedsim-results').pod.containers[0]!;
    expect(flagValue(results.args, '--runs-dir')).toBe(scenario.output.dir);

    const worker = workload(objects, 'Deployment', 'fedsim-worker').pod.containers[0]!;
    expect(worker.args?.[0]).toBe('worker');
    expect(flagValue(worker.args, '--run')).toBe(scenario.name);
    expect(worker.args).toContain('--keep-alive');

    if (ownNats(objects)) expect(configData(objects, 'nats-config')['auth.conf']).toBe(natsAuthorizationBlock(scenario.name));
    for (const so of objects.filter((o) => o.kind === 'ScaledObject')) {
      const trigger = only((so.spec as { triggers: { type: string; metadata: Record<string, string> }[] }).triggers, 'trigger');
      expect(trigger.metadata.consumer).toBe(workerConsumer(scenario.name));
    }
  });

  it('deploys coordinator and worker from one image version', () => {
    const objects = rendered(dir);
    const image = (kind: string, name: string) => parseImage(workload(objects, kind, name).pod.containers[0]!.image);
    const coordinator = image('Job', 'fedsim-coordinator');
    const worker = image('Deployment', 'fedsim-worker');
    expect(coordinator.tag ?? coordinator.digest).toBeTruthy();
    expect(worker.tag).toBe(coordinator.tag);
    // The GPU overlay's workers use the CUDA variant of the same image.
    expect([coordinator.name, `${coordinator.name}-gpu`]).toContain(worker.name);
    expect(image('Deployment', 'fedsim-results')).toEqual(coordinator);
    // Init containers run the same image as their pod (nothing else to pull).
    for (const w of workloads(objects)) {
      for (const init of w.pod.initContainers ?? []) expect(init.image, `${w.object.metadata.name}: ${init.name}`).toBe(w.pod.containers[0]!.image);
    }
  });

  it('configures NATS as the clients and KEDA expect', () => {
    const objects = rendered(dir);
    if (!ownNats(objects)) {
      // NATS comes from the Helm chart: nothing of the base's NATS may be left to collide with it.
      expect(objects.filter((o) => ['nats', 'nats-headless', 'nats-config'].includes(o.metadata.name)).map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([]);
      return;
    }
    const nats = workload(objects, 'StatefulSet', 'nats');
    const container = only(nats.pod.containers, 'NATS container');
    const config = configData(objects, 'nats-config');
    const conf = config['nats-server.conf']!;
    const configMount = container.volumeMounts!.find((m) => nats.pod.volumes?.find((v) => v.name === m.name)?.configMap?.name === 'nats-config')!;
    expect(container.command?.join(' ')).toContain(`${configMount.mountPath}/nats-server.conf`);
    for (const include of conf.matchAll(/^include\s+\.\/(\S+)$/gm)) expect(Object.keys(config)).toContain(include[1]);
    const port = (key: string) => Number(new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(conf)?.[1]);
    expect(portNumber(container, 'client')).toBe(port('port'));
    expect(portNumber(container, 'monitor')).toBe(port('http_port'));
    const storeDir = /store_dir:\s*(\S+)/.exec(conf)?.[1];
    const dataMount = container.volumeMounts!.find((m) => m.mountPath === storeDir);
    expect(nats.claimTemplates, 'JetStream stores on the PersistentVolume').toContain(dataMount?.name);
    // auth.conf reads each role's password from the server's environment, filled from that role's Secret.
    const env = envOf(container);
    for (const role of NATS_ROLES) {
      expect(config['auth.conf']).toContain(`password: $${passwordVariable(role)}`);
      expect(env.get(passwordVariable(role))?.valueFrom?.secretKeyRef).toEqual({ name: secretName(role), key: 'NATS_PASSWORD' });
    }
    // fedsim pods must carry the label the NetworkPolicy admits to the client port.
    const policy = find(objects, 'NetworkPolicy', 'nats').spec as {
      ingress: { from: { podSelector?: { matchLabels?: Record<string, string> } }[]; ports: { port: number }[] }[];
    };
    const clientRule = policy.ingress.find((r) => r.ports.some((p) => p.port === port('port')))!;
    const admitted = clientRule.from[0]!.podSelector!.matchLabels!;
    for (const { workload: w } of fedsimContainers(objects)) {
      for (const [k, v] of Object.entries(admitted)) expect(w.labels[k], `${w.object.metadata.name} reaches NATS`).toBe(v);
    }
  });

  it("keeps the API's port to fedsim's pods and labelled Prometheus namespaces", () => {
    const objects = rendered(dir);
    const policy = find(objects, 'NetworkPolicy', 'fedsim-api').spec as {
      podSelector: { matchExpressions: { key: string; operator: string; values: string[] }[] };
      ingress: {
        from: { podSelector?: { matchLabels: Record<string, string> }; namespaceSelector?: { matchLabels: Record<string, string> } }[];
        ports: { port: number }[];
      }[];
    };
    const [selector] = policy.podSelector.matchExpressions;
    // Exactly the pods that serve the API (they read its token) are behind the policy.
    const servers = fedsimContainers(objects).filter(({ container }) => envOf(container).has('FEDSIM_API_TOKEN'));
    expect(selector).toMatchObject({ key: 'app.kubernetes.io/name', operator: 'In' });
    expect([...selector!.values].sort()).toEqual(servers.map(({ workload: w }) => w.labels['app.kubernetes.io/name']).sort());
    for (const { container } of servers) expect(policy.ingress.flatMap((r) => r.ports.map((p) => p.port))).toEqual([portNumber(container, 'http')]);
    expect(policy.ingress[0]!.from).toEqual([
      { podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'fedsim' } } },
      { namespaceSelector: { matchLabels: { 'fedsim.dev/scrape': 'true' } } },
    ]);
    // The load Jobs call the API: their pods carry the admitted label and the token.
    for (const job of workloads(rendered('load')).filter((w) => w.object.kind === 'Job')) {
      expect(job.labels['app.kubernetes.io/part-of'], job.object.metadata.name).toBe('fedsim');
      expect(envOf(job.pod.containers[0]!).get('FEDSIM_API_TOKEN')?.valueFrom?.secretKeyRef).toEqual({ name: 'fedsim-api-token', key: 'FEDSIM_API_TOKEN' });
    }
  });

  it('scales the workers on the run task consumer when KEDA is in, and documents kubectl scale otherwise', () => {
    const objects = rendered(dir);
    const scenario = scenarioOf(objects);
    const worker = workload(objects, 'Deployment', 'fedsim-worker');
    const scaled = objects.filter((o) => o.kind === 'ScaledObject');
    if (scaled.length === 0) {
      expect((worker.object.spec as { replicas?: number }).replicas).toBeGreaterThan(0);
      return;
    }
    const so = only(scaled, 'ScaledObject').spec as {
      scaleTargetRef: { kind?: string; name: string };
      minReplicaCount: number;
      maxReplicaCount: number;
      triggers: { type: string; metadata: Record<string, string> }[];
    };
    expect(so.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'fedsim-worker' });
    // Replicas in the manifest would fight the HPA on every apply.
    expect((worker.object.spec as { replicas?: number }).replicas).toBeUndefined();
    const trigger = only(so.triggers, 'trigger');
    expect(trigger.type).toBe('nats-jetstream');
    const namespace = worker.object.metadata.namespace;
    let endpoint = `${HELM_NATS.headless}.${namespace}.svc.cluster.local:${HELM_NATS.monitorPort}`;
    if (ownNats(objects)) {
      const service = find(objects, 'Service', 'nats');
      const monitorPort = (service.spec as { ports: { name: string; port: number }[] }).ports.find((p) => p.name === 'monitor')!.port;
      endpoint = `nats.${namespace}.svc.cluster.local:${monitorPort}`;
    }
    expect(trigger.metadata).toMatchObject({
      natsServerMonitoringEndpoint: endpoint,
      account: '$G',
      stream: TASK_STREAM,
      consumer: workerConsumer(scenario.name),
    });
    expect(so.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(so.maxReplicaCount).toBeGreaterThanOrEqual(so.minReplicaCount);
  });

  it('resolves every Service, volume and reference', () => {
    const objects = rendered(dir);
    const pods = workloads(objects);
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      const spec = service.spec as { selector: Record<string, string>; ports: { targetPort: string | number }[] };
      const targets = pods.filter((w) => Object.entries(spec.selector).every(([k, v]) => w.labels[k] === v));
      expect(targets.length, `Service ${service.metadata.name} selects a workload`).toBe(1);
      for (const port of spec.ports) {
        expect(
          targets[0]!.pod.containers.some((c) => portNumber(c, port.targetPort) !== undefined),
          `Service ${service.metadata.name} → ${port.targetPort}`,
        ).toBe(true);
      }
    }
    const names = (kind: string) => new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name));
    const configMaps = names('ConfigMap');
    const claims = names('PersistentVolumeClaim');
    for (const w of pods) {
      const where = w.object.metadata.name;
      for (const volume of w.pod.volumes ?? []) {
        if (volume.configMap)
          expect(configMaps.has(volume.configMap.name) || EXTERNAL_CONFIGMAPS.has(volume.configMap.name), `${where}: ConfigMap ${volume.configMap.name}`).toBe(
            true,
          );
        if (volume.secret) expect(EXTERNAL_SECRETS.has(volume.secret.secretName), `${where}: Secret ${volume.secret.secretName}`).toBe(true);
        if (volume.persistentVolumeClaim)
          expect(claims.has(volume.persistentVolumeClaim.claimName), `${where}: PVC ${volume.persistentVolumeClaim.claimName}`).toBe(true);
      }
      for (const container of w.pod.containers) {
        for (const e of container.env ?? []) {
          if (e.valueFrom?.secretKeyRef)
            expect(EXTERNAL_SECRETS.has(e.valueFrom.secretKeyRef.name), `${where}: Secret ${e.valueFrom.secretKeyRef.name}`).toBe(true);
        }
        const mounts = container.volumeMounts ?? [];
        const volumeNames = new Set([...(w.pod.volumes ?? []).map((v) => v.name), ...w.claimTemplates]);
        for (const mount of mounts) expect(volumeNames.has(mount.name), `${where}: volume ${mount.name}`).toBe(true);
        // A mount inside another (read-only) volume cannot be created by the kubelet.
        for (const a of mounts)
          for (const b of mounts) if (a !== b) expect(b.mountPath.startsWith(`${a.mountPath}/`), `${where}: ${b.mountPath} inside ${a.mountPath}`).toBe(false);
        // tsx keeps its compile cache in the temp folder.
        if (isFedsim(container) && container.securityContext?.readOnlyRootFilesystem)
          expect(
            mounts.map((m) => m.mountPath),
            `${where}: a writable /tmp`,
          ).toContain('/tmp');
      }
    }
  });

  it('runs as the image user, non-root, with resources bounded', () => {
    for (const w of workloads(rendered(dir))) {
      const where = w.object.metadata.name;
      expect(w.pod.securityContext?.runAsNonRoot, where).toBe(true);
      for (const container of [...(w.pod.initContainers ?? []), ...w.pod.containers]) {
        expect(container.securityContext?.allowPrivilegeEscalation, where).toBe(false);
        expect(Object.keys(container.resources?.requests ?? {}), where).toEqual(expect.arrayContaining(['cpu', 'memory']));
        expect(Object.keys(container.resources?.limits ?? {}), where).toContain('memory');
        if (isFedsim(container)) expect(w.pod.securityContext?.runAsUser, where).toBe(IMAGE_UID);
      }
    }
  });
});

describe('overlay specifics', () => {
  it('gpu: workers ask for a GPU and run the tensorflow backend of the CUDA image', () => {
    const objects = rendered('overlays/gpu');
    const worker = workload(objects, 'Deployment', 'fedsim-worker');
    const c = worker.pod.containers[0]!;
    expect(parseImage(c.image).name).toBe('fedsim-gpu');
    expect(c.resources?.limits?.['nvidia.com/gpu']).toBe(1);
    expect(c.resources?.requests?.['nvidia.com/gpu']).toBe(1);
    expect(flagValue(c.args, '--backend')).toBe('tensorflow');
    expect(worker.pod.tolerations?.map((t) => t.key)).toContain('nvidia.com/gpu');
    // The coordinator stays on the CPU image and asks for no GPU.
    const coordinator = workload(objects, 'Job', 'fedsim-coordinator').pod.containers[0]!;
    expect(parseImage(coordinator.image).name).toBe('fedsim');
    expect(coordinator.resources?.limits?.['nvidia.com/gpu']).toBeUndefined();
  });

  it('local: the locally built image, small tier, no KEDA', () => {
    const objects = rendered('overlays/local');
    const worker = workload(objects, 'Deployment', 'fedsim-worker');
    expect(worker.pod.containers[0]!.image).toBe('fedsim:dev');
    expect(worker.pod.containers[0]!.resources?.requests).toEqual({ cpu: '500m', memory: '1Gi' });
    expect(objects.some((o) => o.kind === 'ScaledObject')).toBe(false);
  });

  it('local-tls: NATS serves TLS from the mounted certificate, clients keep their login', () => {
    const objects = rendered('overlays/local-tls');
    const tls = configData(objects, 'nats-config')['tls.conf']!;
    const nats = workload(objects, 'StatefulSet', 'nats');
    const mount = nats.pod.containers[0]!.volumeMounts!.find(
      (m) => nats.pod.volumes?.find((v) => v.name === m.name)?.secret?.secretName === 'fedsim-nats-tls',
    )!;
    expect(tls).toContain(`cert_file: "${mount.mountPath}/tls.crt"`);
    expect(tls).toContain(`key_file: "${mount.mountPath}/tls.key"`);
    for (const name of ['fedsim-coordinator', 'fedsim-worker']) {
      const kind = name === 'fedsim-coordinator' ? 'Job' : 'Deployment';
      const env = envOf(workload(objects, kind, name).pod.containers[0]!);
      expect([...env.keys()].filter((k) => k !== 'FEDSIM_API_TOKEN').sort()).toEqual([
        'FEDSIM_LOG_LEVEL',
        'NATS_PASSWORD',
        'NATS_TLS_CA',
        'NATS_URL',
        'NATS_USER',
      ]);
    }
  });

  it("nats-helm: the base less its own NATS, plus KEDA pointed at the chart's headless Service", () => {
    const base = rendered('base');
    const objects = rendered('overlays/nats-helm');
    const removed = [
      'apps/v1/StatefulSet/fedsim/nats',
      'v1/Service/fedsim/nats',
      'v1/Service/fedsim/nats-headless',
      'v1/ConfigMap/fedsim/nats-config',
      'networking.k8s.io/v1/NetworkPolicy/fedsim/nats',
    ];
    const baseIds = base.map(objectId);
    expect(baseIds).toEqual(expect.arrayContaining(removed));
    const expected = [...baseIds.filter((id) => !removed.includes(id)), 'keda.sh/v1alpha1/ScaledObject/fedsim/fedsim-worker'];
    expect(objects.map(objectId).sort()).toEqual(expected.sort());
    // The objects it keeps are the base's, untouched but for the worker's replicas (KEDA's).
    for (const object of objects.filter((o) => o.kind !== 'ScaledObject')) {
      const original = base.find((o) => objectId(o) === objectId(object))!;
      if (object.kind === 'Deployment' && object.metadata.name === 'fedsim-worker') delete (original.spec as { replicas?: number }).replicas;
      expect(object, objectId(object)).toEqual(original);
    }
    const trigger = only((find(objects, 'ScaledObject', 'fedsim-worker').spec as { triggers: { metadata: Record<string, string> }[] }).triggers, 'trigger');
    expect(trigger.metadata.natsServerMonitoringEndpoint).toBe(`${HELM_NATS.headless}.fedsim.svc.cluster.local:${HELM_NATS.monitorPort}`);
  });

  it('tier-cpu-large renders onto the base (it is offered to users, not used by an overlay)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedsim-tier-'));
    try {
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        // Relative: kustomize refuses an absolute path as another kustomization's root.
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${relative(dir, join(K8S, 'base'))}\ncomponents:\n  - ${relative(dir, join(K8S, 'components/tier-cpu-large'))}\n`,
      );
      const objects = renderKustomization(dir);
      expect(objects.flatMap((o) => validateManifest(o))).toEqual([]);
      expect(workload(objects, 'Deployment', 'fedsim-worker').pod.containers[0]!.resources?.requests).toEqual({ cpu: '4', memory: '4Gi' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the rendered NATS configuration is one nats-server accepts', () => {
    const binary = findNatsServerBinary();
    if (!binary) throw new Error('nats-server is not on PATH: this check needs it (apt-get install nats-server; .ci/run installs it)');
    const config = configData(rendered('overlays/local'), 'nats-config');
    const dir = mkdtempSync(join(tmpdir(), 'fedsim-nats-conf-'));
    try {
      for (const [key, text] of Object.entries(config))
        writeFileSync(join(dir, key), key === 'nats-server.conf' ? text.replace('store_dir: /data', `store_dir: ${join(dir, 'js')}`) : text);
      const out = execFileSync(binary, ['-c', join(dir, 'nats-server.conf'), '-t'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, POD_NAME: 'nats-0', FEDSIM_COORDINATOR_PASSWORD: 'Pcoordinator', FEDSIM_WORKER_PASSWORD: 'Pworker' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(out + '').toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/README.md', () => {
  const readme = readFileSync(join(ROOT, 'deploy/README.md'), 'utf8');

  it('names only files and kustomizations that exist', () => {
    const paths = [...new Set([...readme.matchAll(/(?<![\w/.-])((?:deploy|test\/load|bench)\/[\w./-]*[\w/])/g)].map((m) => m[1]!))];
    // Written by `fedsim deploy creds` or make-certificate.sh, not in the repository.
    const generated = (p: string) => p.startsWith('deploy/k8s/creds');
    expect(paths.filter((p) => !generated(p) && !existsSync(join(ROOT, p)))).toEqual([]);
    for (const [, dir] of readme.matchAll(/kubectl (?:(?:apply|delete) -k|kustomize) ([\w./-]+)/g))
      expect(existsSync(join(ROOT, dir!, 'kustomization.yaml')), dir).toBe(true);
  });

  it('uses the names the manifests use', () => {
    const base = rendered('base');
    const all = [...base, ...rendered('load')];
    for (const [, name] of readme.matchAll(/(?:deployment|job|statefulset|svc)\/([\w-]+)/g)) {
      expect(
        all.some((o) => o.metadata.name === name),
        name,
      ).toBe(true);
    }
    expect(readme).toContain(`--run ${scenarioOf(base).name}`);
    expect(readme).toContain(`workers-${scenarioOf(base).name}`);
  });
});

describe('container images', () => {
  const dockerfile = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
  const gpu = readFileSync(join(ROOT, 'deploy/Dockerfile.gpu'), 'utf8');
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  /** The final stage: from its FROM to the end. */
  const runtimeStage = (text: string) => text.slice(text.lastIndexOf('\nFROM '));
  const arg = (text: string, name: string) => new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(text)?.[1];

  it.each([
    ['Dockerfile', dockerfile],
    ['Dockerfile.gpu', gpu],
  ])('%s: non-root runtime with the fedsim entrypoint', (_name, text) => {
    const stage = runtimeStage(text);
    expect(stage).toMatch(/^USER 10001$/m);
    expect(stage).toMatch(/^WORKDIR \/app$/m);
    expect(stage).toContain('ENTRYPOINT ["node", "bin/fedsim.js"]');
    expect(stage).toMatch(/^EXPOSE 8080 9464$/m);
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(text).toMatch(/npm run build:dashboard/);
    // Every COPY from the build context names something that exists and is not ignored.
    for (const match of text.matchAll(/^COPY (?!--from)(\S+) /gm)) {
      const source = match[1]!;
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      expect(
        ignore.some((pattern) => pattern.replace(/\/$/, '') === source.replace(/\/$/, '')),
        `${source} is in .dockerignore`,
      ).toBe(false);
    }
    expect(commandSpec('run').options.has('--serve')).toBe(true);
  });

  it('runtime images: node:20-bookworm-slim, and CUDA 11 with cuDNN 8 for tfjs-node-gpu', () => {
    expect(arg(dockerfile, 'NODE_IMAGE')).toBe('node:20-bookworm-slim');
    expect(runtimeStage(dockerfile)).toMatch(/^FROM \$\{NODE_IMAGE\} AS runtime$/m);
    // libtensorflow 2.9 (tfjs-node-gpu 4.x) opens libcudart.so.11.0 and libcudnn.so.8.
    expect(arg(gpu, 'CUDA_IMAGE')).toMatch(/^nvidia\/cuda:11\.\d+\.\d+-cudnn8-runtime-ubuntu22\.04$/);
    expect(runtimeStage(gpu)).toMatch(/^FROM \$\{CUDA_IMAGE\} AS runtime$/m);
    expect(gpu).toMatch(/npm rebuild @tensorflow\/tfjs-node-gpu/);
    expect(dockerfile).toMatch(/rm -rf node_modules\/@tensorflow\/tfjs-node-gpu/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      optionalDependencies?: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.optionalDependencies ?? {})).toEqual(expect.arrayContaining(['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']));
    // bin/fedsim.js runs the sources through tsx, so the runtime needs it as a production dependency.
    expect(Object.keys(pkg.dependencies)).toContain('tsx');
  });

  it('.dockerignore keeps credentials, dependencies and outputs out of the build context', () => {
    expect(ignore).toEqual(expect.arrayContaining(['.git', 'node_modules', 'runs', 'deploy', '.env']));
  });
});
