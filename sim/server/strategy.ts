// Per-write object preparation, as the real registry strategies do it: server-owned metadata,
// status kept apart from the main resource, generation bumps, finalizer rules, scale views.
import { randomBytes, randomUUID } from 'node:crypto';
import { ApiError, badRequest, conflict } from './errors.js';
import { apiVersionOf, type ResourceType } from './resource-types.js';
import { labelSelectorToString } from './selectors.js';
import { clone, getPath, isObject, jsonEqual, nowIso, setPath, type KubeObject } from './types.js';
import type { FieldCause } from '../schema/index.js';

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(length = 5): string {
  const bytes = randomBytes(length);
  return [...bytes].map((b) => NAME_ALPHABET[b % NAME_ALPHABET.length]).join('');
}

/** Everything outside metadata and status: what generation tracks. */
function specPart(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

export function specChanged(a: KubeObject, b: KubeObject): boolean {
  return !jsonEqual(specPart(a), specPart(b));
}

/** Checks the body's identity against the URL and fills apiVersion/kind. */
export function checkIdentity(t: ResourceType, version: string, namespace: string | undefined, body: unknown, urlName?: string): KubeObject {
  if (!isObject(body)) throw badRequest('the body of the request must be a JSON object');
  const obj = body as KubeObject;
  if (!isObject(obj.metadata)) obj.metadata = {};
  const expected = apiVersionOf(t.group, version);
  if (obj.apiVersion !== undefined && obj.apiVersion !== expected) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expected})`);
  }
  if (obj.kind !== undefined && obj.kind !== t.kind) {
    throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${t.kind})`);
  }
  obj.apiVersion = expected;
  obj.kind = t.kind;
  if (t.namespaced) {
    if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = namespace;
  } else {
    delete obj.metadata.namespace;
  }
  if (urlName !== undefined) {
    if (obj.metadata.name === undefined || obj.metadata.name === '') obj.metadata.name = urlName;
    if (obj.metadata.name !== urlName) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${urlName})`);
  }
  return obj;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Server-set fields of a new object; `status` is reset where the type has a status subresource. */
export function prepareCreate(t: ResourceType, obj: KubeObject): FieldCause[] {
  const meta = obj.metadata;
  if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
  if (!meta.name) return [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }];
  if (meta.name.length > 253 || !DNS_SUBDOMAIN.test(meta.name)) {
    return [{ reason: 'FieldValueInvalid', message: `Invalid value: "${meta.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`, field: 'metadata.name' }];
  }
  meta.uid = randomUUID();
  meta.creationTimestamp = nowIso();
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  if (t.tracksGeneration) meta.generation = 1;
  else delete meta.generation;
  if (t.status) delete obj.status;
  if (t.builtin && t.kind === 'Pod') obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
  if (t.builtin && t.kind === 'Namespace') {
    obj.spec = { finalizers: ['kubernetes'] };
    obj.status = { phase: 'Active' };
    meta.labels = { ...meta.labels, 'kubernetes.io/metadata.name': meta.name };
  }
  return [];
}

/**
 * Builds the object a PUT (or patch) stores: server-owned metadata from the old object,
 * status kept on main-resource writes, only status changed on /status writes.
 */
export function prepareUpdate(t: ResourceType, old: KubeObject, incoming: KubeObject, subresource: string | undefined): KubeObject {
  let next: KubeObject;
  if (subresource === 'status') {
    next = clone(old);
    if (incoming.status === undefined) delete next.status;
    else next.status = clone(incoming.status);
    if (incoming.metadata.managedFields !== undefined) next.metadata.managedFields = incoming.metadata.managedFields;
    next.metadata.resourceVersion = incoming.metadata.resourceVersion;
  } else if (subresource === 'finalize') {
    // namespaces/{name}/finalize: the namespace controller's way to change spec.finalizers.
    next = clone(old);
    next.spec = clone(incoming.spec);
    next.metadata.resourceVersion = incoming.metadata.resourceVersion;
  } else {
    next = clone(incoming);
    if (t.status) {
      if (old.status === undefined) delete next.status;
      else next.status = clone(old.status);
    }
    if (t.builtin && t.kind === 'Namespace') next.spec = clone(old.spec);
  }
  const meta = next.metadata;
  for (const key of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
    if (old.metadata[key] === undefined) delete meta[key];
    else meta[key] = old.metadata[key] as never;
  }
  if (meta.managedFields === undefined && old.metadata.managedFields) meta.managedFields = old.metadata.managedFields;
  return next;
}

