// Tasks per task group by progress bucket, as the dashboard's and the client's progress bars
// count them. Kept up to date on every state change (Core.setState) so that a read costs one
// step per group, never a walk over the tasks.
import type { TaskState } from './types.js';

export type ProgressBucket = 'waiting' | 'queued' | 'processing' | 'done' | 'erred';

export interface GroupCounts {
  group: string;
  /** Tasks of the group given to the scheduler (each key once per submission), less those
   *  withdrawn (forgotten before they ran or erred). */
  total: number;
  waiting: number;
  queued: number;
  processing: number;
  /** Computed at least once (in memory now, or released or forgotten after). */
  done: number;
  erred: number;
  /** Sum of the compute durations reported for the group, ms. */
  durationMs: number;
}

/**
 * The bucket of a task in `state` that last ended as `outcome` (TaskRecord.outcome), as the
 * client's progress (progress.ts) counts it; undefined for a forgotten task that never ended.
 */
export function progressBucket(state: TaskState, outcome: 'memory' | 'erred' | undefined): ProgressBucket | undefined {
  switch (state) {
    case 'memory': return 'done';
    case 'erred': return 'erred';
    case 'processing': return 'processing';
    case 'queued':
    case 'no-worker': return 'queued';
    case 'waiting': return 'waiting';
    case 'released': return outcome === 'memory' ? 'done' : outcome === 'erred' ? 'erred' : 'waiting';
    case 'forgotten': return outcome === 'memory' ? 'done' : outcome === 'erred' ? 'erred' : undefined;
  }
}

export class GroupProgressCounts {
  private readonly groups = new Map<string, GroupCounts>();
  /** Of the done and erred counts, the tasks forgotten since (validation recounts the rest). */
  private readonly forgotten = new Map<string, { done: number; erred: number }>();

  private of(group: string): GroupCounts {
    let g = this.groups.get(group);
    if (!g) {
      g = { group, total: 0, waiting: 0, queued: 0, processing: 0, done: 0, erred: 0, durationMs: 0 };
      this.groups.set(group, g);
    }
    return g;
  }

  /** A task entered the scheduler in `bucket` (a new task is released: waiting). */
  add(group: string, bucket: ProgressBucket): void {
    const g = this.of(group);
    g.total++;
    g[bucket]++;
  }

  move(group: string, from: ProgressBucket | undefined, to: ProgressBucket | undefined): void {
    if (from === to) return;
    const g = this.of(group);
    if (from) g[from]--;
    else g.total++;
    if (to) g[to]++;
    else g.total--;
  }

  /** The task moved to `to` by being forgotten: it stays counted, in the bucket it ended in. */
  forget(group: string, from: ProgressBucket | undefined, to: ProgressBucket | undefined): void {
    this.move(group, from, to);
    if (to !== 'done' && to !== 'erred') return;
    let f = this.forgotten.get(group);
    if (!f) {
      f = { done: 0, erred: 0 };
      this.forgotten.set(group, f);
    }
    f[to]++;
  }

  /** Done and erred tasks of the group no longer known to the scheduler. */
  forgottenOf(group: string): { done: number; erred: number } {
    return this.forgotten.get(group) ?? { done: 0, erred: 0 };
  }

  addDuration(group: string, ms: number): void { this.of(group).durationMs += ms; }

  /** Copies, in the order groups first appeared. */
  all(): GroupCounts[] { return [...this.groups.values()].map((g) => ({ ...g })); }
}
