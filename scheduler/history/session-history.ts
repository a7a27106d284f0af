// SessionHistory: what the scheduler remembers of a session (types.ts), fed by the server as
// workers report and read by the dashboard, reports, traces and progress bars. Pure: every
// time is passed in (the live view's clock included), nothing is read from the system.
//
// Cost: recording is O(1) per task (a push per column); a sample is O(connected workers +
// departed workers kept + groups) at most once per sampling interval; a delta is proportional
// to what is new plus the progress (one row per group, kept by the scheduler's state) and the
// worker rows. Memory series are kept for the connected workers and the latest departed ones
// (maxDepartedWorkers): with autoscaled pods, named afresh each time, a long session would
// otherwise sample, store and serve a column of nulls for every worker that ever joined.
// A worker whose series is dropped leaves `memory.workers` of later snapshots and deltas (a
// delta names every worker kept; applyDelta drops those it no longer names). One that comes
// back under that name later starts afresh; only a reader that read nothing between its drop
// and its return still holds its earlier values.
//
// Deltas are exact: every record is stamped with a time strictly after the `now` of every
// snapshot or delta served before it, and a read returns records stamped after `since` and at
// most its `now`, so a reader asking from the last `now` it got misses and repeats nothing.
import { CappedLog } from './capped-log.js';
import { checkDeltaRequest, checkSnapshotOptions } from './request.js';
import { SampledColumns } from './samples.js';
import { StreamStore } from './stream.js';
import { TaskTally } from './task-tally.js';
import {
  ENTRY_KIND, type ClusterSeries, type Decision, type DeltaRequest, type FailedTask, type GroupProgress, type HistoryDelta,
  type HistorySnapshot, type HistorySource, type Lane, type MemorySeries, type SnapshotOptions, type WorkerEvent, type WorkerRow,
} from './types.js';

/** What the scheduler's state knows now, read when a snapshot or delta is made. */
export interface LiveView {
  /** The clock (ms since the epoch): `now` of snapshots and deltas. */
  now(): number;
  progress(): GroupProgress[];
  /** Load of a connected worker, by name; undefined when the state does not know it. */
  load(worker: string): { processing: number; holds: number; occupancyMs: number; retiring: boolean } | undefined;
}

export interface SessionHistoryOptions {
  scheduler: string;
  startedAt: number;
  live: LiveView;
  /** Task-stream entries kept (default 1,000,000); older ones are dropped and counted. */
  maxEntries?: number;
  /** Failed tasks kept, the latest (default 1000). */
  maxFailed?: number;
  /** Decisions and worker events kept, each (default 10,000). */
  maxEvents?: number;
  /** At most one series sample per this many ms (default 1000; doubles as samples are thinned). */
  sampleEveryMs?: number;
  /** Series samples kept before every other one goes (default 10,000). */
  maxSamples?: number;
  /** Departed workers whose memory series are kept, the latest to leave (default 32). */
  maxDepartedWorkers?: number;
}

export interface WorkerJoined {
  name: string;
  address: string;
  group: string;
  nthreads: number;
  memoryLimit: number;
}

export interface WorkerMemory {
  /** Bytes of stored values in memory. */
  managed: number;
  /** The process's resident set size (0: not reported). */
  rss: number;
  spilled: number;
  /** Tasks running on it now. */
  executing: number;
}

export interface TransferDone {
  key: string;
  group: string;
  startMs: number;
  durationMs: number;
  nbytes: number;
}

/** A task's run on a worker, as the worker reported it. */
interface TaskRun {
  worker: string;
  key: string;
  group: string;
  /** The pool slot that ran it; -1 or startMs 0: not run (the worker already held the value). */
  thread: number;
  startMs: number;
  durationMs: number;
}

export interface TaskRan extends TaskRun {
  nbytes: number;
  transfers: readonly TransferDone[];
}

export interface TaskFailed extends TaskRun {
  error: { name: string; message: string; stack: string };
}

