// Which keys to ask of which peer: keys wait in a queue per peer, and each peer has at most
// one Fetch in flight, so keys that pile up meanwhile leave together in the next one.

const MAX_FETCH_KEYS = 1_000;

export class FetchQueue {
  private readonly queued = new Map<string, Set<string>>();
  private readonly inFlight = new Map<string, Set<string>>();

  /** Queues `key` for one of `holders` and returns the peer chosen. */
  enqueue(key: string, holders: string[]): string {
    // Prefer an idle peer, then one that already has keys queued (one bigger Fetch).
    let best = holders[0]!;
    let bestScore = -1;
    for (const a of holders) {
      const score = (this.inFlight.has(a) ? 0 : 2) + (this.queued.has(a) ? 1 : 0);
      if (score > bestScore) {
        best = a;
        bestScore = score;
      }
    }
    let q = this.queued.get(best);
    if (!q) this.queued.set(best, (q = new Set()));
    q.add(key);
    return best;
  }

  dequeue(key: string, peer: string): void {
    const q = this.queued.get(peer);
    q?.delete(key);
    if (q?.size === 0) this.queued.delete(peer);
  }

  queuedFor(peer: string): string[] {
    return [...(this.queued.get(peer) ?? [])];
  }

  /** Starts one Fetch per idle peer with queued keys; the caller marks the keys in flight. */
  start(): Array<{ peer: string; keys: string[] }> {
    const out: Array<{ peer: string; keys: string[] }> = [];
    for (const [peer, keys] of this.queued) {
      if (this.inFlight.has(peer)) continue;
      const batch: string[] = [];
      for (const key of keys) {
        if (batch.length >= MAX_FETCH_KEYS) break;
        batch.push(key);
      }
      for (const key of batch) keys.delete(key);
      if (keys.size === 0) this.queued.delete(peer);
      this.inFlight.set(peer, new Set(batch));
      out.push({ peer, keys: batch });
    }
    return out;
  }

  /** The peer's Fetch ended; returns the keys it was asked for. */
  finish(peer: string): Set<string> {
    const asked = this.inFlight.get(peer) ?? new Set<string>();
    this.inFlight.delete(peer);
    return asked;
  }
}
