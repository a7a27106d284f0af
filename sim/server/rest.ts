// REST semantics of the emulator over the store: create, update, patch, delete, with
// admission, optimistic concurrency, subresources and finalizers. No HTTP in here.
import { parse as parseYaml } from 'yaml';
import { admitBuiltin, admitCrd, admitCustom } from './admission.js';
import { applyBuiltinDefaults } from './builtin-defaults.js';
import { checkFieldValidation, prunedFields } from './field-validation.js';
import { carryAllocatedFields, immutabilityCauses } from './immutability.js';
import { objectMetaCauses } from './object-meta-validation.js';
import { crdShapeProblems } from './crd-types.js';
import { ApiError, alreadyExists, badRequest, conflict, forbidden, invalid, notFound, unsupportedMediaType } from './errors.js';
import { recordUpdate, serverSideApply, type Shape } from './managed-fields.js';
import { jsonPatch, mergePatch } from './patch.js';
import { apiVersionOf, typeKey, type ResourceType } from './resource-types.js';
import type { ObjectStore } from './store.js';
import {
  checkFinalizers, checkIdentity, checkResourceVersion, fromScale, isNoop, prepareCreate, prepareUpdate, shouldDeleteAfterUpdate, specChanged, toScale,
} from './strategy.js';
import { strategicMergePatch } from './strategic-merge.js';
import { clone, isObject, nowIso, type KubeObject } from './types.js';
import type { FieldCause } from '../schema/index.js';

export interface Target {
  type: ResourceType;
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  force?: boolean;
  /** Strict, Warn (default) or Ignore, for fields a custom resource's schema prunes. */
  fieldValidation?: string;
  /** Filled with warnings for the response (`Warning` headers). */
  warnings?: string[];
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface WriteResult {
  object: KubeObject;
  code: number;
}

const NAMESPACES: ResourceType['plural'] = 'namespaces';

/** How field ownership identifies list items for this type (schemas for custom resources). */
function shapeOf(t: ResourceType, version: string): Shape {
  return { kind: t.kind, custom: !t.builtin, schema: t.schemas?.[version] };
}

/** Kinds whose immediate DELETE answers with the object; other built-ins answer a Success Status. */
const RETURNS_DELETED_OBJECT = new Set(['Pod', 'Service', 'Namespace', 'CustomResourceDefinition']);

function deletedResponse(t: ResourceType, obj: KubeObject): KubeObject {
  if (!t.builtin || RETURNS_DELETED_OBJECT.has(t.kind)) return obj;
  return {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success',
    details: { name: obj.metadata.name, group: t.group, kind: t.plural, uid: obj.metadata.uid },
  } as unknown as KubeObject;
}

export class ResourceService {
  constructor(private readonly store: ObjectStore, readonly onCrdWritten: (crd: KubeObject) => void = () => {}) {}

  /** An object as read at `version` (custom resources are stored once, served at each version). */
  present(t: ResourceType, version: string, obj: KubeObject): KubeObject {
    obj.apiVersion = apiVersionOf(t.group, version);
    return obj;
  }

  get(target: Target): KubeObject {
    const { type: t, namespace, name = '' } = target;
    const obj = this.store.get(typeKey(t), t.namespaced ? namespace : undefined, name);
    if (!obj) throw notFound(t.group, t.plural, name);
    if (target.subresource === 'scale') return toScale(t, obj);
    return this.present(t, target.version, obj);
  }

