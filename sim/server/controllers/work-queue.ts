// A deduplicating work queue: controllers react to store events on a later tick, once per key.
export class WorkQueue {
  private readonly pending = new Map<string, () => void>();
  private scheduled = false;
  private stopped = false;
  private unsubscribe?: () => void;
  /** Errors thrown by work items (kept for debugging; controllers retry on the next event). */
  readonly errors: unknown[] = [];

  add(key: string, work: () => void): void {
    if (this.stopped) return;
    this.pending.set(key, work);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Ties a store subscription to this queue: stop() ends both. */
  stopWith(unsubscribe: () => void): void {
    this.unsubscribe = unsubscribe;
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
    this.unsubscribe?.();
  }

  private drain(): void {
    this.scheduled = false;
    const batch = [...this.pending.values()];
    this.pending.clear();
    for (const work of batch) {
      try {
        work();
      } catch (err) {
        if (this.errors.length < 100) this.errors.push(err);
      }
    }
  }
}
