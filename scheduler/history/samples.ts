// Samples over time in named columns sharing one time column. A column first seen late is
// filled with nulls before it; a column missing from a sample gets a null. At most one sample
// per interval is taken; past `max` samples every other one goes and the interval doubles, so
// a long session keeps its whole span at a coarser step, at a bounded size.

export class SampledColumns {
  t: number[] = [];
  readonly columns = new Map<string, (number | null)[]>();

  constructor(private intervalMs: number, private readonly max: number) {
    if (!(intervalMs > 0)) throw new RangeError(`the sampling interval must be > 0 ms, got ${intervalMs}`);
    if (!Number.isInteger(max) || max < 2) throw new RangeError(`the samples kept must be an integer >= 2, got ${max}`);
  }

  /** Whether a sample at `t` would be taken. */
  due(t: number): boolean {
    const last = this.t[this.t.length - 1];
    return last === undefined || t - last >= this.intervalMs;
  }

  add(t: number, values: ReadonlyMap<string, number | null>): void {
    const n = this.t.length;
    this.t.push(t);
    for (const [name, column] of this.columns) column.push(values.get(name) ?? null);
    for (const [name, value] of values) {
      if (this.columns.has(name)) continue;
      const column: (number | null)[] = new Array<number | null>(n).fill(null);
      column.push(value);
      this.columns.set(name, column);
    }
    if (this.t.length > this.max) this.thin();
  }

  /** Forgets a column: later samples no longer carry it. */
  remove(name: string): void {
    this.columns.delete(name);
  }

  /** Index of the first sample after `since`. */
  indexAfter(since: number): number {
    let lo = 0;
    let hi = this.t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.t[mid]! > since) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private thin(): void {
    const keep = (_: unknown, i: number, all: readonly unknown[]) => i % 2 === 0 || i === all.length - 1;
    this.t = this.t.filter(keep);
    for (const [name, column] of this.columns) this.columns.set(name, column.filter(keep));
    this.intervalMs *= 2;
  }
}
