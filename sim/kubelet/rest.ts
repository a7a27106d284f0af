// A small JSON client for the kubelet: the real kubelet is not what these tests examine, so
// it talks plain HTTP (list, watch, patch, delete) rather than through a client library.
import { KubeRestError } from './errors.js';

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; deletionTimestamp?: string; deletionGracePeriodSeconds?: number; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

export interface WatchEvent<T> { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: T }

export class Rest {
  constructor(readonly server: string) {}

  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const res = await fetch(this.server + path, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': contentType },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try { message = (JSON.parse(text) as { message?: string }).message ?? text; } catch { /* plain text body */ }
      throw new KubeRestError(res.status, `${method} ${path}: ${res.status} ${message}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string): Promise<T> { return this.request('GET', path); }
  create<T>(path: string, body: unknown): Promise<T> { return this.request('POST', path, body); }
  mergePatch<T>(path: string, body: unknown): Promise<T> { return this.request('PATCH', path, body, 'application/merge-patch+json'); }
  delete<T>(path: string, body?: unknown): Promise<T> { return this.request('DELETE', path, body); }

  /**
   * Lists then watches `path` until `signal` aborts, calling onEvent for every change; on a
   * dropped or expired watch it relists (with backoff), as informers do.
   */
  async listWatch<T extends KubeObject>(path: string, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
    let backoffMs = 100;
    const known = new Map<string, T>();
    while (!signal.aborted) {
      try {
        const list = await this.get<{ items: T[]; metadata: { resourceVersion: string } }>(path);
        const seen = new Set<string>();
        for (const item of list.items) {
          const id = `${item.metadata.namespace ?? ''}/${item.metadata.name}`;
          seen.add(id);
          onEvent({ type: known.has(id) ? 'MODIFIED' : 'ADDED', object: item });
          known.set(id, item);
        }
        for (const [id, item] of known) if (!seen.has(id)) { known.delete(id); onEvent({ type: 'DELETED', object: item }); }
        let rv = list.metadata.resourceVersion;
        for (;;) {
          const sep = path.includes('?') ? '&' : '?';
          const res = await fetch(`${this.server}${path}${sep}watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`, { signal });
          if (!res.ok || !res.body) throw new KubeRestError(res.status, `watch ${path}: ${res.status}`);
          let buffer = '';
          let expired = false;
          for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
            buffer += Buffer.from(piece).toString('utf8');
            let nl: number;
            while ((nl = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, nl).trim();
              buffer = buffer.slice(nl + 1);
              if (!line) continue;
              const event = JSON.parse(line) as WatchEvent<T>;
              if (event.type === 'ERROR') { expired = true; break; }
              rv = event.object.metadata.resourceVersion ?? rv;
              if (event.type === 'BOOKMARK') continue;
              const id = `${event.object.metadata.namespace ?? ''}/${event.object.metadata.name}`;
              if (event.type === 'DELETED') known.delete(id); else known.set(id, event.object);
              onEvent(event);
            }
            if (expired) break;
          }
          backoffMs = 100;
          if (expired) break; // relist
        }
      } catch (err) {
        if (signal.aborted) return;
        void err;
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }
}
