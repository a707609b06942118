/**
 * Renders the kustomizations under deploy/k8s without kustomize or kubectl, for tests that run
 * where neither exists. It implements only the subset these manifests use and refuses anything
 * else by name, so a manifest can never silently rely on a feature rendered wrongly here:
 *
 *   Kustomization / Component: resources (files and kustomization folders), components,
 *   namespace, configMapGenerator (files, literals; behavior create | merge | replace) with
 *   disableNameSuffixHash, patches (strategic-merge files or inline, optional target by
 *   kind/name; `$patch: delete` removes an object), images (newName, newTag, digest).
 *
 * Order follows kustomize: resources, then components, then this level's generators, patches,
 * images and namespace. Strategic merge uses the Kubernetes merge keys of the fields patched
 * here (containers, env, volumes, volumeMounts, ports, …); other lists are replaced, and `null`
 * deletes a field, as in kustomize.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export class KustomizeError extends Error {}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'components', 'patches', 'images', 'configMapGenerator', 'generatorOptions']);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'CustomResourceDefinition', 'PriorityClass', 'IngressClass', 'RuntimeClass']);

/** Renders the kustomization in `dir` to its list of objects, as `kubectl kustomize dir` would. */
export function renderKustomization(dir: string): K8sObject[] {
  const objects = build(resolve(dir), 'Kustomization', []);
  const seen = new Set<string>();
  for (const object of objects) {
    const id = objectId(object);
    if (seen.has(id)) throw new KustomizeError(`${dir}: two objects with the id ${id}`);
    seen.add(id);
  }
  return objects;
}

