// Records in the order they came, each with the (monotonic) time it was recorded at, for
// "what came after t" reads; past the cap the oldest go, an eighth of the cap at a time.

export class CappedLog<T> {
  private readonly items: T[] = [];
  private readonly at: number[] = [];

  constructor(private readonly cap: number) {
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`a history log's cap must be a positive integer, got ${cap}`);
  }

  push(item: T, at: number): void {
    this.items.push(item);
    this.at.push(at);
    if (this.items.length > this.cap) {
      const n = Math.max(this.items.length - this.cap, Math.ceil(this.cap / 8));
      this.items.splice(0, n);
      this.at.splice(0, n);
    }
  }

  all(): T[] { return [...this.items]; }

  /** Records recorded after `since`. */
  after(since: number): T[] {
    let lo = 0;
    let hi = this.at.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at[mid]! > since) hi = mid;
      else lo = mid + 1;
    }
    return this.items.slice(lo);
  }
}
