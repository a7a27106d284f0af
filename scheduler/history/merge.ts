// A delta applied to what a reader has (a snapshot, or a delta gathered so far): how a client
// pages through a long history and how a reader keeps its copy current. Pure; copies.
import type { ClusterSeries, HistoryDelta, HistorySnapshot, MemorySeries, StreamColumns } from './types.js';

/**
 * `base` followed by `d`, which must have been asked for with base's cursor, lane and group
 * counts and `now` as since. Entries the scheduler dropped meanwhile are simply absent
 * (d.from > base.cursor); those the reader has stay.
 */
export function applyDelta<T extends HistorySnapshot | HistoryDelta>(base: T, d: HistoryDelta): T {
  if (d.from < base.cursor) throw new RangeError(`the delta starts at entry ${d.from}, before the ${base.cursor} already held: ask from the cursor held`);
  return {
    ...base,
    now: d.now,
    cursor: d.cursor,
    dropped: d.dropped,
    lanes: [...base.lanes, ...d.lanes],
    groups: [...base.groups, ...d.groups],
    stream: appendColumns(base.stream, d.stream),
    progress: d.progress,
    workers: d.workers,
    cluster: appendCluster(base.cluster, d.cluster),
    memory: appendMemory(base.memory, d.memory),
    decisions: [...base.decisions, ...d.decisions],
    failed: [...base.failed, ...d.failed],
    workerEvents: [...base.workerEvents, ...d.workerEvents],
  };
}

function appendColumns(a: StreamColumns, b: StreamColumns): StreamColumns {
  return {
    start: a.start.concat(b.start), duration: a.duration.concat(b.duration), lane: a.lane.concat(b.lane),
    group: a.group.concat(b.group), kind: a.kind.concat(b.kind), key: a.key.concat(b.key), bytes: a.bytes.concat(b.bytes),
  };
}

/** Column `a` (or nulls for its `na` samples) then `b` (or nulls for its `nb`). */
function joinColumn(a: (number | null)[] | undefined, na: number, b: (number | null)[] | undefined, nb: number): (number | null)[] {
  return (a ?? new Array<number | null>(na).fill(null)).concat(b ?? new Array<number | null>(nb).fill(null));
}

function appendCluster(a: ClusterSeries, b: ClusterSeries): ClusterSeries {
  const targets: ClusterSeries['targets'] = {};
  for (const group of new Set([...Object.keys(a.targets), ...Object.keys(b.targets)])) {
    targets[group] = joinColumn(a.targets[group], a.t.length, b.targets[group], b.t.length);
  }
  return {
    t: a.t.concat(b.t), workers: a.workers.concat(b.workers), processing: a.processing.concat(b.processing),
    queued: a.queued.concat(b.queued), memory: a.memory.concat(b.memory), targets,
  };
}

/**
 * A delta names every worker whose memory series the scheduler keeps (with no values when no
 * sample is new): one it no longer names was dropped (departed long ago) and goes here too; one
 * named first is padded with nulls before.
 */
function appendMemory(a: MemorySeries, b: MemorySeries): MemorySeries {
  const workers: MemorySeries['workers'] = {};
  for (const name of Object.keys(b.workers)) {
    const x = a.workers[name];
    const y = b.workers[name];
    workers[name] = {
      managed: joinColumn(x?.managed, a.t.length, y?.managed, b.t.length),
      unmanaged: joinColumn(x?.unmanaged, a.t.length, y?.unmanaged, b.t.length),
      spilled: joinColumn(x?.spilled, a.t.length, y?.spilled, b.t.length),
    };
  }
  return { t: a.t.concat(b.t), workers };
}
