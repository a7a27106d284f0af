// What a window of time looked like, out of a snapshot: for performance reports, which cover
// only what ran inside the report's function. Pure.
import type { ClusterSeries, GroupProgress, HistorySnapshot, MemorySeries, StreamColumns } from './types.js';
import { ENTRY_KIND } from './types.js';

/**
 * The snapshot cut to [fromMs, toMs]: stream entries overlapping the window, series samples,
 * decisions, failures and worker events within it. Lanes and groups are kept whole (entries
 * index them). Progress is recounted from the entries kept: per group, the tasks computed
 * (done) and failed (erred) in the window and their compute time; nothing waits in a window
 * that is over. Worker rows are the snapshot's.
 */
export function sliceHistory(snapshot: HistorySnapshot, fromMs: number, toMs: number): HistorySnapshot {
  if (typeof fromMs !== 'number' || typeof toMs !== 'number' || Number.isNaN(fromMs) || Number.isNaN(toMs) || fromMs > toMs) {
    throw new RangeError(`sliceHistory needs fromMs <= toMs (ms since the epoch), got ${String(fromMs)} .. ${String(toMs)}`);
  }
  const s = snapshot.stream;
  const keep: number[] = [];
  for (let i = 0; i < s.start.length; i++) {
    const start = s.start[i]!;
    if (start <= toMs && start + s.duration[i]! >= fromMs) keep.push(i);
  }
  const pick = <T>(column: T[]): T[] => keep.map((i) => column[i]!);
  const stream: StreamColumns = {
    start: pick(s.start), duration: pick(s.duration), lane: pick(s.lane), group: pick(s.group), kind: pick(s.kind),
    key: pick(s.key), bytes: pick(s.bytes),
  };
  const within = (t: number) => t >= fromMs && t <= toMs;
  return {
    ...snapshot,
    now: Math.min(snapshot.now, toMs),
    lanes: snapshot.lanes.map((l) => ({ ...l })),
    groups: [...snapshot.groups],
    stream,
    progress: progressOf(stream, snapshot.groups),
    workers: snapshot.workers.map((w) => ({ ...w })),
    cluster: sliceCluster(snapshot.cluster, within),
    memory: sliceMemory(snapshot.memory, within),
    decisions: snapshot.decisions.filter((d) => within(d.t)),
    failed: snapshot.failed.filter((f) => within(f.t)),
    workerEvents: snapshot.workerEvents.filter((e) => within(e.t)),
  };
}

function progressOf(stream: StreamColumns, groups: readonly string[]): GroupProgress[] {
  const byGroup = new Map<number, GroupProgress>();
  for (let i = 0; i < stream.start.length; i++) {
    const kind = stream.kind[i];
    if (kind !== ENTRY_KIND.compute && kind !== ENTRY_KIND.error) continue;
    const g = stream.group[i]!;
    let p = byGroup.get(g);
    if (!p) {
      p = { group: groups[g] ?? '', total: 0, waiting: 0, queued: 0, processing: 0, done: 0, erred: 0, durationMs: 0 };
      byGroup.set(g, p);
    }
    p.total++;
    if (kind === ENTRY_KIND.compute) {
      p.done++;
      p.durationMs += stream.duration[i]!;
    } else p.erred++;
  }
  return [...byGroup.values()];
}

function sampleIndexes(t: readonly number[], within: (t: number) => boolean): number[] {
  const out: number[] = [];
  t.forEach((v, i) => { if (within(v)) out.push(i); });
  return out;
}

function sliceCluster(c: ClusterSeries, within: (t: number) => boolean): ClusterSeries {
  const idx = sampleIndexes(c.t, within);
  const pick = <T>(column: T[]): T[] => idx.map((i) => column[i] as T);
  const targets: ClusterSeries['targets'] = {};
  for (const [group, column] of Object.entries(c.targets)) targets[group] = pick(column);
  return { t: pick(c.t), workers: pick(c.workers), processing: pick(c.processing), queued: pick(c.queued), memory: pick(c.memory), targets };
}

function sliceMemory(m: MemorySeries, within: (t: number) => boolean): MemorySeries {
  const idx = sampleIndexes(m.t, within);
  const pick = <T>(column: T[]): T[] => idx.map((i) => column[i] as T);
  const workers: MemorySeries['workers'] = {};
  for (const [name, w] of Object.entries(m.workers)) workers[name] = { managed: pick(w.managed), unmanaged: pick(w.unmanaged), spilled: pick(w.spilled) };
  return { t: pick(m.t), workers };
}
