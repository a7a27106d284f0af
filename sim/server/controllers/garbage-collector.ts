// Garbage collection by ownerReferences (background, foreground, orphan) and namespace
// deletion, as kube-controller-manager does them. Off when the server mimics a bare apiserver.
import { ApiError } from '../errors.js';
import { typeKey, type ResourceType, type TypeRegistry } from '../resource-types.js';
import type { ResourceService } from '../rest.js';
import type { ObjectStore, StoreEvent } from '../store.js';
import { clone, type KubeObject } from '../types.js';
import { WorkQueue } from './work-queue.js';

const FOREGROUND = 'foregroundDeletion';
const ORPHAN = 'orphan';

export class GarbageCollector {
  private readonly queue = new WorkQueue();
  /** owner uid -> dependents (type key, namespace, name), kept from store events. */
  private readonly dependents = new Map<string, Map<string, { key: string; namespace?: string; name: string }>>();

  constructor(private readonly store: ObjectStore, private readonly types: TypeRegistry, private readonly rest: ResourceService) {
    this.queue.stopWith(store.subscribe((e) => this.onEvent(e)));
  }

  stop(): void {
    this.queue.stop();
  }

  get errors(): unknown[] {
    return this.queue.errors;
  }

  private index(e: StoreEvent): void {
    const id = `${e.key}/${e.object.metadata.namespace ?? ''}/${e.object.metadata.name}`;
    for (const ref of e.old?.metadata.ownerReferences ?? []) this.dependents.get(ref.uid)?.delete(id);
    if (e.type === 'DELETED') return;
    for (const ref of e.object.metadata.ownerReferences ?? []) {
      let deps = this.dependents.get(ref.uid);
      if (!deps) this.dependents.set(ref.uid, (deps = new Map()));
      deps.set(id, { key: e.key, namespace: e.object.metadata.namespace, name: e.object.metadata.name ?? '' });
    }
  }

  private onEvent(e: StoreEvent): void {
    this.index(e);
    const obj = e.object;
    const uid = obj.metadata.uid ?? '';
    if (e.type === 'DELETED') this.queue.add(`owner/${uid}`, () => this.processOwner(obj, true));
    else if (obj.metadata.deletionTimestamp) this.queue.add(`owner/${uid}`, () => this.processOwner(obj, false));
    if (e.key === '/namespaces' && obj.metadata.deletionTimestamp && e.type !== 'DELETED') {
      this.queue.add(`ns/${obj.metadata.name}`, () => this.processNamespace(obj.metadata.name ?? ''));
    }
    // A dependent going away may unblock an owner's foreground deletion or its namespace.
    if (e.type === 'DELETED' || obj.metadata.deletionTimestamp) {
      for (const ref of obj.metadata.ownerReferences ?? []) {
        const owner = this.findOwner(obj, ref.uid, ref.apiVersion, ref.kind, ref.name);
        if (owner?.obj.metadata.deletionTimestamp) this.queue.add(`owner/${ref.uid}`, () => this.processOwner(owner.obj, false));
      }
      const ns = obj.metadata.namespace;
      if (ns) this.queue.add(`ns/${ns}`, () => this.processNamespace(ns));
    }
    if (e.type === 'ADDED' && (obj.metadata.ownerReferences ?? []).length > 0) {
      this.queue.add(`dangling/${uid}`, () => this.deleteIfAllOwnersGone(e.key, obj));
    }
  }

  private typeOf(obj: KubeObject): ResourceType | undefined {
    return this.types.byKind(obj.apiVersion ?? '', obj.kind ?? '');
  }

  private findOwner(dependent: KubeObject, uid: string, apiVersion: string, kind: string, name: string): { type: ResourceType; obj: KubeObject } | undefined {
    const type = this.types.byKind(apiVersion, kind);
    if (!type) return undefined;
    const obj = this.store.get(typeKey(type), type.namespaced ? dependent.metadata.namespace : undefined, name);
    return obj && obj.metadata.uid === uid ? { type, obj } : undefined;
  }

