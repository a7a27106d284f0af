// What the autoscaler remembers about one cluster between decisions: per worker group, the
// recommendations of the stabilization windows and the scale events of the rate periods.
//
// Recommendations arrive up to 10 times a second for hours, and only the window minimum
// (scale-up) and maximum (scale-down) are ever asked for. So each window keeps a monotonic
// deque: a sample that is older and no lower (no higher) than a newer one can never be the
// window's minimum (maximum) again and is dropped. This is exact, and memory is bounded by the
// distinct values within the window, not by the rate (a steady stream keeps one sample).
// Times are milliseconds and must not go back.
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP } from './policy.js';
import type { ResolvedPolicy } from './types.js';

interface Sample { t: number; v: number }
interface Change { t: number; added: number; removed: number }

interface GroupHistory {
  /** Increasing values, oldest first: the front is the scale-up window's minimum. */
  low: Sample[];
  /** Decreasing values, oldest first: the front is the scale-down window's maximum. */
  high: Sample[];
  events: Change[];
}

export class ScalingHistory {
  private readonly groups = new Map<string, GroupHistory>();
  private upWindowMs = 0;
  private downWindowMs = 0;
  private longestPeriodMs = 0;

  constructor(behavior: ResolvedPolicy['behavior'] = { scaleUp: DEFAULT_SCALE_UP, scaleDown: DEFAULT_SCALE_DOWN }) {
    this.retain(behavior);
  }

  /** Sets the windows and periods kept to the behaviour in force; decide() calls it each time.
   *  A window made longer starts with only what the shorter one had kept. */
  retain(behavior: ResolvedPolicy['behavior']): void {
    this.upWindowMs = behavior.scaleUp.stabilizationWindowSeconds * 1000;
    this.downWindowMs = behavior.scaleDown.stabilizationWindowSeconds * 1000;
    const periods = [...behavior.scaleUp.policies, ...behavior.scaleDown.policies].map((p) => p.periodSeconds);
    this.longestPeriodMs = Math.max(0, ...periods) * 1000;
  }

  has(group: string): boolean {
    return this.groups.has(group);
  }

  /** First sight of a group: its current replicas count as a recommendation seen now, so a
   *  restarted operator (or a new cluster) waits a whole window before scaling either way, as if
   *  it had watched the group all along. A window of 0 drops this sample at once. */
  begin(group: string, now: number, replicas: number): void {
    this.groups.set(group, { low: [{ t: now, v: replicas }], high: [{ t: now, v: replicas }], events: [] });
  }

  /** Adds a recommendation and returns the scale-up window's minimum and the scale-down
   *  window's maximum, this one included. A sample counts while now - t < window (the HPA's
   *  rule), so a window of 0 holds only this one. */
  record(group: string, now: number, value: number): { min: number; max: number } {
    const h = this.group(group);
    push(h.low, now, value, (back) => back.v >= value);
    push(h.high, now, value, (back) => back.v <= value);
    prune(h.low, now - this.upWindowMs);
    prune(h.high, now - this.downWindowMs);
    return { min: h.low[0].v, max: h.high[0].v };
  }

  /** A change of replicas the caller wrote successfully. */
  applied(group: string, now: number, from: number, to: number): void {
    if (from === to) return;
    const h = this.group(group);
    h.events.push({ t: now, added: Math.max(0, to - from), removed: Math.max(0, from - to) });
    while (h.events.length > 0 && h.events[0].t <= now - this.longestPeriodMs) h.events.shift();
  }

  /** Pods added and removed by the changes of the last `periodSeconds`. */
  changes(group: string, now: number, periodSeconds: number): { added: number; removed: number } {
    const cutoff = now - periodSeconds * 1000;
    let added = 0;
    let removed = 0;
    for (const e of this.groups.get(group)?.events ?? []) {
      if (e.t > cutoff) {
        added += e.added;
        removed += e.removed;
      }
    }
    return { added, removed };
  }

  forgetGroup(group: string): void {
    this.groups.delete(group);
  }

  /** Forgets the groups the cluster no longer has. */
  forgetAllBut(groups: ReadonlySet<string>): void {
    for (const g of [...this.groups.keys()]) if (!groups.has(g)) this.groups.delete(g);
  }

  /** Samples and events held for a group: what its memory costs. */
  size(group: string): number {
    const h = this.groups.get(group);
    return h ? h.low.length + h.high.length + h.events.length : 0;
  }

  private group(name: string): GroupHistory {
    let h = this.groups.get(name);
    if (!h) {
      h = { low: [], high: [], events: [] };
      this.groups.set(name, h);
    }
    return h;
  }
}

/** Appends a sample after dropping the ones it makes irrelevant (equal values coalesce: the newer lasts longer). */
function push(deque: Sample[], t: number, v: number, supersedes: (back: Sample) => boolean): void {
  while (deque.length > 0 && supersedes(deque[deque.length - 1])) deque.pop();
  deque.push({ t, v });
}

/** Drops samples at or before the cutoff, always keeping the newest (the current one). */
function prune(deque: Sample[], cutoff: number): void {
  let drop = 0;
  while (drop < deque.length - 1 && deque[drop].t <= cutoff) drop++;
  if (drop > 0) deque.splice(0, drop);
}
