// What the scheduler remembers of a session, as the dashboard, the performance report, the
// Chrome trace and the client's progress read it. Plain JSON: the same shapes travel over
// HTTP (the dashboard's snapshot and server-sent deltas) and gRPC (Client.History).
// Times are milliseconds since the Unix epoch (workers stamp task starts with their clock).

/** One thread of one worker: a row of the task stream. */
export interface Lane {
  worker: string;
  /** 0 .. nthreads-1 for task threads; -1 for the worker's transfers and spills. */
  thread: number;
}

export const ENTRY_KIND = { compute: 0, transfer: 1, spill: 2, error: 3 } as const;
export type EntryKind = (typeof ENTRY_KIND)[keyof typeof ENTRY_KIND];

/**
 * Task-stream entries, column by column (index i of every array is entry i): compact for
 * 100,000s of entries and cheap to append to. `lane` indexes `lanes`, `group` indexes `groups`
 * of the snapshot (both only grow, so indexes stay valid across deltas).
 */
export interface StreamColumns {
  start: number[];
  duration: number[];
  lane: number[];
  group: number[];
  kind: EntryKind[];
  /** The task's key; for a transfer the key fetched; for a spill '' . */
  key: string[];
  /** Bytes moved by a transfer or spill; the result's size for a compute; 0 when unknown. */
  bytes: number[];
}

/** A task group's tasks by state, as dask.distributed's progress counts them. */
export interface GroupProgress {
  group: string;
  /** Tasks of the group the scheduler has been given (each key once per submission), less
   *  those withdrawn (forgotten before they ran or erred). */
  total: number;
  waiting: number;
  queued: number;
  processing: number;
  /** Computed at least once (in memory now, or released or forgotten after). */
  done: number;
  erred: number;
  /** Sum of compute durations of finished tasks, ms. */
  durationMs: number;
}

export interface WorkerRow {
  name: string;
  address: string;
  group: string;
  nthreads: number;
  memoryLimit: number;
  /** Bytes of results held (what the scheduler was told). */
  managed: number;
  /** Process memory beyond the managed bytes (RSS - managed, floored at 0). */
  unmanaged: number;
  spilled: number;
  /** Tasks assigned to the worker (queued there or running). */
  processing: number;
  /** Tasks running now. */
  executing: number;
  /** Keys held. */
  holds: number;
  /** Expected ms of work assigned to it (sum of its tasks' group mean durations). */
  occupancyMs: number;
  retiring: boolean;
}

/** Samples over time, one column per series; t in ms. */
export interface ClusterSeries {
  t: number[];
  workers: number[];
  processing: number[];
  queued: number[];
  /** Bytes held by all workers. */
  memory: number[];
  /** Adaptive target per worker group (null before the first estimate for a group). */
  targets: Record<string, (number | null)[]>;
}

export interface MemorySeries {
  t: number[];
  /** Per worker name: managed, unmanaged and spilled bytes at each t (null when absent). */
  workers: Record<string, { managed: (number | null)[]; unmanaged: (number | null)[]; spilled: (number | null)[] }>;
}

/** A scaling decision: the operator's autoscaler (over Control) or a retirement asked here. */
export interface Decision {
  t: number;
  source: 'operator' | 'scheduler' | 'local';
  group: string;
  from: number;
  to: number;
  reason: string;
}

export interface FailedTask {
  t: number;
  key: string;
  group: string;
  worker: string;
  name: string;
  message: string;
  stack: string;
}

export interface WorkerEvent {
  t: number;
  worker: string;
  event: 'added' | 'removed';
  reason: string;
}

/** What a snapshot holds of the whole session, and a delta of what came after a position. */
interface HistoryRecords {
  now: number;
  /** Entries appended since the scheduler started (deltas continue from here). */
  cursor: number;
  /** Entries not kept: the stream keeps the whole session up to its cap, then counts. */
  dropped: number;
  lanes: Lane[];
  groups: string[];
  stream: StreamColumns;
  progress: GroupProgress[];
  workers: WorkerRow[];
  cluster: ClusterSeries;
  memory: MemorySeries;
  decisions: Decision[];
  failed: FailedTask[];
  workerEvents: WorkerEvent[];
}

export interface HistorySnapshot extends HistoryRecords {
  scheduler: string;
  startedAt: number;
}

/**
 * What changed since a cursor: entries appended after it, lanes and groups appended after the
 * counts the receiver has, series samples after `since`, and the current progress and workers
 * in full (small).
 */
export interface HistoryDelta extends HistoryRecords {
  from: number;
}

/** What a receiver already has: a delta brings only what comes after. */
export interface DeltaRequest {
  /** Stream entries seen (the last snapshot's or delta's cursor). */
  cursor: number;
  /** Lanes and groups known. */
  lanes: number;
  groups: number;
  /** Series samples, decisions, failures and worker events after this time (ms). */
  since: number;
  /** At most this many stream entries (the oldest first; `cursor` of the reply says where
   *  they end, so a reader pages through a long stream). Default: all. */
  maxEntries?: number;
}

/** Options of a snapshot. */
export interface SnapshotOptions {
  /** At most this many stream entries, the oldest kept (page on with deltas from its cursor). */
  maxEntries?: number;
}

/** The scheduler's history as its readers use it (core.history on the scheduler). */
export interface HistorySource {
  snapshot(options?: SnapshotOptions): HistorySnapshot;
  delta(request: DeltaRequest): HistoryDelta;
  /** A scaling decision made elsewhere (the operator, over Control), shown on the timeline. */
  recordDecision(decision: Decision): void;
}
