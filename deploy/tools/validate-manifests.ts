/**
 * Offline schema validation of rendered manifests: Kubernetes kinds against the OpenAPI schemas
 * bundled in kubernetes-models, KEDA's ScaledObject (a CRD, absent there) against a zod schema
 * of the fields fedsim uses.
 *
 * The Kubernetes schemas accept unknown fields (the API server drops or rejects them only at
 * apply time), so a typo such as `periodSecond` would pass them. Validation therefore runs on a
 * copy whose every object records which fields the validator read; a field it never read is not
 * in the schema and is reported as unknown.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscalerBehavior } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerBehavior';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { z } from 'zod';
import type { K8sObject } from './kustomize.js';

interface ModelClass {
  new (data: never): { toJSON(): unknown; validate(): void };
  prototype: { validate(): void };
}

const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

/** Problems with one object ([] when valid), each as `path: what`. */
export function validateManifest(object: K8sObject): string[] {
  const key = `${object.apiVersion}/${object.kind}`;
  if (key === 'keda.sh/v1alpha1/ScaledObject') return validateScaledObject(object);
  const model = MODELS[key];
  if (!model) return [`${key}: no schema for this kind here (add it to deploy/tools/validate-manifests.ts)`];
  return validateStrict(model, object);
}

/** Schema errors, then fields the schema does not know. */
export function validateStrict(model: ModelClass, data: unknown): string[] {
  const read = new WeakMap<object, { target: Record<string, unknown> | unknown[]; seen: Set<PropertyKey> }>();
  const wrap = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const seen = new Set<PropertyKey>();
    const target = Array.isArray(value) ? value.map(wrap) : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wrap(v)]));
    const proxy = new Proxy(target, {
      get(t, property, receiver) {
        seen.add(property);
        return Reflect.get(t, property, receiver) as unknown;
      },
    });
    read.set(proxy, { target, seen });
    return proxy;
  };
  const copy = wrap(new model(data as never).toJSON());
  try {
    model.prototype.validate.call(copy);
  } catch (error) {
    return (error as Error).message.split(/, (?=data)/).map((m) => m.replace(/^data\/?/, '/'));
  }
  const unknown: string[] = [];
  const walk = (value: unknown, path: string) => {
    const entry = value !== null && typeof value === 'object' ? read.get(value) : undefined;
    if (!entry) return;
    const isList = Array.isArray(entry.target);
    for (const [k, v] of Object.entries(entry.target)) {
      if (!isList && !entry.seen.has(k)) unknown.push(`${path}/${k}: unknown field`);
      walk(v, `${path}/${k}`);
    }
  };
  walk(copy, '');
  return unknown;
}

const quantityString = z.string().regex(/^\d+$/, 'expected a whole number as a string');

const NATS_JETSTREAM_METADATA = z.strictObject({
  natsServerMonitoringEndpoint: z.string().regex(/^[a-z0-9.-]+:\d+$/, 'expected host:port without a scheme'),
  account: z.string().min(1),
  stream: z.string().min(1),
  consumer: z.string().min(1),
  lagThreshold: quantityString,
  activationLagThreshold: quantityString.optional(),
  useHttps: z.enum(['true', 'false']).optional(),
});

/** keda.sh/v1alpha1 ScaledObject, as documented for KEDA 2.x, limited to what fedsim uses. */
export const SCALED_OBJECT = z.strictObject({
  apiVersion: z.literal('keda.sh/v1alpha1'),
  kind: z.literal('ScaledObject'),
  metadata: z.strictObject({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z
    .strictObject({
      scaleTargetRef: z.strictObject({
        apiVersion: z.string().optional(),
        kind: z.string().optional(),
        name: z.string().min(1),
        envSourceContainerName: z.string().optional(),
      }),
      pollingInterval: z.number().int().positive().optional(),
      cooldownPeriod: z.number().int().nonnegative().optional(),
      initialCooldownPeriod: z.number().int().nonnegative().optional(),
      idleReplicaCount: z.number().int().nonnegative().optional(),
      minReplicaCount: z.number().int().nonnegative().optional(),
      maxReplicaCount: z.number().int().positive().optional(),
      fallback: z.strictObject({ failureThreshold: z.number().int().positive(), replicas: z.number().int().nonnegative() }).optional(),
      advanced: z
        .strictObject({
          restoreToOriginalReplicaCount: z.boolean().optional(),
          horizontalPodAutoscalerConfig: z
            .strictObject({
              name: z.string().optional(),
              behavior: z.unknown().optional(),
            })
            .optional(),
        })
        .optional(),
      triggers: z
        .array(
          z.strictObject({
            type: z.string().min(1),
            name: z.string().optional(),
            metricType: z.enum(['AverageValue', 'Value', 'Utilization']).optional(),
            useCachedMetrics: z.boolean().optional(),
            authenticationRef: z
              .strictObject({ name: z.string(), kind: z.enum(['TriggerAuthentication', 'ClusterTriggerAuthentication']).optional() })
              .optional(),
            // KEDA reads every metadata value as a string.
            metadata: z.record(z.string(), z.string()),
          }),
        )
        .min(1),
    })
    .refine((s) => s.minReplicaCount === undefined || s.maxReplicaCount === undefined || s.minReplicaCount <= s.maxReplicaCount, {
      message: 'minReplicaCount is above maxReplicaCount',
    }),
});

function validateScaledObject(object: K8sObject): string[] {
  const parsed = SCALED_OBJECT.safeParse(object);
  if (!parsed.success) return parsed.error.issues.map((i) => `/${i.path.join('/')}: ${i.message}`);
  const problems: string[] = [];
  const behavior = parsed.data.spec.advanced?.horizontalPodAutoscalerConfig?.behavior;
  // The same type as an HPA's spec.behavior, so the Kubernetes schema checks it.
  if (behavior !== undefined) {
    problems.push(
      ...validateStrict(HorizontalPodAutoscalerBehavior as unknown as ModelClass, behavior).map(
        (p) => `/spec/advanced/horizontalPodAutoscalerConfig/behavior${p}`,
      ),
    );
  }
  parsed.data.spec.triggers.forEach((trigger, i) => {
    if (trigger.type !== 'nats-jetstream') return;
    const metadata = NATS_JETSTREAM_METADATA.safeParse(trigger.metadata);
    if (!metadata.success) problems.push(...metadata.error.issues.map((issue) => `/spec/triggers/${i}/metadata/${issue.path.join('/')}: ${issue.message}`));
  });
  return problems;
}
