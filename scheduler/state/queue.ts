// Ready queues: indexed binary heaps, so push, pop and removal of any queued task are
// O(log n) (plus one step per group of given-back tasks, see Lane) and no event has to scan
// the queue.

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

/** The sorted ids of the workers that gave a task back, as text: '[]' for none. */
function byKey(by: ReadonlySet<string> | undefined): string {
  return JSON.stringify(by ? [...by].sort() : []);
}

/** Tasks given back by the same workers, in run order. */
interface GivenBack<T extends HeapItem> {
  readonly by: ReadonlySet<string>;
  readonly heap: TaskHeap<T>;
}

/**
 * The queued tasks of one kind (tasks in a lane share resource needs and root-ness), in run
 * order. Tasks workers gave back (stolen or recalled) are kept apart, one heap per set of
 * workers that gave them back, so the first task a worker did not give back is the best of
 * a few heads: O(groups) however many tasks it gave back, and O(1) when none were.
 */
export class Lane<T extends HeapItem> {
  /** Tasks no worker gave back: the common case. */
  private readonly fresh = new TaskHeap<T>();
  /** Keyed by the sorted ids of the workers that gave them back. */
  private readonly givenBack = new Map<string, GivenBack<T>>();
  private count = 0;

  constructor(
    readonly id: string,
    readonly resources: Readonly<Record<string, number>>,
    /** Root tasks (no dependencies) are limited by worker slots; others only by resources. */
    readonly root: boolean,
  ) {}

  get size(): number { return this.count; }

  /** `givenBackBy`: the workers that gave the task back; it must not change while queued. */
  push(item: T, givenBackBy: ReadonlySet<string> | undefined): void {
    if (!givenBackBy || givenBackBy.size === 0) {
      this.fresh.push(item);
    } else {
      const key = byKey(givenBackBy);
      let group = this.givenBack.get(key);
      if (!group) {
        group = { by: new Set(givenBackBy), heap: new TaskHeap<T>() };
        this.givenBack.set(key, group);
      }
      group.heap.push(item);
    }
    this.count++;
  }

  has(item: T): boolean {
    if (this.fresh.has(item)) return true;
    for (const group of this.givenBack.values()) if (group.heap.has(item)) return true;
    return false;
  }

  remove(item: T): boolean {
    if (this.fresh.remove(item)) {
      this.count--;
      return true;
    }
    for (const [key, group] of this.givenBack) {
      if (!group.heap.remove(item)) continue;
      if (group.heap.size === 0) this.givenBack.delete(key); // groups stay as few as their tasks
      this.count--;
      return true;
    }
    return false;
  }

  /** The first task in run order. */
  peek(): T | undefined { return this.first(undefined); }

  /** The first task in run order that `workerId` did not give back. */
  peekFor(workerId: string): T | undefined { return this.first(workerId); }

  /** A snapshot, in no particular order. */
  values(): T[] {
    const all = this.fresh.values();
    for (const group of this.givenBack.values()) all.push(...group.heap.values());
    return all;
  }

  /**
   * What is wrong with the lane (a heap out of order, or a task filed with workers other than
   * those that gave it back), or undefined when it is sound. For validateState.
   */
  problem(givenBackBy: (item: T) => ReadonlySet<string> | undefined): string | undefined {
    const none: ReadonlySet<string> = new Set();
    const groups: Array<[ReadonlySet<string>, TaskHeap<T>]> = [[none, this.fresh]];
    for (const group of this.givenBack.values()) {
      if (group.heap.size === 0) return `an empty group given back by ${byKey(group.by)} is kept`;
      groups.push([group.by, group.heap]);
    }
    for (const [by, heap] of groups) {
      const problem = heap.problem();
      if (problem) return problem;
      for (const item of heap.values()) {
        const actual = givenBackBy(item) ?? none;
        if (actual.size !== by.size || [...actual].some((id) => !by.has(id))) {
          return `an item given back by ${byKey(actual)} is filed as given back by ${byKey(by)}`;
        }
      }
    }
    return undefined;
  }

  private first(skipping: string | undefined): T | undefined {
    let best = this.fresh.peek();
    for (const group of this.givenBack.values()) {
      if (skipping !== undefined && group.by.has(skipping)) continue;
      const head = group.heap.peek() as T;
      if (!best || runsBefore(head, best)) best = head;
    }
    return best;
  }
}

export class ReadyQueues<T extends HeapItem> {
  private readonly byId = new Map<string, Lane<T>>();
  private total = 0;

  get size(): number { return this.total; }

  push(
    item: T, id: string, resources: Readonly<Record<string, number>>, root: boolean,
    givenBackBy: ReadonlySet<string> | undefined,
  ): void {
    let lane = this.byId.get(id);
    if (!lane) {
      lane = new Lane<T>(id, resources, root);
      this.byId.set(id, lane);
    }
    lane.push(item, givenBackBy);
    this.total++;
  }

  has(item: T, id: string): boolean { return this.byId.get(id)?.has(item) ?? false; }

  remove(item: T, id: string): void {
    if (this.byId.get(id)?.remove(item)) this.total--;
  }

  /** Lanes are few (one per resource signature and root-ness); empty ones are kept. */
  lanes(): Iterable<Lane<T>> { return this.byId.values(); }
}
