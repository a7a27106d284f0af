// A shared-informer-style cache: list, then watch from the list's resourceVersion; relist on
// 410 and emit the differences so no change is missed; reconnect with capped backoff on
// dropped, stalled or failing watches; periodic resync.
import { isGone, type KubeApi, type KubeObject } from './kube-api.js';
import type { ResourceType } from './resources.js';
import { sleep } from './sleep.js';

export type InformerEvent<T> = { type: 'added' | 'updated' | 'deleted' | 'resync'; object: T; old?: T };

export interface InformerOptions {
  /** undefined = all namespaces (ignored for cluster-scoped resources). */
  namespaces?: string[];
  labelSelector?: string;
  /** Emit 'resync' for every cached object this often (0 = never). */
  resyncMs: number;
  onError?: (err: unknown) => void;
  /** Server-side watch timeout; default a random 300-600 s, as client-go. */
  watchTimeoutSeconds?: number;
  /** Reconnect when a watch delivers nothing, not even a bookmark, this long (default 150 s). */
  idleTimeoutMs?: number;
  /** Reconnect backoff: base doubling to max (defaults 250 ms, 30 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

type Handler<T> = (e: InformerEvent<T>) => void;

const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: Handler<T>[] = [];
  private readonly stopper = new AbortController();
  private started?: Promise<void>;
  private resyncTimer?: NodeJS.Timeout;
  private isSynced = false;
  /** Lists made so far (tests and metrics: a relist after 410 shows here). */
  lists = 0;

  constructor(private readonly api: KubeApi, private readonly resource: ResourceType, private readonly options: InformerOptions) {}

  get synced(): boolean {
    return this.isSynced;
  }

  on(handler: Handler<T>): void {
    this.handlers.push(handler);
  }

  /** Resolves once the first list of every namespace is in the cache; rejects if stopped first. */
  start(): Promise<void> {
    this.started ??= this.run();
    return this.started;
  }

  stop(): void {
    this.stopper.abort();
    clearInterval(this.resyncTimer);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(`${this.resource.namespaced ? namespace ?? '' : ''}/${name}`);
  }

  list(filter: { namespace?: string; labels?: Record<string, string> } = {}): T[] {
    const out: T[] = [];
    for (const o of this.cache.values()) {
      if (filter.namespace !== undefined && o.metadata.namespace !== filter.namespace) continue;
      const labels = o.metadata.labels ?? {};
      if (filter.labels && !Object.entries(filter.labels).every(([k, v]) => labels[k] === v)) continue;
      out.push(o);
    }
    return out;
  }

  private async run(): Promise<void> {
    const scopes = !this.resource.namespaced || this.options.namespaces === undefined ? [undefined] : [...new Set(this.options.namespaces)];
    const firstLists = scopes.map((ns) => new Promise<void>((resolve, reject) => {
      void this.reflect(ns, resolve).then(() => reject(new Error(`informer for ${this.resource.plural} stopped before it synced`)));
    }));
    await Promise.all(firstLists);
    this.isSynced = true;
    if (this.options.resyncMs > 0) {
      this.resyncTimer = setInterval(() => {
        for (const o of [...this.cache.values()]) this.emit({ type: 'resync', object: o });
      }, this.options.resyncMs);
    }
  }

  /** The list-and-watch loop of one namespace (or all); returns only when stopped. */
  private async reflect(namespace: string | undefined, onFirstList: () => void): Promise<void> {
    const signal = this.stopper.signal;
    const o = this.options;
    let rv: string | undefined;
    let failures = 0;
    while (!signal.aborted) {
      let retryAfterMs = 0;
      try {
        if (rv === undefined) {
          const { items, resourceVersion } = await this.api.list<T>(this.resource, { namespace, labelSelector: o.labelSelector });
          this.lists++;
          if (signal.aborted) break;
          this.replace(namespace, items);
          rv = resourceVersion;
          onFirstList();
        }
        const opened = performance.now();
        const delivered = await this.watchOnce(namespace, rv, (next) => (rv = next));
        // A watch that ends at once with nothing delivered is a failure, not a loop to spin in.
        if (delivered > 0 || performance.now() - opened > 1000) failures = 0;
        else failures++;
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          // History is gone: relist (immediately the first time) and emit the differences.
          rv = undefined;
          if (failures++ === 0) continue;
        } else {
          failures++;
          o.onError?.(err);
          retryAfterMs = ((err as { retryAfterSeconds?: number }).retryAfterSeconds ?? 0) * 1000;
        }
      }
      if (failures > 0) {
        const base = o.backoffBaseMs ?? 250;
        const delay = Math.min(o.backoffMaxMs ?? 30_000, base * 2 ** (failures - 1));
        await sleep(Math.max(retryAfterMs, delay * (0.8 + Math.random() * 0.4)), signal);
      }
    }
  }

  /** One watch from `rv`; returns the number of events it delivered. */
  private async watchOnce(namespace: string | undefined, rv: string, setRv: (rv: string) => void): Promise<number> {
    const o = this.options;
    const ctl = new AbortController();
    const stop = (): void => ctl.abort();
    this.stopper.signal.addEventListener('abort', stop, { once: true });
    const idleMs = o.idleTimeoutMs ?? 150_000;
    let idle = setTimeout(stop, idleMs);
    let delivered = 0;
    try {
      const events = this.api.watch<T>(this.resource, {
        namespace, labelSelector: o.labelSelector, resourceVersion: rv, allowWatchBookmarks: true, signal: ctl.signal,
        timeoutSeconds: o.watchTimeoutSeconds ?? Math.floor(300 + Math.random() * 300),
      });
      for await (const e of events) {
        clearTimeout(idle);
        idle = setTimeout(stop, idleMs);
        delivered++;
        const next = e.object.metadata?.resourceVersion;
        if (e.type === 'BOOKMARK') {
          if (next) setRv(next);
          continue;
        }
        this.apply(e.type, e.object);
        if (next) setRv(next);
      }
    } finally {
      clearTimeout(idle);
      this.stopper.signal.removeEventListener('abort', stop);
    }
    return delivered;
  }

  private apply(type: string, obj: T): void {
    const key = keyOf(obj);
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      this.cache.delete(key);
      this.emit({ type: 'deleted', object: obj });
    } else if (type === 'ADDED' || type === 'MODIFIED') {
      this.cache.set(key, obj);
      this.emit(old ? { type: 'updated', object: obj, old } : { type: 'added', object: obj });
    }
  }

  /** Makes the cache of `namespace` (undefined: all) equal a fresh list, emitting the differences. */
  private replace(namespace: string | undefined, items: T[]): void {
    const fresh = new Map(items.map((i) => [keyOf(i), i]));
    for (const [key, old] of [...this.cache]) {
      if (namespace !== undefined && old.metadata.namespace !== namespace) continue;
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.emit({ type: 'deleted', object: old });
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.emit({ type: 'added', object: obj });
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit({ type: 'updated', object: obj, old });
    }
  }

  private emit(e: InformerEvent<T>): void {
    for (const h of this.handlers) {
      try {
        h(e);
      } catch (err) {
        this.options.onError?.(err);
      }
    }
  }
}
