// What may run now: nthreads at a time, resources held while running, and (pipelining) tiny
// tasks beyond nthreads, `depth` per thread that no slow task holds. Durations are learnt per
// task group from the runs reported back.

export interface SlotOptions {
  nthreads: number;
  resources: Record<string, number>;
  depth: number;
  tinyMs: number;
}

export class Slots {
  running = 0;
  private runningTiny = 0;
  private readonly available: Record<string, number>;
  private readonly total: Record<string, number>;
  /** Moving average of run time per task group, in ms. */
  private readonly durations = new Map<string, number>();

  constructor(private readonly options: SlotOptions) {
    this.available = { ...options.resources };
    this.total = { ...options.resources };
  }

  /** A resource this worker does not have enough of even when idle, as a reason; else undefined. */
  lacking(resources: Record<string, number>): string | undefined {
    for (const [name, amount] of Object.entries(resources)) {
      const have = this.total[name] ?? 0;
      if (have < amount) return `worker has ${have} of resource ${name}, task needs ${amount}`;
    }
    return undefined;
  }

  fits(resources: Record<string, number>): boolean {
    for (const [name, amount] of Object.entries(resources)) if ((this.available[name] ?? 0) < amount) return false;
    return true;
  }

  mayStart(group: string): boolean {
    if (this.running < this.options.nthreads) return true;
    if (!this.isTiny(group)) return false;
    const slow = this.running - this.runningTiny;
    return this.runningTiny < Math.max(0, this.options.nthreads - slow) * this.options.depth;
  }

  /** Takes a slot; returns whether it counts as tiny (give that back to finish). */
  start(resources: Record<string, number>, group: string): boolean {
    const tiny = this.isTiny(group);
    if (tiny) this.runningTiny++;
    this.running++;
    for (const [name, amount] of Object.entries(resources)) this.available[name] = (this.available[name] ?? 0) - amount;
    return tiny;
  }

  /** Gives the slot back; `durationMs` of a run that completed (an interrupted one teaches nothing). */
  finish(resources: Record<string, number>, group: string, tiny: boolean, durationMs?: number): void {
    this.running--;
    if (tiny) this.runningTiny--;
    for (const [name, amount] of Object.entries(resources)) this.available[name] = (this.available[name] ?? 0) + amount;
    if (durationMs === undefined) return;
    const avg = this.durations.get(group);
    this.durations.set(group, avg === undefined ? durationMs : 0.8 * avg + 0.2 * durationMs);
  }

  private isTiny(group: string): boolean {
    const avg = this.durations.get(group);
    return avg !== undefined && avg < this.options.tinyMs;
  }
}
