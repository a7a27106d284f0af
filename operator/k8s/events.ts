// Kubernetes Events for what the operator does, as client-go's recorder: fire-and-forget,
// and a repeat of the same object, reason and message within 10 minutes bumps the count of
// the existing Event instead of making a new one. Writes share the client's rate limiter.
// A state transition (a phase) recorded again with no other between is not a new occurrence
// but a pass that read the object before its status write came back: it is dropped.
import type { IEvent } from 'kubernetes-models/v1/Event';
import { hostname } from 'node:os';
import { isNotFound, type KubeApi, type KubeObject, type KubeObjectLike } from './kube-api.js';
import { R } from './resources.js';

export interface EventRecorderOptions {
  component: string;
  host?: string;
  onError?: (err: unknown) => void;
  /** Window in which repeats aggregate (default 10 minutes). */
  aggregateWindowMs?: number;
}

interface Seen { namespace: string; name: string; count: number; lastMs: number }

const MAX_SEEN = 4096;
const MAX_MESSAGE = 1024;
const time = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  /** The last transition event of each family per object. */
  private readonly transitions = new Map<string, string>();
  /** Writes per aggregation key run one after another, so a repeat finds the Event it bumps. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly pending = new Set<Promise<void>>();
  private sequence = 0;
  private readonly host: string;

  constructor(private readonly api: KubeApi, private readonly o: EventRecorderOptions) {
    this.host = o.host ?? hostname();
  }

  record(object: KubeObjectLike | KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, transition?: string): void {
    try {
      const m = object.metadata ?? {};
      if (transition !== undefined && this.repeatsTransition(object, transition, [type, reason, message])) return;
      const namespace = m.namespace || 'default'; // cluster-scoped objects' events live in default
      const msg = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
      const key = JSON.stringify([object.apiVersion, object.kind, m.namespace, m.name, m.uid, type, reason, msg]);
      const p = (this.chains.get(key) ?? Promise.resolve())
        .then(() => this.write(key, object, namespace, type, reason, msg))
        .catch((err: unknown) => this.o.onError?.(err));
      this.chains.set(key, p);
      this.pending.add(p);
      void p.finally(() => {
        this.pending.delete(p);
        if (this.chains.get(key) === p) this.chains.delete(key);
      });
    } catch (err) {
      this.o.onError?.(err);
    }
  }

  /** Waits for the writes in flight (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async write(key: string, object: KubeObjectLike, namespace: string, type: string, reason: string, message: string): Promise<void> {
    const now = Date.now();
    const prev = this.seen.get(key);
    if (prev && now - prev.lastMs < (this.o.aggregateWindowMs ?? 600_000)) {
      try {
        await this.api.patch(R.events, prev.namespace, prev.name, { count: prev.count + 1, lastTimestamp: time(now) }, { type: 'merge' });
        this.remember(key, { ...prev, count: prev.count + 1, lastMs: now });
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err; // the Event expired or was deleted: make a new one
      }
    }
    const m = object.metadata ?? {};
    const name = `${m.name}.${now.toString(16)}${(this.sequence++ % 4096).toString(16).padStart(3, '0')}`;
    const event: KubeObject & IEvent = {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name, namespace },
      involvedObject: { apiVersion: object.apiVersion, kind: object.kind, name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
      type, reason, message, count: 1, firstTimestamp: time(now), lastTimestamp: time(now),
      source: { component: this.o.component, host: this.host },
      reportingComponent: this.o.component, reportingInstance: this.host,
    };
    await this.api.create(R.events, namespace, event);
    this.remember(key, { namespace, name, count: 1, lastMs: now });
  }

  private repeatsTransition(object: KubeObjectLike, family: string, event: string[]): boolean {
    const m = object.metadata ?? {};
    const key = JSON.stringify([object.apiVersion, object.kind, m.namespace, m.name, m.uid, family]);
    const value = JSON.stringify(event);
    if (this.transitions.get(key) === value) return true;
    this.transitions.delete(key);
    this.transitions.set(key, value);
    if (this.transitions.size > MAX_SEEN) this.transitions.delete(this.transitions.keys().next().value as string);
    return false;
  }

  private remember(key: string, s: Seen): void {
    this.seen.delete(key);
    this.seen.set(key, s);
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seen.keys().next().value as string);
  }
}
