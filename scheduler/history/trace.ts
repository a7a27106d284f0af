// A history snapshot as a Chrome trace (the Trace Event Format that Perfetto and
// chrome://tracing open): one process per worker, one thread per task thread plus one for its
// transfers and spills, complete events ('X') for entries, counters ('C') for memory, and a
// "scheduler" process with the cluster's counters, decisions and worker arrivals. Pure.
import { ENTRY_KIND, type EntryKind, type HistorySnapshot } from './types.js';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'M' | 'C' | 'i';
  pid: number;
  tid: number;
  /** Microseconds since the trace's origin (see ChromeTrace.otherData). */
  ts?: number;
  dur?: number;
  cat?: string;
  /** Scope of an instant event: 'g' global, 'p' its process. */
  s?: 'g' | 'p';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  /** originMs: the epoch ms that ts 0 stands for. */
  otherData: { scheduler: string; startedAt: number; originMs: number; dropped: number };
}

/** The scheduler's own process; workers follow from 2 in the order they first appear. */
export const SCHEDULER_PID = 1;
/** The thread of a worker's transfers and spills; task thread i is i + 1. */
export const TRANSFER_TID = 0;

const KIND_NAMES: Record<EntryKind, string> = { 0: 'compute', 1: 'transfer', 2: 'spill', 3: 'error' };

export function toChromeTrace(snapshot: HistorySnapshot): ChromeTrace {
  const s = snapshot.stream;
  const originMs = originOf(snapshot);
  const us = (ms: number) => Math.round((ms - originMs) * 1000);
  const events: TraceEvent[] = [];
  const pids = new Map<string, number>();
  const threads = new Set<string>();
  const pidOf = (worker: string): number => {
    let pid = pids.get(worker);
    if (pid === undefined) {
      pid = pids.size + 2;
      pids.set(worker, pid);
      events.push({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: `worker ${worker}` } });
      events.push({ name: 'process_sort_index', ph: 'M', pid, tid: 0, args: { sort_index: pid } });
    }
    return pid;
  };
  const tidOf = (worker: string, thread: number): number => {
    const pid = pidOf(worker);
    const tid = thread < 0 ? TRANSFER_TID : thread + 1;
    if (!threads.has(`${pid}/${tid}`)) {
      threads.add(`${pid}/${tid}`);
      events.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name: thread < 0 ? 'transfers and spills' : `thread ${thread}` } });
      // Transfers below the task threads.
      events.push({ name: 'thread_sort_index', ph: 'M', pid, tid, args: { sort_index: thread < 0 ? 1_000_000 : thread } });
    }
    return tid;
  };

  events.push({ name: 'process_name', ph: 'M', pid: SCHEDULER_PID, tid: 0, args: { name: `scheduler ${snapshot.scheduler}` } });
  events.push({ name: 'process_sort_index', ph: 'M', pid: SCHEDULER_PID, tid: 0, args: { sort_index: 0 } });
  for (const lane of snapshot.lanes) tidOf(lane.worker, lane.thread);
  for (const w of snapshot.workers) pidOf(w.name);

  const errors = new Map(snapshot.failed.map((f) => [f.key, `${f.name}: ${f.message}`]));
  for (let i = 0; i < s.start.length; i++) {
    const lane = snapshot.lanes[s.lane[i]!];
    if (!lane) continue;
    const kind = s.kind[i]!;
    const group = snapshot.groups[s.group[i]!] ?? '';
    const name = kind === ENTRY_KIND.compute ? group : kind === ENTRY_KIND.error ? `${group} (erred)` : KIND_NAMES[kind];
    events.push({
      name, cat: KIND_NAMES[kind], ph: 'X', pid: pidOf(lane.worker), tid: tidOf(lane.worker, lane.thread),
      ts: us(s.start[i]!), dur: Math.max(0, Math.round(s.duration[i]! * 1000)),
      args: { key: s.key[i], group, bytes: s.bytes[i], ...(kind === ENTRY_KIND.error ? { error: errors.get(s.key[i]!) ?? '' } : {}) },
    });
  }

  const m = snapshot.memory;
  for (const [worker, series] of Object.entries(m.workers)) {
    const pid = pidOf(worker);
    m.t.forEach((t, i) => {
      const args: Record<string, number> = {};
      for (const part of ['managed', 'unmanaged', 'spilled'] as const) {
        const v = series[part][i];
        if (v !== null && v !== undefined) args[part] = v;
      }
      if (Object.keys(args).length > 0) events.push({ name: 'memory (bytes)', ph: 'C', pid, tid: 0, ts: us(t), args });
    });
  }

  const c = snapshot.cluster;
  c.t.forEach((t, i) => {
    const ts = us(t);
    events.push({ name: 'tasks', ph: 'C', pid: SCHEDULER_PID, tid: 0, ts, args: { processing: c.processing[i] ?? 0, queued: c.queued[i] ?? 0 } });
    events.push({ name: 'workers', ph: 'C', pid: SCHEDULER_PID, tid: 0, ts, args: { workers: c.workers[i] ?? 0 } });
    events.push({ name: 'memory held (bytes)', ph: 'C', pid: SCHEDULER_PID, tid: 0, ts, args: { memory: c.memory[i] ?? 0 } });
    const targets: Record<string, number> = {};
    for (const [group, column] of Object.entries(c.targets)) {
      const v = column[i];
      if (v !== null && v !== undefined) targets[group || '(default)'] = v;
    }
    if (Object.keys(targets).length > 0) events.push({ name: 'adaptive target', ph: 'C', pid: SCHEDULER_PID, tid: 0, ts, args: targets });
  });

  for (const d of snapshot.decisions) {
    events.push({
      name: `${d.source}: ${d.group || '(default)'} ${d.from} -> ${d.to}`, cat: 'decision', ph: 'i', s: 'g', pid: SCHEDULER_PID, tid: 0,
      ts: us(d.t), args: { ...d },
    });
  }
  for (const e of snapshot.workerEvents) {
    events.push({ name: `worker ${e.event}: ${e.worker}`, cat: 'worker', ph: 'i', s: 'p', pid: SCHEDULER_PID, tid: 0, ts: us(e.t), args: { reason: e.reason } });
  }
  return {
    traceEvents: events, displayTimeUnit: 'ms',
    otherData: { scheduler: snapshot.scheduler, startedAt: snapshot.startedAt, originMs, dropped: snapshot.dropped },
  };
}

/** The earliest time in the snapshot (entries are stamped by workers' clocks, which may run
 *  behind the scheduler's), so no event gets a negative ts. */
function originOf(snapshot: HistorySnapshot): number {
  let origin = snapshot.startedAt;
  const earlier = (t: number) => { if (t < origin) origin = t; };
  snapshot.stream.start.forEach(earlier);
  snapshot.cluster.t.forEach(earlier);
  snapshot.memory.t.forEach(earlier);
  for (const list of [snapshot.decisions, snapshot.failed, snapshot.workerEvents]) for (const e of list) earlier(e.t);
  return origin;
}
