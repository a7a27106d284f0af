// What every namespace of a real cluster holds from the start: the `default` ServiceAccount,
// which pods name unless told otherwise. (The kube-root-ca.crt ConfigMap is left out: there is no CA.)
import { ApiError } from '../errors.js';
import type { ResourceType, TypeRegistry } from '../resource-types.js';
import type { ResourceService } from '../rest.js';
import type { ObjectStore, StoreEvent } from '../store.js';
import { WorkQueue } from './work-queue.js';

export class NamespaceDefaults {
  private readonly queue = new WorkQueue();

  constructor(store: ObjectStore, private readonly types: TypeRegistry, private readonly rest: ResourceService) {
    this.queue.stopWith(store.subscribe((e) => this.onEvent(e)));
  }

  stop(): void {
    this.queue.stop();
  }

  get errors(): unknown[] {
    return this.queue.errors;
  }

  private onEvent(e: StoreEvent): void {
    if (e.key !== '/namespaces' || e.type !== 'ADDED') return;
    const ns = e.object.metadata.name ?? '';
    this.queue.add(ns, () => this.populate(ns));
  }

  private createIfMissing(plural: string, body: Record<string, unknown>, namespace: string): void {
    const type = this.types.find('', 'v1', plural) as ResourceType;
    try {
      this.rest.create({ type, version: 'v1', namespace }, body, { fieldManager: 'kube-controller-manager' });
    } catch (err) {
      // Already there, or the namespace is gone or terminating again: nothing to do.
      if (!(err instanceof ApiError && [403, 404, 409].includes(err.code))) throw err;
    }
  }

  private populate(namespace: string): void {
    this.createIfMissing('serviceaccounts', { metadata: { name: 'default' } }, namespace);
  }
}
