// Expectations (as in client-go's controllers): pods this operator created or deleted that the
// informer cache has not shown yet. A reconcile that ran on a stale cache would otherwise
// create the same workers twice or delete one twice. Entries expire, so a lost watch event
// cannot wedge a group: after the TTL the cache is trusted again.
export class Expectations {
  private readonly creates = new Map<string, Map<string, number>>();
  private readonly deletes = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number, private readonly ttlMs = 30_000) {}

  expectCreate(owner: string, pod: string): void { this.entry(this.creates, owner).set(pod, this.now()); }
  expectDelete(owner: string, pod: string): void { this.entry(this.deletes, owner).set(pod, this.now()); }

  /** The cache showed this pod exist (or go). */
  observedCreate(owner: string, pod: string): void { this.creates.get(owner)?.delete(pod); }
  observedDelete(owner: string, pod: string): void { this.deletes.get(owner)?.delete(pod); }

  /** Pods created but not yet seen. */
  pendingCreates(owner: string): string[] { return this.live(this.creates, owner); }
  /** Pods deleted but still in the cache. */
  pendingDeletes(owner: string): string[] { return this.live(this.deletes, owner); }

  forget(owner: string): void {
    this.creates.delete(owner);
    this.deletes.delete(owner);
  }

  private entry(m: Map<string, Map<string, number>>, owner: string): Map<string, number> {
    let e = m.get(owner);
    if (!e) m.set(owner, (e = new Map()));
    return e;
  }

  private live(m: Map<string, Map<string, number>>, owner: string): string[] {
    const e = m.get(owner);
    if (!e) return [];
    const cutoff = this.now() - this.ttlMs;
    for (const [pod, at] of e) if (at < cutoff) e.delete(pod);
    return [...e.keys()];
  }
}
