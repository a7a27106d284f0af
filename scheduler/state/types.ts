// The pure scheduler's vocabulary: events in, messages out. No I/O types appear here; the
// server translates gRPC traffic into events and messages into sends.

export type TaskState =
  | 'released' | 'waiting' | 'queued' | 'no-worker' | 'processing' | 'memory' | 'erred' | 'forgotten';

/** A task as submitted. `spec` is opaque to the state: the server keeps the wire form there. */
export interface TaskDef<Spec = unknown> {
  key: string;
  functionId: string;
  dependencies: string[];
  resources: Record<string, number>;
  retries: number;
  priority: number;
  /** Task group (usually the function name), for duration estimates and the dashboard. */
  group: string;
  /**
   * A shuffle's barrier: it waits for its dependencies without their data (the worker is told
   * where each one is), and keeps them in memory for as long as its own result is.
   */
  barrier?: boolean;
  /**
   * Runs on a worker holding its largest dependency that no other task reads (else its largest;
   * unless none of those can run it now: all
   * retiring, or their resources in use), and is never stolen for balance (a retiring worker
   * gives it back all the same): its input is big and its result small (ML shard kernels).
   */
  stayWithData?: boolean;
  spec: Spec;
}

export interface TaskError {
  name: string;
  message: string;
  stack: string;
  worker: string;
}

export interface WorkerDef {
  workerId: string;
  name: string;
  /** host:port of the worker's WorkerData service. */
  address: string;
  nthreads: number;
  memoryLimit: number;
  resources: Record<string, number>;
  group: string;
}

interface Stimulus { stimulusId: string }

export type SchedulerEvent = Stimulus & (
  | { type: 'client-connected'; clientId: string }
  | { type: 'client-disconnected'; clientId: string }
  /** Already validated with validateGraph. `wanted` keys get the client's reference. */
  | { type: 'update-graph'; clientId: string; tasks: TaskDef[]; wanted: string[] }
  | { type: 'client-wants-keys'; clientId: string; keys: string[] }
  | { type: 'client-releases-keys'; clientId: string; keys: string[] }
  | { type: 'cancel'; clientId: string; keys: string[] }
  | { type: 'worker-added'; worker: WorkerDef }
  | { type: 'worker-removed'; workerId: string; reason: string; /** true when it left cleanly (retired) */ graceful: boolean }
  | { type: 'task-finished'; workerId: string; key: string; nbytes: number; durationMs: number }
  | { type: 'task-erred'; workerId: string; key: string; error: TaskError; durationMs: number }
  | { type: 'keys-added'; workerId: string; keys: string[]; nbytes: number[] }
  | { type: 'missing-data'; workerId: string; key: string; missing: string[] }
  | { type: 'task-rejected'; workerId: string; key: string; reason: string }
  /** Client data placed on a worker by the server (scatter). */
  | { type: 'scattered'; clientId: string; workerId: string; keys: string[]; nbytes: number[] }
  | { type: 'heartbeat'; workerId: string; memoryUsed: number }
  /** Periodic, and when a worker joins or frees a thread: see stealing.ts. */
  | { type: 'rebalance' }
  /** Drain these workers and retire them (see retirement.ts); each ends retired or refused. */
  | { type: 'retire-workers'; workerIds: string[] }
  /** Give up retiring them (deadline passed): they serve again, refused with this reason. */
  | { type: 'cancel-retirement'; workerIds: string[]; reason: string }
  /** Move keys in memory (all when null) toward an even spread over the workers (see balance.ts). */
  | { type: 'balance-data'; requestId: string; keys: string[] | null }
  /** The request's deadline passed: abandon its moves still copying. */
  | { type: 'balance-data-expired'; requestId: string }
);

export type ClientKeyState = 'finished' | 'erred' | 'cancelled' | 'lost';

export type SchedulerMessage =
  /** Send the task to the worker; whoHas gives holders' addresses for each dependency. */
  /** reportValue: a client holds the key and no task reads it, so a small value comes back with the finish. */
  | { type: 'compute'; workerId: string; key: string; whoHas: Record<string, string[]>; reportValue: boolean }
  | { type: 'free-keys'; workerId: string; keys: string[] }
  | { type: 'cancel-compute'; workerId: string; key: string }
  /** Ask the worker to give the task up if not started (it answers rejected, or finishes it). */
  | { type: 'steal'; workerId: string; key: string }
  | { type: 'client-key'; clientId: string; key: string; state: ClientKeyState; nbytes?: number; error?: TaskError }
  /** Tell workerId to fetch the key from these holders' addresses and report it (keys-added). */
  | { type: 'replicate'; workerId: string; key: string; from: string[] }
  /** It runs nothing and every key it held is safe elsewhere: close it. Already forgotten here. */
  | { type: 'worker-retired'; workerId: string }
  /** Its retirement is over without closing it; it serves as before (unless it left). */
  | { type: 'retire-refused'; workerId: string; reason: string }
  /** A balance-data request ended: keys moved (and their bytes), extra copies freed, moves abandoned. */
  | { type: 'balance-data-done'; requestId: string; moved: number; bytes: number; dropped: number; abandoned: number };

export type EventType = SchedulerEvent['type'];
export type EventOf<T extends EventType> = Extract<SchedulerEvent, { type: T }>;

/** Counts for metrics and the autoscaler. */
export interface StateCounts {
  workers: number;
  released: number;
  waiting: number;
  queued: number;
  noWorker: number;
  processing: number;
  memory: number;
  erred: number;
  memoryBytes: number;
}

/** One entry of a task's bounded story, for debugging. */
export interface StoryEntry {
  key: string;
  from: TaskState;
  to: TaskState;
  stimulusId: string;
}
