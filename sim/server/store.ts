// The object store: one global resourceVersion counter, objects per type, and a bounded
// history of change events that watches resume from (older resumes get 410 Expired).
import { clone, type KubeObject } from './types.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  /** typeKey of the object's resource type. */
  key: string;
  rv: number;
  object: KubeObject;
  /** The object before the change (MODIFIED and DELETED). */
  old?: KubeObject;
}

export type StoreListener = (event: StoreEvent) => void;

function objectKey(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export class ObjectStore {
  private rv = 0;
  private readonly data = new Map<string, Map<string, KubeObject>>();
  private history: StoreEvent[] = [];
  /** Resumes from a resourceVersion below this get 410 (events after it may be gone). */
  private compactedThrough = 0;
  private readonly listeners = new Set<StoreListener>();
  /** Total change events ever emitted (tests use it to prove no-op writes emit nothing). */
  eventCount = 0;

  constructor(private readonly historySize: number) {}

  currentRv(): number {
    return this.rv;
  }

  oldestResumableRv(): number {
    return this.compactedThrough;
  }

  get(key: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.data.get(key)?.get(`${namespace ?? ''}/${name}`);
    return obj ? clone(obj) : undefined;
  }

  has(key: string, namespace: string | undefined, name: string): boolean {
    return this.data.get(key)?.has(`${namespace ?? ''}/${name}`) ?? false;
  }

  /** Objects of a type, sorted by namespace then name; all namespaces when `namespace` is unset. */
  list(key: string, namespace?: string): KubeObject[] {
    const items = [...(this.data.get(key)?.values() ?? [])]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .map((o) => clone(o));
    return items.sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
  }

  count(key: string, namespace?: string): number {
    let n = 0;
    for (const o of this.data.get(key)?.values() ?? []) if (namespace === undefined || o.metadata.namespace === namespace) n++;
    return n;
  }

  create(key: string, obj: KubeObject): KubeObject {
    const stored = clone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    let bucket = this.data.get(key);
    if (!bucket) this.data.set(key, (bucket = new Map()));
    bucket.set(objectKey(stored), stored);
    this.emit({ type: 'ADDED', key, rv: this.rv, object: clone(stored) });
    return clone(stored);
  }

  update(key: string, obj: KubeObject, old: KubeObject): KubeObject {
    const stored = clone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    this.data.get(key)?.set(objectKey(stored), stored);
    this.emit({ type: 'MODIFIED', key, rv: this.rv, object: clone(stored), old });
    return clone(stored);
  }

  /** Removes the object; the DELETED event carries a fresh resourceVersion. */
  remove(key: string, obj: KubeObject, old: KubeObject): KubeObject {
    const gone = clone(obj);
    gone.metadata.resourceVersion = String(++this.rv);
    this.data.get(key)?.delete(objectKey(gone));
    this.emit({ type: 'DELETED', key, rv: this.rv, object: clone(gone), old });
    return gone;
  }

  /** Events of one type after `rv`, or 'expired' when history no longer reaches back that far. */
  eventsSince(rv: number, key: string): StoreEvent[] | 'expired' {
    if (rv < this.compactedThrough) return 'expired';
    return this.history.filter((e) => e.rv > rv && e.key === key);
  }

  /**
   * Forgets all history, as etcd compaction does: resuming from any version seen so far gets 410,
   * while a fresh list (at the new head) can be watched from. The head moves on by one, as it
   * would on a busy cluster, so that even fully caught-up clients must relist.
   */
  compact(): void {
    this.rv++;
    this.history = [];
    this.compactedThrough = this.rv;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: StoreEvent): void {
    this.eventCount++;
    this.history.push(event);
    if (this.history.length > this.historySize) {
      const dropped = this.history.splice(0, this.history.length - this.historySize);
      this.compactedThrough = dropped[dropped.length - 1].rv;
    }
    for (const listener of [...this.listeners]) listener(event);
  }
}