/** Cluster-wide figures for one sample; memory per worker comes from the heartbeats seen. */
export interface ClusterSample {
  workers: number;
  processing: number;
  queued: number;
  memory: number;
  /** Adaptive target per worker group (null: no estimate yet). */
  targets: Record<string, number | null>;
}

interface WorkerInfo extends WorkerJoined, WorkerMemory {
  connected: boolean;
  /** Time of its last heartbeat: where a spill seen in the next one starts. */
  heartbeatAt: number;
}

const MEMORY_PARTS = ['managed', 'unmanaged', 'spilled'] as const;
/** Sample column names: cluster figures, targets per group, memory per worker. */
const CLUSTER_COLUMNS = ['workers', 'processing', 'queued', 'memory'] as const;
const targetColumn = (group: string) => `target\u0000${group}`;
const memoryColumn = (worker: string, part: (typeof MEMORY_PARTS)[number]) => `memory\u0000${part}\u0000${worker}`;
/** How far a decision's own time may be from the scheduler's clock and still be shown. */
const DECISION_CLOCK_SLACK_MS = 60_000;
/** Stream entries of spills carry this group (spills belong to no task group). */
export const SPILL_GROUP = 'spill';

export class SessionHistory implements HistorySource {
  private readonly scheduler: string;
  private readonly startedAt: number;
  private readonly live: LiveView;
  private readonly stream: StreamStore;
  private readonly lanes: Lane[] = [];
  /** Per worker, lane indexes by thread + 1 (the -1 lane first). */
  private readonly laneIndex = new Map<string, number[]>();
  private readonly groups: string[] = [];
  private readonly groupIndex = new Map<string, number>();
  private readonly workers = new Map<string, WorkerInfo>();
  /** Departed workers that still have memory columns, the earliest to leave first. */
  private readonly departed = new Set<string>();
  private readonly maxDepartedWorkers: number;
  private readonly samples: SampledColumns;
  private readonly decisions: CappedLog<Decision>;
  private readonly failed: CappedLog<FailedTask>;
  private readonly workerEvents: CappedLog<WorkerEvent>;
  /** Totals for the Prometheus metrics (whole session, never capped). */
  readonly tally = new TaskTally();
  /** The latest `now` served, and the latest stamp given: see the header. */
  private served = -Infinity;
  private lastStamp = -Infinity;

  constructor(options: SessionHistoryOptions) {
    this.scheduler = options.scheduler;
    this.startedAt = options.startedAt;
    this.live = options.live;
    this.stream = new StreamStore(options.maxEntries ?? 1_000_000);
    this.samples = new SampledColumns(options.sampleEveryMs ?? 1000, options.maxSamples ?? 10_000);
    this.decisions = new CappedLog(options.maxEvents ?? 10_000);
    this.workerEvents = new CappedLog(options.maxEvents ?? 10_000);
    this.failed = new CappedLog(options.maxFailed ?? 1000);
    this.maxDepartedWorkers = options.maxDepartedWorkers ?? 32;
    if (!Number.isInteger(this.maxDepartedWorkers) || this.maxDepartedWorkers < 0) {
      throw new RangeError(`maxDepartedWorkers must be an integer >= 0, got ${this.maxDepartedWorkers}`);
    }
  }

  workerAdded(t: number, w: WorkerJoined): void {
    const at = this.stamp(t);
    this.workers.set(w.name, { ...w, managed: 0, rss: 0, spilled: 0, executing: 0, connected: true, heartbeatAt: at });
    // Back under the same name: its columns, if still kept, go on.
    this.departed.delete(w.name);
    this.workerEvents.push({ t: at, worker: w.name, event: 'added', reason: '' }, at);
  }

  workerRemoved(t: number, name: string, reason: string): void {
    const at = this.stamp(t);
    if (this.workers.delete(name)) this.keepDepartedSeries(name);
    this.workerEvents.push({ t: at, worker: name, event: 'removed', reason }, at);
  }