  /** Objects whose ownerReferences name `uid` (namespaced owners only own objects in their namespace). */
  private dependentsOf(uid: string, namespace: string | undefined): Array<{ type: ResourceType; obj: KubeObject }> {
    const out: Array<{ type: ResourceType; obj: KubeObject }> = [];
    for (const dep of this.dependents.get(uid)?.values() ?? []) {
      if (namespace !== undefined && dep.namespace !== namespace) continue;
      const type = this.types.all().find((t) => typeKey(t) === dep.key);
      const obj = type && this.store.get(dep.key, dep.namespace, dep.name);
      if (type && obj && (obj.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) out.push({ type, obj });
    }
    if (out.length === 0) this.dependents.delete(uid);
    return out;
  }

  private deleteQuietly(type: ResourceType, obj: KubeObject, policy: 'Background' | 'Foreground'): void {
    if (obj.metadata.deletionTimestamp) return;
    try {
      this.rest.delete({ type, version: type.versions[0], namespace: obj.metadata.namespace, name: obj.metadata.name }, { propagationPolicy: policy });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }

  private dropOwnerRef(type: ResourceType, obj: KubeObject, uid: string): void {
    const next = clone(obj);
    next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
    if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
    this.rest.writeInternal(type, next);
  }

  private removeFinalizer(obj: KubeObject, finalizer: string): void {
    const type = this.typeOf(obj);
    const current = type && this.store.get(typeKey(type), type.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name ?? '');
    if (!type || !current || !(current.metadata.finalizers ?? []).includes(finalizer)) return;
    current.metadata.finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    this.rest.writeInternal(type, current);
  }

  private processOwner(owner: KubeObject, gone: boolean): void {
    const uid = owner.metadata.uid ?? '';
    const ns = this.typeOf(owner)?.namespaced ? owner.metadata.namespace : undefined;
    const dependents = this.dependentsOf(uid, ns);
    const finalizers = owner.metadata.finalizers ?? [];
    if (!gone && finalizers.includes(ORPHAN)) {
      for (const d of dependents) this.dropOwnerRef(d.type, d.obj, uid);
      this.removeFinalizer(owner, ORPHAN);
      return;
    }
    if (!gone && finalizers.includes(FOREGROUND)) {
      for (const d of dependents) this.deleteQuietly(d.type, d.obj, 'Foreground');
      const blocking = dependents.filter((d) => (d.obj.metadata.ownerReferences ?? []).some((r) => r.uid === uid && r.blockOwnerDeletion));
      if (blocking.length === 0) this.removeFinalizer(owner, FOREGROUND);
      return;
    }
    if (!gone) return;
    for (const d of dependents) {
      const others = (d.obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid && this.findOwner(d.obj, r.uid, r.apiVersion, r.kind, r.name));
      if (others.length > 0) this.dropOwnerRef(d.type, d.obj, uid);
      else this.deleteQuietly(d.type, d.obj, 'Background');
    }
  }

  private deleteIfAllOwnersGone(key: string, obj: KubeObject): void {
    const type = this.types.all().find((t) => typeKey(t) === key);
    const current = type && this.store.get(key, obj.metadata.namespace, obj.metadata.name ?? '');
    if (!type || !current || current.metadata.uid !== obj.metadata.uid) return;
    const refs = current.metadata.ownerReferences ?? [];
    const known = refs.filter((r) => this.types.byKind(r.apiVersion, r.kind));
    if (known.length === 0 || known.length < refs.length) return;
    if (known.every((r) => !this.findOwner(current, r.uid, r.apiVersion, r.kind, r.name))) this.deleteQuietly(type, current, 'Background');
  }

  /** Deletes everything in a terminating namespace, then the namespace itself. */
  private processNamespace(name: string): void {
    const ns = this.store.get('/namespaces', undefined, name);
    if (!ns?.metadata.deletionTimestamp) return;
    let remaining = 0;
    for (const type of this.types.all()) {
      if (!type.namespaced) continue;
      for (const obj of this.store.list(typeKey(type), name)) {
        remaining++;
        this.deleteQuietly(type, obj, 'Background');
      }
    }
    if (remaining > 0) return;
    const spec = (ns.spec ?? {}) as { finalizers?: string[] };
    if ((spec.finalizers ?? []).length > 0) {
      const next = clone(ns);
      next.spec = { ...spec, finalizers: [] };
      this.rest.writeInternal(this.types.find('', 'v1', 'namespaces') as ResourceType, next);
    }
  }
}