/** Optimistic concurrency: a stated resourceVersion must be the current one. */
export function checkResourceVersion(t: ResourceType, old: KubeObject, next: KubeObject, requireForCustom: boolean): FieldCause[] {
  const rv = next.metadata.resourceVersion;
  if (rv === undefined || rv === '') {
    if (requireForCustom && !t.builtin) {
      return [{ reason: 'FieldValueInvalid', message: 'Invalid value: 0x0: must be specified for an update', field: 'metadata.resourceVersion' }];
    }
    return [];
  }
  if (rv !== old.metadata.resourceVersion) throw conflict(t.group, t.plural, old.metadata.name ?? '');
  return [];
}

/** Once deletion has started, finalizers can only be removed. */
export function checkFinalizers(old: KubeObject, next: KubeObject): FieldCause[] {
  if (!old.metadata.deletionTimestamp) return [];
  const before = old.metadata.finalizers ?? [];
  const added = (next.metadata.finalizers ?? []).filter((f) => !before.includes(f));
  if (added.length === 0) return [];
  return [{ reason: 'FieldValueForbidden', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`, field: 'metadata.finalizers' }];
}

/** True when an update leaves a deleting object with nothing to wait for. */
export function shouldDeleteAfterUpdate(next: KubeObject): boolean {
  const m = next.metadata;
  const namespaceFinalizers = next.kind === 'Namespace' ? ((next.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []) : [];
  return Boolean(m.deletionTimestamp) && (m.finalizers ?? []).length === 0 && namespaceFinalizers.length === 0 && !m.deletionGracePeriodSeconds;
}

/** A write that changes nothing but resourceVersion and time stamps is not stored. */
export function isNoop(old: KubeObject, next: KubeObject): boolean {
  const strip = (o: KubeObject): KubeObject => {
    const c = clone(o);
    delete c.metadata.resourceVersion;
    // Ownership changes are changes; only the time stamp of an entry is not.
    if (c.metadata.managedFields) c.metadata.managedFields = c.metadata.managedFields.map(({ time: _t, ...rest }) => rest) as typeof c.metadata.managedFields;
    return c;
  };
  return jsonEqual(strip(old), strip(next));
}

/** The autoscaling/v1 Scale view of an object with a scale subresource. */
export function toScale(t: ResourceType, obj: KubeObject): KubeObject {
  const scale = t.scale;
  if (!scale) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  // Deployments report their spec.selector; custom resources name a path to a string selector.
  const selectorValue = t.builtin && t.kind === 'Deployment'
    ? labelSelectorToString((getPath(obj, '.spec.selector') ?? {}) as Parameters<typeof labelSelectorToString>[0])
    : scale.labelSelectorPath ? getPath(obj, scale.labelSelectorPath) : undefined;
  const status: Record<string, unknown> = { replicas: Number(getPath(obj, scale.statusReplicasPath) ?? 0) };
  if (typeof selectorValue === 'string' && selectorValue) status.selector = selectorValue;
  const m = obj.metadata;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: Number(getPath(obj, scale.specReplicasPath) ?? 0) },
    status,
  };
}

/** Applies a written Scale back onto its object (only spec.replicas moves). */
export function fromScale(t: ResourceType, old: KubeObject, scale: KubeObject): KubeObject {
  const next = clone(old);
  const replicas = getPath(scale, '.spec.replicas');
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new ApiError(422, 'Invalid', `Scale.autoscaling "${old.metadata.name}" is invalid: spec.replicas: Invalid value: ${String(replicas)}: must be greater than or equal to 0`, {
      name: old.metadata.name, group: 'autoscaling', kind: 'Scale',
      causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${String(replicas)}: must be greater than or equal to 0`, field: 'spec.replicas' }],
    });
  }
  const rv = scale.metadata?.resourceVersion;
  if (rv && rv !== old.metadata.resourceVersion) throw conflict(t.group, t.plural, old.metadata.name ?? '');
  setPath(next, t.scale?.specReplicasPath ?? '.spec.replicas', replicas);
  return next;
}
