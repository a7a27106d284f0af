// Progress of some keys, per task group, as dask.distributed's progress() shows it: the keys
// and every task they depend on that the scheduler still knows, counted by state. A read-only
// query: one iterative walk with a visited set, linear in the tasks reached.
import type { Core, TaskRecord } from './core.js';
import { progressBucket, type GroupCounts, type ProgressBucket } from './group-progress.js';

/** One task group's tasks among those reached from the keys, by bucket (see progressBucket). */
export type KeysGroupProgress = Omit<GroupCounts, 'durationMs'>;

export interface KeysProgress {
  /** Groups in submission order (by the earliest-submitted task of each). */
  groups: KeysGroupProgress[];
  /** The keys asked about, each counted once. */
  keys: number;
  /** Of those: done (see KeysGroupProgress.done), erred, and not known here (forgotten or never submitted). */
  finished: number;
  erred: number;
  unknown: number;
  /** Every key asked about is known and done or erred: nothing more will happen to them. */
  allDone: boolean;
}

/** The walk reaches only tasks the scheduler knows, so none is forgotten without an end. */
const bucketOf = (ts: TaskRecord): ProgressBucket => progressBucket(ts.state, ts.outcome) ?? 'waiting';

export function keysProgress(c: Core, keys: Iterable<string>): KeysProgress {
  const asked = new Set(keys);
  const seen = new Set<TaskRecord>();
  const stack: TaskRecord[] = [];
  let finished = 0;
  let erred = 0;
  let unknown = 0;
  for (const key of asked) {
    const ts = c.tasks.get(key);
    if (!ts) {
      unknown++;
      continue;
    }
    const bucket = bucketOf(ts);
    if (bucket === 'done') finished++;
    else if (bucket === 'erred') erred++;
    if (!seen.has(ts)) {
      seen.add(ts);
      stack.push(ts);
    }
  }
  const byGroup = new Map<string, KeysGroupProgress & { firstSeq: number }>();
  let g: (KeysGroupProgress & { firstSeq: number }) | undefined;
  for (let ts = stack.pop(); ts; ts = stack.pop()) {
    if (g?.group !== ts.group) g = byGroup.get(ts.group); // neighbours mostly share a group: skip the lookup
    if (!g) {
      g = { group: ts.group, total: 0, done: 0, erred: 0, processing: 0, queued: 0, waiting: 0, firstSeq: ts.seq };
      byGroup.set(ts.group, g);
    }
    g.total++;
    g[bucketOf(ts)]++;
    if (ts.seq < g.firstSeq) g.firstSeq = ts.seq;
    for (const dep of ts.dependencies) {
      if (!seen.has(dep)) {
        seen.add(dep);
        stack.push(dep);
      }
    }
  }
  const groups = [...byGroup.values()].sort((a, b) => a.firstSeq - b.firstSeq).map(({ firstSeq: _, ...counts }) => counts);
  return { groups, keys: asked.size, finished, erred, unknown, allDone: unknown === 0 && finished + erred === asked.size };
}
