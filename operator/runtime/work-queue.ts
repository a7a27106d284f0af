// A controller work queue with client-go's semantics: a key is never handled by two workers
// at once, a key added while in flight is handled again afterwards, duplicates collapse,
// failures back off per key (base * 2^n, capped), and idle workers wait on a promise.
export type ReconcileResult = void | { requeueAfterMs: number; reason: string };

export interface WorkQueueResult {
  key: string;
  outcome: 'success' | 'requeue' | 'error';
  durationMs: number;
  error?: unknown;
  /** The stated reason of a requeue. */
  reason?: string;
}

export interface WorkQueueOptions {
  baseDelayMs?: number; // default 5
  maxDelayMs?: number; // default 60_000
  onResult?: (r: WorkQueueResult) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly idle: Array<(key: string | undefined) => void> = [];
  private readonly workers: Promise<void>[] = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly o: WorkQueueOptions = {}) {
    this.baseDelayMs = o.baseDelayMs ?? 5;
    this.maxDelayMs = o.maxDelayMs ?? 60_000;
  }

  /** Keys waiting to be handed out (not counting in-flight or delayed ones). */
  get depth(): number {
    return this.queue.length;
  }

  /** Failures of a key since it last succeeded or was forgotten. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // handed out again when its worker is done
    const waiter = this.idle.shift();
    if (waiter) this.hand(key, waiter);
    else this.queue.push(key);
  }

  /** Adds after a delay; of several pending delays for a key the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  run(concurrency: number, handler: (key: string) => Promise<ReconcileResult>): void {
    for (let i = 0; i < concurrency; i++) this.workers.push(this.worker(handler));
  }

  /** Stops handing out keys and waits for the handlers in flight. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) clearTimeout(d.timer);
    this.delayed.clear();
    this.queue.length = 0;
    this.dirty.clear();
    for (const waiter of this.idle.splice(0)) waiter(undefined);
    await Promise.all(this.workers);
  }

  private hand(key: string, to: (key: string) => void): void {
    this.dirty.delete(key);
    this.processing.add(key);
    to(key);
  }

  private next(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async worker(handler: (key: string) => Promise<ReconcileResult>): Promise<void> {
    for (;;) {
      const key = await this.next();
      if (key === undefined) return;
      const started = performance.now();
      let report: WorkQueueResult;
      try {
        const result = await handler(key);
        this.forget(key);
        if (result) {
          this.addAfter(key, result.requeueAfterMs);
          report = { key, outcome: 'requeue', durationMs: performance.now() - started, reason: result.reason };
        } else {
          report = { key, outcome: 'success', durationMs: performance.now() - started };
        }
      } catch (error) {
        this.addRateLimited(key);
        report = { key, outcome: 'error', durationMs: performance.now() - started, error };
      }
      this.done(key);
      try {
        this.o.onResult?.(report);
      } catch {
        // a broken observer must not stop the worker
      }
    }
  }

  private done(key: string): void {
    this.processing.delete(key);
    if (!this.dirty.has(key) || this.shuttingDown) return;
    const waiter = this.idle.shift();
    if (waiter) this.hand(key, waiter);
    else this.queue.push(key);
  }
}