/** The folders under `root` that hold a kustomization (Kustomization or Component). */
export function findKustomizations(root: string): { dir: string; kind: 'Kustomization' | 'Component' }[] {
  const found: { dir: string; kind: 'Kustomization' | 'Component' }[] = [];
  const walk = (dir: string) => {
    const file = kustomizationFile(dir);
    if (file) {
      const kind = (readYaml(file) as JsonObject).kind;
      found.push({ dir, kind: kind === 'Component' ? 'Component' : 'Kustomization' });
    }
    for (const entry of readdirSorted(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
    }
  };
  walk(resolve(root));
  return found;
}

export function objectId(object: K8sObject): string {
  return `${object.apiVersion}/${object.kind}/${object.metadata.namespace ?? '~'}/${object.metadata.name}`;
}

function build(dir: string, expected: 'Kustomization' | 'Component', inherited: K8sObject[]): K8sObject[] {
  const file = kustomizationFile(dir);
  if (!file) throw new KustomizeError(`${dir}: no kustomization.yaml`);
  const k = readYaml(file) as JsonObject;
  const where = relative(process.cwd(), file) || file;
  for (const key of Object.keys(k)) {
    if (!SUPPORTED_FIELDS.has(key)) throw new KustomizeError(`${where}: field "${key}" is not supported by kustomize-lite (deploy/tools/kustomize-lite.ts)`);
  }
  const kind = k.kind ?? 'Kustomization';
  if (kind !== expected) throw new KustomizeError(`${where}: expected kind ${expected} (got ${String(kind)})`);
  const expectedApi = expected === 'Component' ? 'kustomize.config.k8s.io/v1alpha1' : 'kustomize.config.k8s.io/v1beta1';
  if (k.apiVersion !== expectedApi) throw new KustomizeError(`${where}: expected apiVersion ${expectedApi} (got ${String(k.apiVersion)})`);

  let objects: K8sObject[] = [...inherited];
  for (const entry of stringList(k.resources, `${where}: resources`)) {
    const path = resolve(dir, entry);
    if (!existsSync(path)) throw new KustomizeError(`${where}: resource ${entry} does not exist`);
    if (statSync(path).isDirectory()) objects.push(...build(path, 'Kustomization', []));
    else objects.push(...readObjects(inside(dir, entry, where)));
  }
  for (const entry of stringList(k.components, `${where}: components`)) {
    objects = build(resolve(dir, entry), 'Component', objects);
  }

  const options = (k.generatorOptions ?? {}) as JsonObject;
  for (const key of Object.keys(options)) {
    if (key !== 'disableNameSuffixHash') throw new KustomizeError(`${where}: generatorOptions.${key} is not supported`);
  }
  const generators = (k.configMapGenerator ?? []) as JsonObject[];
  if (generators.length > 0 && options.disableNameSuffixHash !== true) {
    // With hashes, kustomize renames the ConfigMap and rewrites every reference to it; this
    // renderer does neither, so it insists on plain names.
    throw new KustomizeError(`${where}: configMapGenerator needs generatorOptions.disableNameSuffixHash: true here`);
  }
  for (const generator of generators) objects = applyConfigMapGenerator(objects, generator, dir, where);

  for (const patch of (k.patches ?? []) as JsonObject[]) objects = applyPatch(objects, patch, dir, where);
  for (const image of (k.images ?? []) as JsonObject[]) applyImage(objects, image, where);
  if (typeof k.namespace === 'string') {
    for (const object of objects) if (!CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = k.namespace;
  }
  return objects;
}

function applyConfigMapGenerator(objects: K8sObject[], generator: JsonObject, dir: string, where: string): K8sObject[] {
  for (const key of Object.keys(generator)) {
    if (!['name', 'files', 'literals', 'behavior'].includes(key)) throw new KustomizeError(`${where}: configMapGenerator.${key} is not supported`);
  }
  const name = generator.name;
  if (typeof name !== 'string') throw new KustomizeError(`${where}: configMapGenerator entry without a name`);
  const data: Record<string, string> = {};
  for (const entry of stringList(generator.files, `${where}: configMapGenerator ${name} files`)) {
    const [key, path] = entry.includes('=') ? (entry.split('=', 2) as [string, string]) : [basename(entry), entry];
    if (key in data) throw new KustomizeError(`${where}: ConfigMap ${name} has the key ${key} twice`);
    data[key] = readFileSync(inside(dir, path, where), 'utf8');
  }
  for (const literal of stringList(generator.literals, `${where}: configMapGenerator ${name} literals`)) {
    const at = literal.indexOf('=');
    if (at <= 0) throw new KustomizeError(`${where}: literal "${literal}" is not key=value`);
    data[literal.slice(0, at)] = literal.slice(at + 1);
  }
  const behavior = generator.behavior ?? 'create';
  const existing = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
  if (behavior === 'create') {
    if (existing.length > 0) throw new KustomizeError(`${where}: ConfigMap ${name} already exists (use behavior: merge or replace)`);
    return [...objects, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data }];
  }
  if (behavior !== 'merge' && behavior !== 'replace') throw new KustomizeError(`${where}: behavior ${String(behavior)} is not supported`);
  if (existing.length !== 1) throw new KustomizeError(`${where}: behavior ${behavior} needs exactly one ConfigMap ${name} (found ${existing.length})`);
  const target = existing[0]!;
  target.data = behavior === 'merge' ? { ...((target.data as Record<string, string>) ?? {}), ...data } : data;
  return objects;
}

function applyPatch(objects: K8sObject[], entry: JsonObject, dir: string, where: string): K8sObject[] {
  for (const key of Object.keys(entry)) {
    if (!['path', 'patch', 'target'].includes(key)) throw new KustomizeError(`${where}: patches[].${key} is not supported`);
  }
  const source = typeof entry.path === 'string' ? entry.path : 'inline patch';
  const text = typeof entry.path === 'string' ? readFileSync(inside(dir, entry.path, where), 'utf8') : typeof entry.patch === 'string' ? entry.patch : null;
  if (text === null) throw new KustomizeError(`${where}: a patch needs path or patch`);
  const docs = parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new KustomizeError(`${where}: ${source}: ${d.errors[0]!.message}`);
      return d.toJS() as Json;
    })
    .filter((d) => d !== null);
  if (docs.length === 0) throw new KustomizeError(`${where}: ${source}: an empty patch`);
  const target = (entry.target ?? null) as JsonObject | null;
  if (target) {
    for (const key of Object.keys(target)) {
      if (!['kind', 'name'].includes(key)) throw new KustomizeError(`${where}: patches[].target.${key} is not supported`);
    }
    // As in kustomize: a target applies to one patch only.
    if (docs.length > 1) throw new KustomizeError(`${where}: ${source}: a patch with a target must be one document`);
  }
  let out = objects;
  for (const patch of docs) {
    if (Array.isArray(patch) || typeof patch !== 'object') throw new KustomizeError(`${where}: ${source}: JSON 6902 patches are not supported; use a strategic-merge patch`);
    const kind = (target?.kind as string | undefined) ?? (patch.kind as string | undefined);
    const name = (target?.name as string | undefined) ?? ((patch.metadata as JsonObject | undefined)?.name as string | undefined);
    if (!kind || !name) throw new KustomizeError(`${where}: ${source}: the patch names no kind and metadata.name`);
    const matches = out.filter((o) => o.kind === kind && o.metadata.name === name);
    if (matches.length === 0) throw new KustomizeError(`${where}: ${source}: no ${kind} ${name} to patch`);
    if (patch.$patch === 'delete') {
      out = out.filter((o) => !matches.includes(o));
      continue;
    }
    const body = { ...patch };
    // The patch's own identity fields select the target; they are not merged into it.
    delete body.apiVersion;
    delete body.kind;
    if (body.metadata && typeof body.metadata === 'object' && !Array.isArray(body.metadata)) {
      const { name: _n, namespace: _ns, ...restOfMetadata } = body.metadata;
      body.metadata = restOfMetadata;
      if (Object.keys(restOfMetadata).length === 0) delete body.metadata;
    }
    out = out.map((o) => (matches.includes(o) ? (strategicMerge(o as unknown as JsonObject, body, [], o.kind) as unknown as K8sObject) : o));
  }
  return out;
}