  private ensureNamespace(t: ResourceType, namespace: string | undefined, name: string, creating: boolean): void {
    if (!t.namespaced) return;
    const ns = this.store.get(`/${NAMESPACES}`, undefined, namespace ?? '');
    if (!ns) throw notFound('', NAMESPACES, namespace ?? '');
    if (creating && ns.metadata.deletionTimestamp) {
      const err = forbidden(t.group, t.plural, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
      err.details?.causes?.push({ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' });
      throw err;
    }
  }

  /** Admission: schema package checks; custom resources come back pruned and defaulted. */
  private admit(t: ResourceType, version: string, obj: KubeObject, old?: KubeObject, opts: WriteOptions = {}): KubeObject {
    let causes: FieldCause[] = objectMetaCauses(obj);
    if (causes.length > 0) throw invalid(t.kind, t.group, obj.metadata.name ?? '', causes);
    let admitted = obj;
    if (t.builtin && t.kind === 'CustomResourceDefinition') {
      causes = crdShapeProblems(obj);
      if (causes.length === 0) causes = admitCrd(obj);
    } else if (t.builtin) {
      causes = admitBuiltin(obj.apiVersion ?? '', t.kind, obj);
    } else {
      const result = admitCustom(t.schemas?.[version], obj, old);
      admitted = result.object;
      causes = result.causes;
      opts.warnings?.push(...checkFieldValidation(opts.fieldValidation, t.kind, version, prunedFields(obj, admitted)));
    }
    if (causes.length > 0) throw invalid(t.kind, t.group, obj.metadata.name ?? '', causes);
    return admitted;
  }

  /** POST pods/{name}/binding, as the scheduler binds a pod to a node. */
  bind(target: Target, body: unknown): WriteResult {
    const t = target.type;
    const name = target.name ?? '';
    const old = this.store.get(typeKey(t), target.namespace, name);
    if (!old) throw notFound(t.group, t.plural, name);
    const node = isObject(body) && isObject(body.target) ? body.target.name : undefined;
    if (typeof node !== 'string' || !node) {
      throw invalid('Binding', '', name, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }]);
    }
    const spec = (old.spec ?? {}) as { nodeName?: string };
    if (spec.nodeName) throw conflict(t.group, t.plural, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    const next = clone(old);
    next.spec = { ...spec, nodeName: node };
    this.commit({ ...target, subresource: 'binding' }, old, next, {}, false);
    return { object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } as unknown as KubeObject, code: 201 };
  }

  create(target: Target, body: unknown, opts: WriteOptions = {}): WriteResult {
    const t = target.type;
    if (target.subresource === 'binding' && t.builtin && t.kind === 'Pod') return this.bind(target, body);
    if (target.subresource) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    let obj = checkIdentity(t, target.version, target.namespace, body);
    const causes = prepareCreate(t, obj);
    if (causes.length > 0) throw invalid(t.kind, t.group, obj.metadata.name ?? '', causes);
    const name = obj.metadata.name ?? '';
    this.ensureNamespace(t, obj.metadata.namespace, name, true);
    if (t.builtin) applyBuiltinDefaults(t.kind, obj, this.store, true);
    if (t.builtin && t.kind === 'CustomResourceDefinition') {
      obj.metadata.finalizers = [...new Set([...(obj.metadata.finalizers ?? []), 'customresourcecleanup.apiextensions.k8s.io'])];
    }
    obj = this.admit(t, target.version, obj, undefined, opts);
    if (this.store.has(typeKey(t), obj.metadata.namespace, name)) throw alreadyExists(t.group, t.plural, name);
    if (opts.fieldManager !== undefined || !obj.metadata.managedFields) {
      obj.metadata.managedFields = [];
      recordUpdate(undefined, obj, opts.fieldManager ?? 'unknown', shapeOf(t, target.version));
    }
    if (opts.dryRun) return { object: this.present(t, target.version, obj), code: 201 };
    const created = this.store.create(typeKey(t), obj);
    if (t.kind === 'CustomResourceDefinition' && t.builtin) this.onCrdWritten(created);
    return { object: this.present(t, target.version, created), code: 201 };
  }

  /** PUT: full replacement (never creates), of the main resource or its status/scale. */
  update(target: Target, body: unknown, opts: WriteOptions = {}): WriteResult {
    const t = target.type;
    const name = target.name ?? '';
    const old = this.store.get(typeKey(t), t.namespaced ? target.namespace : undefined, name);
    if (!old) throw notFound(t.group, t.plural, name);
    if (target.subresource === 'scale') {
      if (!isObject(body)) throw badRequest('the body of the request must be a JSON object');
      return this.commit(target, old, fromScale(t, old, body as KubeObject), opts, false);
    }
    const incoming = checkIdentity(t, target.version, target.namespace, body, name);
    const rvCauses = checkResourceVersion(t, old, incoming, true);
    if (rvCauses.length > 0) throw invalid(t.kind, t.group, name, rvCauses);
    const next = prepareUpdate(t, old, incoming, target.subresource);
    return this.commit(target, old, next, opts, true);
  }

  /** Admits and stores an update; an update that empties a deleting object's finalizers deletes it. */
  commit(target: Target, old: KubeObject, next: KubeObject, opts: WriteOptions, recordManager: boolean): WriteResult {
    const t = target.type;
    const name = old.metadata.name ?? '';
    if (next.metadata.resourceVersion && next.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict(t.group, t.plural, name);
    const finalizerCauses = checkFinalizers(old, next);
    if (finalizerCauses.length > 0) throw invalid(t.kind, t.group, name, finalizerCauses);
    if (t.builtin) {
      carryAllocatedFields(t.kind, old, next);
      applyBuiltinDefaults(t.kind, next, this.store, false);
      const immutable = target.subresource ? [] : immutabilityCauses(t.kind, old, next);
      if (immutable.length > 0) throw invalid(t.kind, t.group, name, immutable);
    }
    // Generation counts changes outside metadata and status, whichever endpoint made them.
    if (t.tracksGeneration && specChanged(old, next)) next.metadata.generation = (old.metadata.generation ?? 0) + 1;
    const admitted = this.admit(t, target.version, next, old, opts);
    if (recordManager) recordUpdate(old, admitted, opts.fieldManager ?? 'unknown', shapeOf(t, target.version), target.subresource === 'status' ? 'status' : undefined);
    const respond = (obj: KubeObject): KubeObject => (target.subresource === 'scale' ? toScale(t, obj) : this.present(t, target.version, obj));
    if (isNoop(old, admitted)) return { object: respond(old), code: 200 };
    if (opts.dryRun) return { object: respond(admitted), code: 200 };
    if (shouldDeleteAfterUpdate(admitted)) {
      return { object: respond(this.store.remove(typeKey(t), admitted, old)), code: 200 };
    }
    const stored = this.store.update(typeKey(t), admitted, old);
    if (t.kind === 'CustomResourceDefinition' && t.builtin) this.onCrdWritten(stored);
    return { object: respond(stored), code: 200 };
  }

  patch(target: Target, contentType: string, rawBody: string, opts: WriteOptions = {}): WriteResult {
    const t = target.type;
    const name = target.name ?? '';
    const old = this.store.get(typeKey(t), t.namespaced ? target.namespace : undefined, name);
    const media = contentType.split(';')[0].trim();
    if (media === 'application/apply-patch+yaml' || media === 'application/apply-patch+cbor') {
      return this.apply(target, old, rawBody, opts);
    }
    if (!old) throw notFound(t.group, t.plural, name);
    let patchBody: unknown;
    try {
      patchBody = JSON.parse(rawBody);
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    const current: KubeObject = target.subresource === 'scale' ? toScale(t, old) : this.present(t, target.version, clone(old));
    let patched: unknown;
    if (media === 'application/json-patch+json') patched = jsonPatch(current, patchBody);
    else if (media === 'application/merge-patch+json') patched = mergePatch(current, patchBody);
    else if (media === 'application/strategic-merge-patch+json') {
      if (!t.builtin) throw unsupportedMediaType(media);
      patched = strategicMergePatch(current, patchBody, t.kind);
    } else throw unsupportedMediaType(media);
    if (!isObject(patched)) throw badRequest('the patched object must be a JSON object');
    if (target.subresource === 'scale') return this.commit(target, old, fromScale(t, old, patched as KubeObject), opts, false);
    const incoming = checkIdentity(t, target.version, target.namespace, patched, name);
    const next = prepareUpdate(t, old, incoming, target.subresource);
    return this.commit(target, old, next, opts, true);
  }

  private apply(target: Target, old: KubeObject | undefined, rawBody: string, opts: WriteOptions): WriteResult {
    const t = target.type;
    const name = target.name ?? '';
    if (!opts.fieldManager) {
      throw invalid(t.kind, t.group, name, [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }]);
    }
    let config: unknown;
    try {
      config = parseYaml(rawBody);
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
    const incoming = checkIdentity(t, target.version, target.namespace, config, name);
    if (target.subresource === 'scale') throw unsupportedMediaType('application/apply-patch+yaml');
    const merged = serverSideApply(old ? this.present(t, target.version, clone(old)) : undefined, incoming, opts.fieldManager, Boolean(opts.force), shapeOf(t, target.version), target.subresource);
    // Creating: no fieldManager is passed on, so create keeps the Apply entry serverSideApply made.
    if (!old) return this.create({ ...target, name: undefined }, merged, { dryRun: opts.dryRun, fieldValidation: opts.fieldValidation, warnings: opts.warnings });
    const next = prepareUpdate(t, old, merged, target.subresource);
    return this.commit(target, old, next, opts, false);
  }

  /** DELETE: immediate, or pending on finalizers / a bound pod's grace period (202). */
  delete(target: Target, options: DeleteOptions = {}): WriteResult {
    const t = target.type;
    const name = target.name ?? '';
    const old = this.store.get(typeKey(t), t.namespaced ? target.namespace : undefined, name);
    if (!old) throw notFound(t.group, t.plural, name);
    const pre = options.preconditions ?? {};
    if (pre.uid && pre.uid !== old.metadata.uid) {
      throw conflict(t.group, t.plural, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(t.group, t.plural, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    const next = clone(old);
    const meta = next.metadata;
    const finalizers = new Set(meta.finalizers ?? []);
    if (!meta.deletionTimestamp) {
      if (options.propagationPolicy === 'Foreground') finalizers.add('foregroundDeletion');
      if (options.propagationPolicy === 'Orphan') finalizers.add('orphan');
    }
    meta.finalizers = [...finalizers];
    if (meta.finalizers.length === 0) delete meta.finalizers;
    let grace = 0;
    if (t.builtin && t.kind === 'Pod') {
      const spec = (next.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
      const phase = (next.status as { phase?: string } | undefined)?.phase;
      const bound = Boolean(spec.nodeName) && phase !== 'Succeeded' && phase !== 'Failed';
      grace = bound ? options.gracePeriodSeconds ?? meta.deletionGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30 : 0;
      if (meta.deletionGracePeriodSeconds !== undefined) grace = Math.min(grace, meta.deletionGracePeriodSeconds);
    }
    if (t.builtin && t.kind === 'Namespace') {
      if ((next.status as { phase?: string } | undefined)?.phase !== 'Terminating') next.status = { ...(next.status as object), phase: 'Terminating' };
    }
    const nsPending = t.builtin && t.kind === 'Namespace' && ((next.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length > 0;
    if ((meta.finalizers ?? []).length === 0 && grace === 0 && !nsPending) {
      const gone = options.dryRun ? next : this.store.remove(typeKey(t), next, old);
      return { object: deletedResponse(t, this.present(t, target.version, gone)), code: 200 };
    }
    if (!meta.deletionTimestamp || (meta.deletionGracePeriodSeconds ?? 0) > grace) {
      meta.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      meta.deletionGracePeriodSeconds = grace;
      if (t.tracksGeneration) meta.generation = (meta.generation ?? 0) + 1;
    }
    // The real server answers 200 here too (202 only for an explicit orphanDependents=false).
    if (isNoop(old, next) || options.dryRun) return { object: this.present(t, target.version, next), code: 200 };
    const stored = this.store.update(typeKey(t), next, old);
    return { object: this.present(t, target.version, stored), code: 200 };
  }

  /** Server-internal write used by controllers (status, finalizer removal); not admitted. */
  writeInternal(t: ResourceType, next: KubeObject): KubeObject | undefined {
    const old = this.store.get(typeKey(t), next.metadata.namespace, next.metadata.name ?? '');
    if (!old) return undefined;
    if (isNoop(old, next)) return old;
    if (shouldDeleteAfterUpdate(next)) return this.store.remove(typeKey(t), next, old);
    return this.store.update(typeKey(t), next, old);
  }

  nowIso(): string {
    return nowIso();
  }
}
