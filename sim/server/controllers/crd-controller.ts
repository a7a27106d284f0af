// CustomResourceDefinitions: establish them (serve their kinds) and, on deletion, delete
// every custom resource before the CRD goes. Part of the apiserver itself, so always on.
import { crdToResourceType, establishedStatus } from '../crd-types.js';
import { ApiError } from '../errors.js';
import { typeKey, type ResourceType, type TypeRegistry } from '../resource-types.js';
import type { ResourceService } from '../rest.js';
import type { ObjectStore, StoreEvent } from '../store.js';
import { clone, isObject, type KubeObject } from '../types.js';
import { WorkQueue } from './work-queue.js';

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';
const CRD_KEY = 'apiextensions.k8s.io/customresourcedefinitions';

export class CrdController {
  private readonly queue = new WorkQueue();
  private rest?: ResourceService;

  constructor(private readonly store: ObjectStore, private readonly types: TypeRegistry) {
    this.queue.stopWith(store.subscribe((e) => this.onEvent(e)));
  }

  attach(rest: ResourceService): void {
    this.rest = rest;
  }

  stop(): void {
    this.queue.stop();
  }

  private crdType(): ResourceType {
    return this.types.find('apiextensions.k8s.io', 'v1', 'customresourcedefinitions') as ResourceType;
  }

  /** Called synchronously after a CRD is written, so its kind is served before the response. */
  onCrdWritten(crd: KubeObject): void {
    if (crd.metadata.deletionTimestamp || !this.rest) return;
    this.types.add(crdToResourceType(crd));
    const status = isObject(crd.status) ? crd.status : {};
    const established = Array.isArray(status.conditions) && status.conditions.some((c) => isObject(c) && c.type === 'Established' && c.status === 'True');
    const next = clone(crd);
    const fresh = establishedStatus(crd);
    if (established) {
      const stored = new Set([...((status.storedVersions as string[] | undefined) ?? []), ...(fresh.storedVersions as string[])]);
      next.status = { ...status, acceptedNames: fresh.acceptedNames, storedVersions: [...stored] };
    } else {
      next.status = fresh;
    }
    this.rest.writeInternal(this.crdType(), next);
  }

  private onEvent(e: StoreEvent): void {
    if (e.key === CRD_KEY) {
      if (e.type !== 'DELETED' && e.object.metadata.deletionTimestamp) this.queue.add(e.object.metadata.name ?? '', () => this.cleanUp(e.object.metadata.name ?? ''));
      if (e.type === 'DELETED') this.unserve(e.object);
      return;
    }
    // A custom resource of a terminating CRD went away: maybe the CRD can go now.
    const t = this.types.all().find((x) => typeKey(x) === e.key);
    if (t?.crdName && e.type === 'DELETED') this.queue.add(t.crdName, () => this.cleanUp(t.crdName ?? ''));
  }

  private unserve(crd: KubeObject): void {
    const t = crdToResourceType(crd);
    if (this.types.find(t.group, t.versions[0], t.plural)?.crdName === crd.metadata.name) this.types.remove(t.group, t.plural);
  }

  private cleanUp(name: string): void {
    const crd = this.store.get(CRD_KEY, undefined, name);
    if (!crd?.metadata.deletionTimestamp || !this.rest) return;
    const t = crdToResourceType(crd);
    const served = this.types.find(t.group, t.versions[0], t.plural) ?? t;
    const remaining = this.store.list(typeKey(t));
    for (const obj of remaining) {
      if (obj.metadata.deletionTimestamp) continue;
      try {
        this.rest.delete({ type: served, version: served.versions[0], namespace: obj.metadata.namespace, name: obj.metadata.name });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    if (this.store.count(typeKey(t)) > 0) return;
    const next = clone(crd);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    const conditions = (isObject(next.status) && Array.isArray(next.status.conditions) ? next.status.conditions : []) as Array<Record<string, unknown>>;
    next.status = { ...(next.status as object), conditions: conditions.map((c) => (c.type === 'Established' ? { ...c, status: 'False', reason: 'Terminating' } : c)) };
    this.rest.writeInternal(this.crdType(), next);
  }
}
