// Ready queues: indexed binary heaps, so push, pop and removal of any queued task are
// O(log n) and no event has to scan the queue.

/** What a heap needs from its items: an order, and a slot to remember where each sits. */
export interface HeapItem {
  readonly priority: number;
  readonly seq: number;
  heapIndex: number;
}

/** Higher priority first, then first come, first served. */
export function runsBefore(a: HeapItem, b: HeapItem): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}

export class TaskHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  /** `before(a, b)`: a comes out first. Default: the order tasks run in. */
  constructor(private readonly before: (a: T, b: T) => boolean = runsBefore) {}

  get size(): number { return this.items.length; }

  peek(): T | undefined { return this.items[0]; }

  /**
   * The first item to come out that passes `ok`, searched best-first: a child comes out after
   * its parent, so only children of items that failed can be next. The candidates are kept in
   * a heap of their own, so the search costs O(k log k) for the k items that fail before the
   * answer, and O(1) when the first item passes.
   */
  peekWhere(ok: (item: T) => boolean): T | undefined {
    const items = this.items;
    const first = items[0];
    if (first === undefined || ok(first)) return first;
    const candidates = new SlotHeap((a, b) => this.before(items[a] as T, items[b] as T));
    for (let i = 0; ; i = candidates.pop() as number) {
      if (i > 0 && ok(items[i] as T)) return items[i];
      if (2 * i + 1 < items.length) candidates.push(2 * i + 1);
      if (2 * i + 2 < items.length) candidates.push(2 * i + 2);
      if (candidates.size === 0) return undefined;
    }
  }

  has(item: T): boolean {
    const i = item.heapIndex;
    return i >= 0 && i < this.items.length && this.items[i] === item;
  }

  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.up(item.heapIndex);
  }

  remove(item: T): boolean {
    if (!this.has(item)) return false;
    const i = item.heapIndex;
    const last = this.items.pop() as T;
    item.heapIndex = -1;
    if (last !== item) {
      this.items[i] = last;
      last.heapIndex = i;
      if (i > 0 && this.before(last, this.items[(i - 1) >> 1] as T)) this.up(i);
      else this.down(i);
    }
    return true;
  }

  /** A snapshot, in no particular order. */
  values(): T[] { return [...this.items]; }

  /** What is wrong with the heap (a slot its item does not record, or an item above one that
   * should come out first), or undefined when it is sound. For validateState. */
  problem(): string | undefined {
    const items = this.items;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as T;
      if (item.heapIndex !== i) return `the item in slot ${i} records slot ${item.heapIndex}`;
      if (i > 0 && this.before(item, items[(i - 1) >> 1] as T)) return `the item in slot ${i} should come out before its parent`;
    }
    return undefined;
  }

  private up(i: number): void {
    const items = this.items;
    const item = items[i] as T;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as T;
      if (!this.before(item, p)) break;
      items[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i] as T;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(items[r] as T, items[l] as T) ? r : l;
      const child = items[c] as T;
      if (!this.before(child, item)) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}

/** A plain binary heap of slot numbers, for peekWhere's candidates. */
class SlotHeap {
  private readonly slots: number[] = [];

  constructor(private readonly before: (a: number, b: number) => boolean) {}

  get size(): number { return this.slots.length; }

  push(slot: number): void {
    const s = this.slots;
    let i = s.length;
    s.push(slot);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(slot, s[parent] as number)) break;
      s[i] = s[parent] as number;
      i = parent;
    }
    s[i] = slot;
  }

  pop(): number | undefined {
    const s = this.slots;
    const top = s[0];
    const last = s.pop() as number;
    if (s.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= s.length) break;
      const r = l + 1;
      const c = r < s.length && this.before(s[r] as number, s[l] as number) ? r : l;
      if (!this.before(s[c] as number, last)) break;
      s[i] = s[c] as number;
      i = c;
    }
    s[i] = last;
    return top;
  }
}

/** One heap per kind of task: tasks in a lane share resource needs and root-ness. */
export interface Lane<T extends HeapItem> {
  readonly id: string;
  readonly resources: Readonly<Record<string, number>>;
  /** Root tasks (no dependencies) are limited by worker slots; others only by resources. */
  readonly root: boolean;
  readonly heap: TaskHeap<T>;
}

export class ReadyQueues<T extends HeapItem> {
  private readonly byId = new Map<string, Lane<T>>();
  private total = 0;

  get size(): number { return this.total; }

  push(item: T, id: string, resources: Readonly<Record<string, number>>, root: boolean): void {
    let lane = this.byId.get(id);
    if (!lane) {
      lane = { id, resources, root, heap: new TaskHeap<T>() };
      this.byId.set(id, lane);
    }
    lane.heap.push(item);
    this.total++;
  }

  has(item: T, id: string): boolean { return this.byId.get(id)?.heap.has(item) ?? false; }

  remove(item: T, id: string): void {
    if (this.byId.get(id)?.heap.remove(item)) this.total--;
  }

  /** Lanes are few (one per resource signature and root-ness); empty ones are kept. */
  lanes(): Iterable<Lane<T>> { return this.byId.values(); }
}
