// Binary heap of ready tasks: higher priority first, then first come first served. Removal is
// lazy: the owner checks an item is still current (its seq) when it pops it.

export interface ReadyItem {
  key: string;
  priority: number;
  seq: number;
}

function before(a: ReadyItem, b: ReadyItem): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;
}

export class ReadyQueue {
  private heap: ReadyItem[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(item: ReadyItem): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  peek(): ReadyItem | undefined {
    return this.heap[0];
  }

  pop(): ReadyItem | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < h.length && before(h[l]!, h[best]!)) best = l;
        if (r < h.length && before(h[r]!, h[best]!)) best = r;
        if (best === i) break;
        [h[i], h[best]] = [h[best]!, h[i]!];
        i = best;
      }
    }
    return top;
  }

  /** Drops stale items from the top so peek() shows a current one. */
  prune(isCurrent: (item: ReadyItem) => boolean): void {
    while (this.heap.length > 0 && !isCurrent(this.heap[0]!)) this.pop();
  }

  clear(): void {
    this.heap = [];
  }
}
