// SchedulerState: the pure scheduler. Events in, messages out; no I/O, no clock. The server
// feeds it one event at a time and sends the messages it returns, in order.
import { adaptiveMetrics, type AdaptiveMetrics, type AdaptiveRequest } from './adaptive.js';
import {
  onCancel, onClientConnected, onClientDisconnected, onClientReleasesKeys, onClientWantsKeys, onUpdateGraph,
} from './client-events.js';
import { Core } from './core.js';
import { settleAll } from './engine.js';
import { InvalidSchedulerOption } from './errors.js';
import { keysProgress, type KeysProgress } from './progress.js';
import { advanceRetirements, onCancelRetirement, onRetireWorkers, retirementProgress } from './retirement.js';
import { onRebalance } from './stealing.js';
import { advanceMoves, onBalanceData, onBalanceDataExpired } from './balance.js';
import type { GroupCounts } from './group-progress.js';
import { validateState } from './validate-state.js';
import type {
  EventOf, EventType, SchedulerEvent, SchedulerMessage, StateCounts, StoryEntry, TaskError, TaskState,
} from './types.js';
import {
  onHeartbeat, onKeysAdded, onMissingData, onScattered, onTaskErred, onTaskFinished, onTaskRejected, onWorkerAdded,
  onWorkerRemoved,
} from './worker-events.js';

export interface SchedulerStateOptions {
  /** Root tasks a worker may hold per thread before the rest wait in `queued`. Default 1.5. */
  workerSaturation?: number;
  /** Story entries kept per task. Default 50. */
  maxStory?: number;
  /** Worker deaths a task may be present at before it errs with KilledWorker. Default 3. */
  lostWorkerLimit?: number;
}

/** One handler per event type: adding a variant to SchedulerEvent fails compilation here. */
type Handlers = { [T in EventType]: (c: Core, e: EventOf<T>) => void };

const HANDLERS: Handlers = {
  'client-connected': onClientConnected,
  'client-disconnected': onClientDisconnected,
  'update-graph': onUpdateGraph,
  'client-wants-keys': onClientWantsKeys,
  'client-releases-keys': onClientReleasesKeys,
  cancel: onCancel,
  'worker-added': onWorkerAdded,
  'worker-removed': onWorkerRemoved,
  'task-finished': onTaskFinished,
  'task-erred': onTaskErred,
  'keys-added': onKeysAdded,
  'missing-data': onMissingData,
  'task-rejected': onTaskRejected,
  scattered: onScattered,
  heartbeat: onHeartbeat,
  rebalance: onRebalance,
  'retire-workers': onRetireWorkers,
  'cancel-retirement': onCancelRetirement,
  'balance-data': onBalanceData,
  'balance-data-expired': onBalanceDataExpired,
};

/** Frequent events that cannot move a retirement forward. */
const NOT_RETIREMENT: ReadonlySet<EventType> = new Set<EventType>(['heartbeat', 'rebalance']);

export interface WorkerSummary {
  workerId: string;
  name: string;
  address: string;
  processing: number;
  inMemory: number;
  memoryUsed: number;
}

function option(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min) {
    throw new InvalidSchedulerOption(name, value, `a number >= ${min}`);
  }
  return value;
}

export class SchedulerState {
  private readonly core: Core;

  constructor(options: SchedulerStateOptions = {}) {
    const workerSaturation = option('workerSaturation', options.workerSaturation, 1.5, Number.MIN_VALUE);
    const maxStory = Math.floor(option('maxStory', options.maxStory, 50, 1));
    const lostWorkerLimit = Math.floor(option('lostWorkerLimit', options.lostWorkerLimit, 3, 1));
    this.core = new Core({ workerSaturation, maxStory, lostWorkerLimit });
  }

  handle(event: SchedulerEvent): SchedulerMessage[] {
    const c = this.core;
    c.begin(event.stimulusId);
    (HANDLERS[event.type] as (c: Core, e: SchedulerEvent) => void)(c, event);
    settleAll(c);
    if (c.retiring.size > 0 && !NOT_RETIREMENT.has(event.type)) {
      advanceRetirements(c);
      settleAll(c); // a refused worker takes work again
    }
    if (c.moves.size > 0) advanceMoves(c);
    return c.takeOutbox();
  }

