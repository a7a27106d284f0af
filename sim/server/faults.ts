// Fault injection for tests: failing requests, dropped or stalled watches, compaction, slow writes.
import { ApiError, serviceUnavailable, tooManyRequests } from './errors.js';
import type { ObjectStore } from './store.js';
import type { WatchHandle } from './watch.js';

export interface InjectedFailure {
  /** HTTP status to answer: 429 (with Retry-After), 500, 503, ... */
  status: number;
  retryAfterSeconds?: number;
  /** How many matching requests fail (default 1). */
  count?: number;
  /** Which requests fail (default all). */
  match?: (method: string, path: string) => boolean;
}

export class Faults {
  /** Delay applied to every write (POST/PUT/PATCH/DELETE) before it is handled. */
  writeDelayMs = 0;
  private readonly pending: Array<InjectedFailure & { remaining: number }> = [];
  /** Requests answered with an injected failure so far. */
  injected = 0;

  constructor(private readonly store: ObjectStore, private readonly watches: Set<WatchHandle>) {}

  /** The next `count` matching requests fail with `status`. */
  next(failure: InjectedFailure): void {
    this.pending.push({ ...failure, remaining: failure.count ?? 1 });
  }

  /** Closes every open watch stream, as a load balancer or apiserver restart would. */
  dropWatches(): number {
    const open = [...this.watches];
    open.forEach((w) => w.close());
    return open.length;
  }

  /** Open watches deliver nothing for `ms`, then drop. */
  stallWatches(ms: number): void {
    for (const w of this.watches) w.stall(ms);
  }

  /** Forgets watch history: resumes from any earlier resourceVersion get 410 Expired. */
  compact(): void {
    this.store.compact();
  }

  openWatches(): number {
    return this.watches.size;
  }

  clear(): void {
    this.pending.length = 0;
    this.writeDelayMs = 0;
  }

  /** Consumes one injected failure matching this request, if any. */
  take(method: string, path: string): ApiError | undefined {
    const i = this.pending.findIndex((f) => !f.match || f.match(method, path));
    if (i < 0) return undefined;
    const f = this.pending[i];
    if (--f.remaining <= 0) this.pending.splice(i, 1);
    this.injected++;
    return f.status === 429 ? tooManyRequests(f.retryAfterSeconds ?? 1) : serviceUnavailable(f.status);
  }
}
