// Per-key status as reported by the scheduler, with waiters; and reference counts of the
// live Futures for each key, so the key is released when the last one goes.
import { CancelledError, KubedaskError, RemoteTaskError } from '../protocol/errors.js';

export type KeyStatus = 'pending' | 'finished' | 'error' | 'cancelled' | 'lost';

interface KeyRecord {
  status: KeyStatus;
  error?: Error;
  waiters: { resolve(): void; reject(err: Error): void }[];
  refs: number;
}

export class KeyTracker {
  private readonly keys = new Map<string, KeyRecord>();

  private record(key: string): KeyRecord {
    let r = this.keys.get(key);
    if (!r) {
      r = { status: 'pending', waiters: [], refs: 0 };
      this.keys.set(key, r);
    }
    return r;
  }

  status(key: string): KeyStatus {
    return this.keys.get(key)?.status ?? 'lost';
  }

  /** Whether a live Future of this client holds the key. */
  holds(key: string): boolean {
    return (this.keys.get(key)?.refs ?? 0) > 0;
  }

  /** Adds a reference; returns true for the first one. */
  retain(key: string): boolean {
    const r = this.record(key);
    r.refs += 1;
    return r.refs === 1;
  }

  /** Drops a reference; returns true when it was the last one (the key is forgotten). */
  release(key: string): boolean {
    const r = this.keys.get(key);
    if (!r) return false;
    r.refs -= 1;
    if (r.refs > 0) return false;
    if (r.waiters.length) this.settle(key, 'lost', new KubedaskError(`key ${key} was released`));
    this.keys.delete(key);
    return true;
  }

  wait(key: string): Promise<void> {
    const r = this.keys.get(key);
    if (!r) return Promise.reject(new KubedaskError(`key ${key} is not held by this client`));
    if (r.status === 'finished') return Promise.resolve();
    if (r.status !== 'pending') return Promise.reject(r.error ?? new KubedaskError(`key ${key} is ${r.status}`));
    return new Promise((resolve, reject) => r.waiters.push({ resolve, reject }));
  }

  finished(key: string): void {
    this.settle(key, 'finished');
  }

  erred(key: string, remote: { name: string; message: string; stack: string; worker: string }): void {
    this.settle(key, 'error', new RemoteTaskError(remote.message, key, remote.name, remote.stack, remote.worker));
  }

  cancelled(key: string): void {
    this.settle(key, 'cancelled', new CancelledError(key));
  }

  lost(key: string, why: string): void {
    this.settle(key, 'lost', new KubedaskError(`key ${key} was lost: ${why}`));
  }

  /** Submitted again after it was cancelled or failed: it is pending once more. */
  resubmitted(key: string): void {
    const r = this.keys.get(key);
    if (r && r.status !== 'finished') {
      r.status = 'pending';
      r.error = undefined;
    }
  }

  /** The submission itself failed (validation, connection). */
  failed(key: string, err: Error): void {
    this.settle(key, 'error', err);
  }

  /** A finished key's value went missing and is being recomputed. */
  pending(key: string): void {
    const r = this.keys.get(key);
    if (r && r.status === 'finished') r.status = 'pending';
  }

  failAll(err: Error): void {
    for (const key of this.keys.keys()) this.settle(key, 'lost', err);
  }

  /** A key may finish again after being recomputed, so 'finished' can be re-entered. */
  private settle(key: string, status: KeyStatus, error?: Error): void {
    const r = this.keys.get(key);
    if (!r) return;
    r.status = status;
    r.error = error;
    const waiters = r.waiters;
    r.waiters = [];
    for (const w of waiters) {
      if (error) w.reject(error);
      else w.resolve();
    }
  }
}