  /** Keeps the memory columns of `name`, just gone, and drops those of the earliest beyond the bound. */
  private keepDepartedSeries(name: string): void {
    if (!this.samples.columns.has(memoryColumn(name, 'managed'))) return;
    this.departed.add(name);
    for (const oldest of this.departed) {
      if (this.departed.size <= this.maxDepartedWorkers) break;
      this.departed.delete(oldest);
      for (const part of MEMORY_PARTS) this.samples.remove(memoryColumn(oldest, part));
    }
  }

  /** A heartbeat's figures; spilled bytes grown since the last one become a spill entry. */
  heartbeat(t: number, name: string, m: WorkerMemory): void {
    const w = this.workers.get(name);
    if (!w) return;
    if (m.spilled > w.spilled) {
      this.stream.push({
        start: w.heartbeatAt, duration: Math.max(0, t - w.heartbeatAt), lane: this.lane(name, -1), group: this.group(SPILL_GROUP),
        kind: ENTRY_KIND.spill, key: '', bytes: m.spilled - w.spilled,
      });
    }
    Object.assign(w, m);
    w.heartbeatAt = t;
  }

  taskFinished(f: TaskRan): void {
    for (const tr of f.transfers) {
      this.tally.transfer(f.worker, tr.nbytes, tr.durationMs);
      this.stream.push({
        start: tr.startMs, duration: tr.durationMs, lane: this.lane(f.worker, -1), group: this.group(tr.group),
        kind: ENTRY_KIND.transfer, key: tr.key, bytes: tr.nbytes,
      });
    }
    if (f.thread < 0 || !(f.startMs > 0)) return;
    this.tally.finished(f.group, f.durationMs);
    this.stream.push({
      start: f.startMs, duration: f.durationMs, lane: this.lane(f.worker, f.thread), group: this.group(f.group),
      kind: ENTRY_KIND.compute, key: f.key, bytes: f.nbytes,
    });
  }

  taskErred(t: number, e: TaskFailed): void {
    const at = this.stamp(t);
    this.tally.erred(e.group);
    if (e.startMs > 0) {
      this.stream.push({
        start: e.startMs, duration: e.durationMs, lane: this.lane(e.worker, Math.max(0, e.thread)), group: this.group(e.group),
        kind: ENTRY_KIND.error, key: e.key, bytes: 0,
      });
    }
    this.failed.push({ t: at, key: e.key, group: e.group, worker: e.worker, name: e.error.name, message: e.error.message, stack: e.error.stack }, at);
  }

  /** Stamped when it arrives; the decider's time is shown when it is within a minute of this
   *  clock, so a clock running ahead (or a bogus time) cannot push later records out of reach. */
  recordDecision(decision: Decision): void {
    const now = this.live.now();
    const t = Number.isFinite(decision.t) && Math.abs(decision.t - now) <= DECISION_CLOCK_SLACK_MS ? decision.t : now;
    this.decisions.push({ ...decision, t }, this.stamp(now));
  }

  /** Whether a sample at `t` would be taken (so the caller can skip gathering its figures). */
  wantsSample(t: number): boolean { return this.samples.due(this.nextStamp(t)); }

  /** Records the cluster's figures and every connected worker's memory, if one is due. */
  sample(t: number, s: ClusterSample): boolean {
    if (!this.wantsSample(t)) return false;
    const values = new Map<string, number | null>();
    for (const name of CLUSTER_COLUMNS) values.set(name, s[name]);
    for (const [group, target] of Object.entries(s.targets)) values.set(targetColumn(group), target);
    for (const w of this.workers.values()) {
      const memory = memoryOf(w);
      for (const part of MEMORY_PARTS) values.set(memoryColumn(w.name, part), memory[part]);
    }
    this.samples.add(this.stamp(t), values);
    return true;
  }

  snapshot(options: SnapshotOptions = {}): HistorySnapshot {
    checkSnapshotOptions(options);
    const now = this.serve();
    const { to, columns } = this.stream.after(0, options.maxEntries);
    return {
      scheduler: this.scheduler, startedAt: this.startedAt, now, cursor: to, dropped: this.stream.dropped,
      lanes: this.lanes.map((l) => ({ ...l })), groups: [...this.groups], stream: columns,
      progress: this.live.progress(), workers: this.workerRows(),
      ...this.series(0), decisions: this.decisions.all(), failed: this.failed.all(), workerEvents: this.workerEvents.all(),
    };
  }