/**
 * The patchMergeKey of a list, by field name and where it sits (list items appear in the path
 * as "[]"); null: the list is replaced.
 */
function mergeKey(path: string[], kind: string): string | null {
  const field = path.at(-1);
  const inContainer = path.at(-2) === '[]' && ['containers', 'initContainers', 'ephemeralContainers'].includes(path.at(-3) ?? '');
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'imagePullSecrets':
    case 'volumes':
      return 'name';
    case 'env':
      return inContainer ? 'name' : null;
    case 'volumeMounts':
      return inContainer ? 'mountPath' : null;
    case 'ports':
      if (kind === 'Service' && path.length === 2) return 'port';
      return inContainer ? 'containerPort' : null;
    case 'topologySpreadConstraints':
      return 'topologyKey';
    default:
      return null;
  }
}

function strategicMerge(target: Json, patch: Json, path: string[], kind: string): Json {
  if (patch === null) return null;
  if (typeof patch !== 'object' || Array.isArray(patch) || target === null || typeof target !== 'object' || Array.isArray(target)) {
    if (Array.isArray(patch)) return mergeList(Array.isArray(target) ? target : [], patch, path, kind);
    return structuredClone(patch);
  }
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch.$patch !== undefined) throw new KustomizeError(`$patch: ${String(patch.$patch)} at ${path.join('.')} is not supported`);
  const out: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = key in out ? strategicMerge(out[key]!, value, [...path, key], kind) : stripDirectives(value);
  }
  return out;
}