  /** undefined once forgotten, or never known. */
  taskState(key: string): TaskState | undefined { return this.core.tasks.get(key)?.state; }

  counts(): StateCounts { return this.core.counts(); }

  /** Tasks per task group by progress bucket, kept on every transition (cost: one per group). */
  groupProgress(): GroupCounts[] { return this.core.progress.all(); }

  /** Tasks the last event erred themselves: KilledWorker (failures no worker reports), or a
   *  worker's error with no retry left; a retried or stale report errs nothing. */
  erredByLastEvent(): ReadonlyArray<{ key: string; group: string; error: TaskError }> { return [...this.core.erred]; }

  /** The group of a known task, for the history's task stream. */
  taskGroup(key: string): string | undefined { return this.core.tasks.get(key)?.group; }

  /** Expected ms of work assigned to the worker, and its tasks assigned. */
  workerLoad(workerId: string): { occupancyMs: number; processing: number; holds: number; retiring: boolean } | undefined {
    const ws = this.core.workers.get(workerId);
    if (!ws) return undefined;
    return { occupancyMs: ws.workMs, processing: ws.processing.size, holds: ws.hasWhat.size, retiring: ws.retiring };
  }

  /** The task's recent transitions, oldest first; kept for a while after it is forgotten. */
  story(key: string): StoryEntry[] { return this.core.story(key); }

  /** Worker ids (not addresses) holding the key's value. */
  whoHas(key: string): string[] {
    return [...(this.core.tasks.get(key)?.whoHas ?? [])].map((ws) => ws.id);
  }

  knownKey(key: string): boolean { return this.core.tasks.has(key); }

  workerIds(): string[] { return [...this.core.workers.keys()]; }

  /** The opaque spec given with the task, to build ComputeTask; undefined for scattered keys. */
  taskSpec(key: string): unknown { return this.core.tasks.get(key)?.spec; }

  processingOn(workerId: string): string[] {
    return [...(this.core.workers.get(workerId)?.processing ?? [])].map((ts) => ts.key);
  }

  /** Keys whose value the worker holds (as recorded here). */
  heldBy(workerId: string): string[] {
    return [...(this.core.workers.get(workerId)?.hasWhat ?? [])].map((ts) => ts.key);
  }

  /** Per-worker figures for ClusterInfo and the dashboard. */
  workerSummary(workerId: string): WorkerSummary | undefined {
    const ws = this.core.workers.get(workerId);
    if (!ws) return undefined;
    return {
      workerId: ws.id, name: ws.def.name, address: ws.def.address, processing: ws.processing.size,
      inMemory: ws.hasWhat.size, memoryUsed: ws.memoryUsed,
    };
  }

  /** Marked retiring; undefined for a worker not (or no longer) known here. */
  retiring(workerId: string): boolean | undefined { return this.core.workers.get(workerId)?.retiring; }

  /** While the worker retires: tasks still processing there, and keys only retiring workers hold. */
  retirementProgress(workerId: string): { processing: number; unsafeKeys: number } | undefined {
    return retirementProgress(this.core, workerId);
  }

  /**
   * The keys' progress per task group: they and every task they depend on that is still known,
   * by state. Linear in the tasks reached (about 100,000 a few tens of ms): poll it, don't spin.
   */
  progress(keys: Iterable<string>): KeysProgress { return keysProgress(this.core, keys); }

  /** Queued and running work and the workers needed, per worker group (see adaptive.ts). */
  adaptive(request: AdaptiveRequest): AdaptiveMetrics { return adaptiveMetrics(this.core, request); }

  /**
   * Checks that every derived index agrees with the task and worker records; throws
   * StateInvariantError naming each disagreement. Linear in the state's size: the unit tests
   * call it after every event, a live scheduler only when debugging.
   */
  validate(): void { validateState(this.core); }

  /** The error a client gets for an erred key (the original, or prefixed for dependents). */
  taskError(key: string): TaskError | undefined { return this.core.tasks.get(key)?.error; }
}