  delta(request: DeltaRequest): HistoryDelta {
    checkDeltaRequest(request);
    const now = this.serve();
    const { from, to, columns } = this.stream.after(request.cursor, request.maxEntries);
    return {
      now, from, cursor: to, dropped: this.stream.dropped,
      lanes: this.lanes.slice(request.lanes).map((l) => ({ ...l })), groups: this.groups.slice(request.groups), stream: columns,
      progress: this.live.progress(), workers: this.workerRows(),
      ...this.series(this.samples.indexAfter(request.since)),
      decisions: this.decisions.after(request.since), failed: this.failed.after(request.since),
      workerEvents: this.workerEvents.after(request.since),
    };
  }

  /** The worker rows (connected workers) as a snapshot shows them. */
  workerRows(): WorkerRow[] {
    const rows: WorkerRow[] = [];
    for (const w of this.workers.values()) {
      const load = this.live.load(w.name);
      const memory = memoryOf(w);
      rows.push({
        name: w.name, address: w.address, group: w.group, nthreads: w.nthreads, memoryLimit: w.memoryLimit,
        managed: memory.managed, unmanaged: memory.unmanaged, spilled: memory.spilled,
        processing: load?.processing ?? 0, executing: w.executing, holds: load?.holds ?? 0,
        // Unknown to the state: retired and told to close, not yet gone.
        occupancyMs: load?.occupancyMs ?? 0, retiring: load?.retiring ?? true,
      });
    }
    return rows;
  }

  private series(from: number): { cluster: ClusterSeries; memory: MemorySeries } {
    const t = this.samples.t.slice(from);
    const col = (name: string) => (this.samples.columns.get(name) ?? []).slice(from);
    const cluster: ClusterSeries = {
      t, workers: col('workers') as number[], processing: col('processing') as number[], queued: col('queued') as number[],
      memory: col('memory') as number[], targets: {},
    };
    const memory: MemorySeries = { t: [...t], workers: {} };
    for (const [name, column] of this.samples.columns) {
      const [kind, a, b] = name.split('\u0000');
      if (kind === 'target' && a !== undefined) cluster.targets[a] = column.slice(from);
      else if (kind === 'memory' && a !== undefined && b !== undefined) {
        const w = (memory.workers[b] ??= { managed: [], unmanaged: [], spilled: [] });
        w[a as (typeof MEMORY_PARTS)[number]] = column.slice(from);
      }
    }
    return { cluster, memory };
  }

  private lane(worker: string, thread: number): number {
    let byThread = this.laneIndex.get(worker);
    if (!byThread) {
      byThread = [];
      this.laneIndex.set(worker, byThread);
    }
    let i = byThread[thread + 1];
    if (i === undefined) {
      i = this.lanes.length;
      this.lanes.push({ worker, thread });
      byThread[thread + 1] = i;
    }
    return i;
  }

  private group(name: string): number {
    let i = this.groupIndex.get(name);
    if (i === undefined) {
      i = this.groups.length;
      this.groups.push(name);
      this.groupIndex.set(name, i);
    }
    return i;
  }

  /** A time for a record: `t`, moved past every `now` served and every earlier stamp. */
  private stamp(t: number): number {
    this.lastStamp = this.nextStamp(t);
    return this.lastStamp;
  }

  private nextStamp(t: number): number {
    return Math.max(t, this.lastStamp, this.served + 1);
  }

  /** `now` for a read: the clock, or the latest stamp if that is later. */
  private serve(): number {
    this.served = Math.max(this.live.now(), this.lastStamp, this.served);
    return this.served;
  }
}

function memoryOf(w: WorkerMemory): { managed: number; unmanaged: number; spilled: number } {
  return { managed: w.managed, unmanaged: Math.max(0, w.rss - w.managed), spilled: w.spilled };
}
