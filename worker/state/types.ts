// The pure worker's vocabulary: events in, instructions out. The runtime turns scheduler
// commands, peer transfers and pool results into events, and instructions into I/O.

/**
 * States of a key on this worker. Tasks to run: waiting (for dependencies) -> ready ->
 * executing -> memory | error. An executing task nobody wants any more is interrupted (the
 * runtime stops its run) and its slot is free at once. Dependencies to fetch: fetch (queued for
 * a peer) -> flight (asked of one) -> memory.
 */
export type KeyState = 'fetch' | 'flight' | 'waiting' | 'ready' | 'executing' | 'memory' | 'error';

export interface TaskErrorInfo {
  name: string;
  message: string;
  stack: string;
}

/** A task to run. `spec` is opaque to the state: the runtime keeps the wire form there. */
export interface ComputeRequest<Spec = unknown> {
  key: string;
  dependencies: string[];
  /** Holders' addresses for each dependency, for those this worker lacks. */
  whoHas: Record<string, string[]>;
  priority: number;
  resources: Record<string, number>;
  /** Task group (function name by default): durations are learnt per group. */
  group?: string;
  spec: Spec;
}

/** A dependency fetched from a peer for a task: when its fetch ran, and its size. */
export interface Transfer {
  key: string;
  startMs: number;
  durationMs: number;
  nbytes: number;
}

export interface FetchedKey {
  key: string;
  nbytes: number;
  encoding: number;
}

interface Stimulus { stimulusId: string }

export type WorkerEvent<Spec = unknown> = Stimulus & (
  | { type: 'compute-task'; task: ComputeRequest<Spec> }
  | { type: 'free-keys'; keys: string[] }
  | { type: 'cancel-task'; key: string }
  /** The scheduler wants to move the task elsewhere: given up only if it has not started. */
  | { type: 'steal-task'; key: string }
  /** Fetch these keys and report them with `added` (replication on retirement). */
  | { type: 'acquire-replicas'; whoHas: Record<string, string[]> }
  /** Values that arrived by Put (scatter); the runtime already stored them. Not reported back. */
  | { type: 'data-put'; keys: FetchedKey[] }
  /** A Fetch ended: `keys` arrived (the runtime stored them), `missing` the peer lacked. */
  | { type: 'fetch-done'; from: string; keys: FetchedKey[]; missing: string[] }
  /** A Fetch failed as a whole (peer unreachable, deadline): try other holders. */
  | { type: 'fetch-failed'; from: string; keys: string[]; reason: string }
  /** The result is stored by the runtime before this event. */
  /** `thread`: the task pool's slot that ran it (-1: not a task thread); `transfers`: its
   *  dependencies fetched for it (passed on to the scheduler's task stream). */
  | { type: 'execute-done'; key: string; nbytes: number; encoding: number; startMs: number; durationMs: number; thread: number; transfers: Transfer[] }
  | { type: 'execute-failed'; key: string; error: TaskErrorInfo; startMs: number; durationMs: number; thread: number }
  /** The run could not read these keys from any holder it was told of (a take's splits behind a
   *  barrier): not the task's failure; the scheduler recomputes them and runs the task again. */
  | { type: 'execute-missing'; key: string; missing: string[]; durationMs: number }
  | { type: 'close'; reason: string }
);

export type ToScheduler =
  /** startMs 0 and thread -1: not run here (reported because the worker holds the value). */
  | { type: 'finished'; key: string; nbytes: number; encoding: number; startMs: number; durationMs: number; thread: number; transfers: Transfer[] }
  | { type: 'erred'; key: string; error: TaskErrorInfo; startMs: number; durationMs: number; thread: number }
  | { type: 'added'; keys: string[]; nbytes: number[] }
  | { type: 'missing'; key: string; missing: string[] }
  | { type: 'rejected'; key: string; reason: string };

export type WorkerInstruction<Spec = unknown> = Stimulus & (
  /** One Fetch of these keys from one peer; at most one is in flight per peer. */
  | { type: 'fetch'; from: string; keys: string[] }
  | { type: 'execute'; key: string; spec: Spec }
  /** Stop the run of an executing key (cancelled or freed). The state already counts its slot
   * free: the runtime must stop it now and feed back no outcome of that run. */
  | { type: 'interrupt'; key: string }
  | { type: 'send-to-scheduler'; message: ToScheduler }
  /** Drop these values from the data store. */
  | { type: 'release-data'; keys: string[] }
);

export type EventType = WorkerEvent['type'];
export type EventOf<T extends EventType, Spec = unknown> = Extract<WorkerEvent<Spec>, { type: T }>;
export type InstructionType = WorkerInstruction['type'];
export type InstructionOf<T extends InstructionType, Spec = unknown> = Extract<WorkerInstruction<Spec>, { type: T }>;

/** One entry of a key's bounded story, for debugging. */
export interface StoryEntry {
  key: string;
  from: KeyState | 'new';
  to: KeyState | 'forgotten';
  stimulusId: string;
}

export interface WorkerCounts {
  executing: number;
  ready: number;
  waiting: number;
  fetching: number;
  inMemory: number;
  erred: number;
  /** Sum of nbytes of values in memory, as the state knows them. */
  memoryBytes: number;
}

export interface WorkerStateOptions {
  nthreads: number;
  /** What this worker offers, e.g. {GPU: 1}; tasks' resources are held while they run. */
  resources?: Record<string, number>;
  /** Entries kept per key's story (default 16). */
  storyLength?: number;
  /**
   * Tasks of groups whose runs have taken under `belowMs` may be handed out beyond nthreads,
   * up to `depth` per free thread, so the pool can queue them in its threads instead of
   * waking a thread per task. Default {depth: 1}: exactly nthreads at a time, as in Dask.
   */
  pipeline?: { depth: number; belowMs: number };
}