function mergeList(target: Json[], patch: Json[], path: string[], kind: string): Json[] {
  const key = mergeKey(path, kind);
  if (!key) return structuredClone(patch);
  const out = structuredClone(target) as JsonObject[];
  // Items a patch adds go after the existing ones, in the patch's order.
  for (const item of patch) {
    if (item === null || typeof item !== 'object' || Array.isArray(item) || item[key] === undefined) {
      throw new KustomizeError(`patch list ${path.join('.')}: every item needs its merge key "${key}"`);
    }
    const at = out.findIndex((existing) => existing[key] === item[key]);
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) {
      out[at] = strategicMerge(out[at]!, item, [...path, '[]'], kind) as JsonObject;
    } else {
      out.push(stripDirectives(item) as JsonObject);
    }
  }
  return out;
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === '$patch') throw new KustomizeError(`$patch: ${String(inner)} on a field the target does not have`);
    if (inner !== null) out[key] = stripDirectives(inner);
  }
  return out;
}

function applyImage(objects: K8sObject[], image: JsonObject, where: string): void {
  for (const key of Object.keys(image)) {
    if (!['name', 'newName', 'newTag', 'digest'].includes(key)) throw new KustomizeError(`${where}: images[].${key} is not supported`);
  }
  const name = image.name;
  if (typeof name !== 'string') throw new KustomizeError(`${where}: images[] without a name`);
  const visit = (node: Json, parentKey: string | null) => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, parentKey);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if ((parentKey === 'containers' || parentKey === 'initContainers') && typeof node.image === 'string') {
      const ref = parseImage(node.image);
      if (ref.name === name) {
        const newName = typeof image.newName === 'string' ? image.newName : ref.name;
        if (typeof image.digest === 'string') node.image = `${newName}@${image.digest}`;
        else {
          const tag = image.newTag !== undefined ? String(image.newTag) : ref.tag;
          node.image = `${newName}${tag ? `:${tag}` : ''}${!image.newTag && ref.digest ? `@${ref.digest}` : ''}`;
        }
      }
    }
    for (const [key, value] of Object.entries(node)) visit(value, key);
  };
  for (const object of objects) visit(object as unknown as JsonObject, null);
}

/** name[:tag][@digest]; a registry's port (host:5000/x) is part of the name. */
export function parseImage(image: string): { name: string; tag?: string; digest?: string } {
  const [rest, digest] = image.split('@', 2) as [string, string | undefined];
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), ...(digest ? { digest } : {}) };
  return { name: rest, ...(digest ? { digest } : {}) };
}

function readObjects(file: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length > 0) throw new KustomizeError(`${file}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value === null) continue;
    if (typeof value.apiVersion !== 'string' || typeof value.kind !== 'string' || typeof value.metadata?.name !== 'string') {
      throw new KustomizeError(`${file}: every document needs apiVersion, kind and metadata.name`);
    }
    out.push(value);
  }
  return out;
}

function readYaml(file: string): unknown {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  if (docs.length !== 1 || docs[0]!.errors.length > 0) throw new KustomizeError(`${file}: expected one YAML document${docs[0]?.errors[0] ? ` (${docs[0].errors[0].message})` : ''}`);
  return docs[0]!.toJS();
}

function kustomizationFile(dir: string): string | null {
  for (const name of KUSTOMIZATION_FILES) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return null;
}

/** kustomize's default load restriction: files (not kustomization folders) stay inside the root. */
function inside(dir: string, entry: string, where: string): string {
  const path = resolve(dir, entry);
  const rel = relative(dir, path);
  if (isAbsolute(entry) || rel.startsWith('..')) throw new KustomizeError(`${where}: ${entry} is outside the kustomization's folder (kustomize refuses it)`);
  if (!existsSync(path)) throw new KustomizeError(`${where}: ${entry} does not exist`);
  return path;
}

function stringList(value: Json | undefined, what: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new KustomizeError(`${what}: expected a list of strings`);
  return value as string[];
}

function readdirSorted(dir: string): string[] {
  // Sorted so that tests list kustomizations in a stable order.
  return readdirSync(dir).sort();
}
