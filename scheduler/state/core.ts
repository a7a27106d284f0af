// The scheduler's bookkeeping, shared by the transition table and the event handlers: task,
// worker and client records, recommendations still to apply, the outbox and the counters.
// It makes no scheduling decisions; setState keeps every derived index consistent.
import { GroupProgressCounts, progressBucket } from './group-progress.js';
import { ReadyQueues, runsBefore, TaskHeap, type HeapItem } from './queue.js';
import type { SchedulerMessage, StateCounts, StoryEntry, TaskDef, TaskError, TaskState, WorkerDef } from './types.js';
import type { BalanceTally, Move } from './balance.js';

/** States in which a task still needs its dependencies' data. */
export const ACTIVE_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['waiting', 'queued', 'no-worker', 'processing']);

/** The task whose failure caused an error, and that failure as reported. */
export interface ErrorOrigin { readonly key: string; readonly error: TaskError }

export interface WorkerRecord {
  readonly id: string;
  readonly def: WorkerDef;
  readonly processing: Set<TaskRecord>;
  readonly hasWhat: Set<TaskRecord>;
  /** Resources held by the tasks processing here. */
  readonly used: Record<string, number>;
  /** Expected milliseconds of work processing here (sum of the tasks' estimates). */
  workMs: number;
  /** Stay-with-data tasks processing here, and the milliseconds expected of them. */
  staying: number;
  stayingMs: number;
  memoryUsed: number;
  /** Tasks processing here that may still be stolen, by resources and dependency bytes. */
  readonly stealable: Map<string, StealBucket>;
  /** Tasks asked back from this worker (steal) whose answer has not come yet. */
  stealsOut: number;
  /** Tasks being stolen for this worker: they count toward its threads until placed. */
  readonly stealsIn: Set<TaskRecord>;
  /** Being drained (see retirement.ts): placement sends it nothing new. */
  retiring: boolean;
}

/**
 * Stealable tasks of one worker alike in resources and transfer cost, the one it would run
 * last on top (the least likely to have started).
 */
export interface StealBucket {
  readonly resources: Readonly<Record<string, number>>;
  /** 0: dependencies under 100 kB, then one more per factor of 10 (see stealLevel). */
  readonly level: number;
  readonly heap: TaskHeap<TaskRecord>;
}

export interface TaskRecord extends HeapItem {
  readonly key: string;
  readonly functionId: string;
  readonly group: string;
  readonly priority: number;
  readonly seq: number;
  /** Only positive amounts are kept. */
  readonly resources: Readonly<Record<string, number>>;
  /** Canonical text of `resources`, '' for none. */
  readonly resourceKey: string;
  readonly spec: unknown;
  /** See TaskDef.barrier. */
  readonly barrier: boolean;
  /** See TaskDef.stayWithData. */
  readonly stayWithData: boolean;
  /** Barrier dependents in memory: they keep this task's data (their receipts point at it). */
  heldBy: number;
  retries: number;
  state: TaskState;
  readonly dependencies: Set<TaskRecord>;
  readonly dependents: Set<TaskRecord>;
  /** Dependencies not yet in memory (meaningful while waiting). */
  readonly waitingOn: Set<TaskRecord>;
  /** Dependents in an active state: they need this task's data. */
  readonly waiters: Set<TaskRecord>;
  readonly whoHas: Set<WorkerRecord>;
  processingOn: WorkerRecord | undefined;
  /** Client ids holding a reference. */
  readonly wantedBy: Set<string>;
  /** How it last ended (in memory, or erred): released after, progress still counts it so. */
  outcome: 'memory' | 'erred' | undefined;
  nbytes: number;
  /** Workers that died while running it. */
  suspicious: number;
  /** Times it reported inputs read through a barrier missing (see onMissingData). */
  inputsMissing: number;
  error: TaskError | undefined;
  errorOrigin: ErrorOrigin | undefined;
  /** Set just before a recommendation to err, naming the cause. */
  erredBy: ErrorOrigin | undefined;
  rejectedBy: Set<string> | undefined;
  /** The lane id while queued. */
  lane: string;
  /** Duration expected when it was assigned, added to its worker's workMs. */
  estMs: number;
  /** Its StealBucket's id on its worker while processing and stealable, else ''. (heapIndex
   * serves that bucket's heap then, and the ready queue while queued.) */
  stealBucket: string;
  /** While a steal is pending: the worker it is being stolen for. */
  thief: WorkerRecord | undefined;
  /** Its victim gave it up for this thief: placed there next if it can run there. */
  stolenFor: WorkerRecord | undefined;
  story: StoryEntry[];
}

/** Queued and no-worker tasks of one function group (and one set of resources). */
export interface PendingCount { queued: number; noWorker: number }

/** The pending counts of tasks asking for the same resources, by function group. */
export interface PendingByResources {
  readonly resources: Readonly<Record<string, number>>;
  readonly groups: Map<string, PendingCount>;
}

/** Pseudo-targets, resolved against the task's state when applied (see engine.ts). */
export type Recommendation = 'settle' | 'ready' | 'reset' | 'fail';

export interface CoreOptions { workerSaturation: number; maxStory: number; lostWorkerLimit: number }

/** Expected duration of a task whose group has not finished any yet (as in Dask). */
const UNKNOWN_DURATION_MS = 500;
/** Tasks shorter than this on average are pipelined: more of them in flight per thread. */
const SHORT_TASK_MS = 5;
/** How much work per thread pipelining aims to keep in flight. */
const PIPELINE_TARGET_MS = 20;
const MAX_IN_FLIGHT_PER_THREAD = 256;
const ARCHIVED_STORIES = 1000;
const STEAL_LEVELS = 6;

/** Steal-cost level of a task by the bytes of its dependencies: cheap ones move first. */
function stealLevel(bytes: number): number {
  return bytes < 1e5 ? 0 : Math.min(STEAL_LEVELS - 1, Math.floor(Math.log10(bytes / 1e5)) + 1);
}

/** The reverse of the run order: what a worker would start last comes out first. */
const runsLast = (a: TaskRecord, b: TaskRecord): boolean => runsBefore(b, a);

function normalizeResources(resources: Record<string, number>): [Record<string, number>, string] {
  const entries = Object.entries(resources ?? {}).filter(([, v]) => v > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [Object.fromEntries(entries), entries.map(([k, v]) => `${k}=${v}`).join(',')];
}

export class Core {
  readonly tasks = new Map<string, TaskRecord>();
  readonly workers = new Map<string, WorkerRecord>();
  readonly clients = new Map<string, Set<TaskRecord>>();
  readonly queues = new ReadyQueues<TaskRecord>();
  readonly noWorker = new Set<TaskRecord>();
  /** Workers whose processing shrank: their free slots get filled from the queue. */
  readonly dirty = new Set<WorkerRecord>();
  /** Set when tasks were queued: every worker gets a chance to take them. */
  fillAll = false;
  /** Live workers being retired. */
  readonly retiring = new Set<WorkerRecord>();
  /** Keys being copied off retiring workers, and the worker asked to fetch each. */
  readonly replicating = new Map<TaskRecord, WorkerRecord>();
  /** Keys being moved by a balance-data request, and each request's tally (see balance.ts). */
  readonly moves = new Map<TaskRecord, Move>();
  readonly balances = new Map<string, BalanceTally>();
  stimulusId = '';
  /** Tasks the current event erred themselves: with KilledWorker (failures no worker reports),
   *  or with a worker's error once no retry was left. Not their erred dependents. */
  readonly erred: Array<{ key: string; group: string; error: TaskError }> = [];
  private out: SchedulerMessage[] = [];
  private readonly recs: Array<[TaskRecord, Recommendation]> = [];
  private recHead = 0;
  /** Settles deferred until the batch is otherwise done (see settleLater). */
  private readonly later: TaskRecord[] = [];
  private laterHead = 0;
  /** Queued and no-worker tasks by resourceKey, then group, so adaptive.ts reads buckets, not tasks. */
  readonly pending = new Map<string, PendingByResources>();
  private readonly groups = new Map<string, { count: number; totalMs: number }>();
  /** Tasks per group by progress bucket (see progress.ts). */
  readonly progress = new GroupProgressCounts();
  private readonly archive = new Map<string, StoryEntry[]>();
  /** hasCapableWorker's answers by resourceKey, cleared whenever the workers change. */
  readonly capableCache = new Map<string, boolean>();
  private readonly perState: Record<TaskState, number> = {
    released: 0, waiting: 0, queued: 0, 'no-worker': 0, processing: 0, memory: 0, erred: 0, forgotten: 0,
  };
  private memoryBytes = 0;
  private taskSeq = 0;

  constructor(readonly options: CoreOptions) {}

  begin(stimulusId: string): void {
    this.stimulusId = stimulusId;
    this.out = [];
    this.erred.length = 0;
  }

  takeOutbox(): SchedulerMessage[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  emit(message: SchedulerMessage): void { this.out.push(message); }

  /** Tells a live worker to drop a key, merged into the previous free-keys to it if adjacent. */
  freeKey(ws: WorkerRecord, key: string): void {
    if (!this.isAlive(ws)) return;
    const last = this.out[this.out.length - 1];
    if (last?.type === 'free-keys' && last.workerId === ws.id) last.keys.push(key);
    else this.out.push({ type: 'free-keys', workerId: ws.id, keys: [key] });
  }

  recommend(ts: TaskRecord, rec: Recommendation): void { this.recs.push([ts, rec]); }

  /**
   * For a task that just lost a dependent or waiter. Deferred so that a dependent released
   * only to be rescheduled is waiting again before we ask whether its inputs are still needed
   * (else a reschedule would free the very data it is about to use).
   */
  settleLater(ts: TaskRecord): void { this.later.push(ts); }

  nextRecommendation(): [TaskRecord, Recommendation] | undefined {
    if (this.recHead < this.recs.length) return this.recs[this.recHead++];
    this.recs.length = 0;
    this.recHead = 0;
    if (this.laterHead < this.later.length) return [this.later[this.laterHead++] as TaskRecord, 'settle'];
    this.later.length = 0;
    this.laterHead = 0;
    return undefined;
  }

  newTask(def: TaskDef): TaskRecord {
    const [resources, resourceKey] = normalizeResources(def.resources);
    const archived = this.archive.get(def.key);
    this.archive.delete(def.key);
    const ts: TaskRecord = {
      key: def.key, functionId: def.functionId, group: def.group, priority: def.priority || 0, seq: this.taskSeq++,
      resources, resourceKey, spec: def.spec, barrier: def.barrier === true, stayWithData: def.stayWithData === true, heldBy: 0, retries: Math.max(0, def.retries || 0), state: 'released',
      dependencies: new Set(), dependents: new Set(), waitingOn: new Set(), waiters: new Set(), whoHas: new Set(),
      processingOn: undefined, wantedBy: new Set(), outcome: undefined, nbytes: 0, suspicious: 0, inputsMissing: 0, error: undefined, errorOrigin: undefined,
      erredBy: undefined, rejectedBy: undefined, lane: '', estMs: 0, stealBucket: '', thief: undefined, stolenFor: undefined,
      heapIndex: -1, story: archived ?? [],
    };
    this.tasks.set(def.key, ts);
    this.perState.released++;
    this.progress.add(ts.group, 'waiting');
    return ts;
  }

  addWorker(def: WorkerDef): WorkerRecord {
    const ws: WorkerRecord = {
      id: def.workerId, def, processing: new Set(), hasWhat: new Set(), used: {}, workMs: 0, memoryUsed: 0,
      stealable: new Map(), stealsOut: 0, stealsIn: new Set(), retiring: false, staying: 0, stayingMs: 0,
    };
    this.workers.set(ws.id, ws);
    this.capableCache.clear();
    return ws;
  }

  removeWorker(ws: WorkerRecord): void {
    this.workers.delete(ws.id);
    this.fillAll = true; // the last worker left takes even tasks it gave back (see takeable)
    this.dirty.delete(ws);
    this.retiring.delete(ws);
    if (this.retiring.size === 0) this.replicating.clear(); // copies still due serve no one
    this.capableCache.clear();
  }

  /** Marks or unmarks a live worker as retiring; a retiring worker counts as unable to run anything. */
  setRetiring(ws: WorkerRecord, on: boolean): void {
    ws.retiring = on;
    if (on) this.retiring.add(ws);
    else this.retiring.delete(ws);
    if (this.retiring.size === 0) this.replicating.clear();
    this.capableCache.clear();
  }

  /** Asks the worker to give back a task it has not started (as a steal with no thief). */
  recall(ts: TaskRecord): void {
    const ws = ts.processingOn;
    if (!ws) return;
    // Already being stolen: that answer serves too. A task that stays with its data is never
    // stealable, but is recalled all the same (it goes to another holder, or the data moves).
    if (ts.stayWithData ? ts.thief !== undefined : ts.stealBucket === '') return;
    this.unstealable(ts, ws);
    this.emit({ type: 'steal', workerId: ws.id, key: ts.key });
  }

  isAlive(ws: WorkerRecord): boolean { return this.workers.get(ws.id) === ws; }

  /** Whether any worker not retiring (busy or not) has the resources the task asks for. */
  hasCapableWorker(ts: TaskRecord): boolean {
    if (ts.resourceKey === '') return this.workers.size > this.retiring.size;
    let ok = this.capableCache.get(ts.resourceKey);
    if (ok === undefined) {
      ok = false;
      for (const ws of this.workers.values()) {
        if (!ws.retiring && Object.entries(ts.resources).every(([r, n]) => (ws.def.resources[r] ?? 0) >= n)) { ok = true; break; }
      }
      this.capableCache.set(ts.resourceKey, ok);
    }
    return ok;
  }

  client(clientId: string): Set<TaskRecord> {
    let refs = this.clients.get(clientId);
    if (!refs) {
      refs = new Set();
      this.clients.set(clientId, refs);
    }
    return refs;
  }

  want(clientId: string, ts: TaskRecord): void {
    ts.wantedBy.add(clientId);
    this.client(clientId).add(ts);
  }

  unwant(clientId: string, ts: TaskRecord): boolean {
    this.clients.get(clientId)?.delete(ts);
    return ts.wantedBy.delete(clientId);
  }

  needed(ts: TaskRecord): boolean { return ts.wantedBy.size > 0 || ts.waiters.size > 0 || ts.heldBy > 0; }

  addReplica(ts: TaskRecord, ws: WorkerRecord): void {
    ts.whoHas.add(ws);
    ws.hasWhat.add(ts);
  }

  dropReplica(ts: TaskRecord, ws: WorkerRecord): void {
    ts.whoHas.delete(ws);
    ws.hasWhat.delete(ts);
  }

  /** Puts a task on a worker; the caller has already moved it to 'processing'. */
  assign(ts: TaskRecord, ws: WorkerRecord): void {
    ts.processingOn = ws;
    ws.processing.add(ts);
    ts.estMs = this.expectedMs(ts.group);
    ws.workMs += ts.estMs;
    for (const [r, n] of Object.entries(ts.resources)) ws.used[r] = (ws.used[r] ?? 0) + n;
    if (ts.stayWithData) { // never stolen
      ws.staying++;
      ws.stayingMs += ts.estMs;
      return;
    }
    let bytes = 0;
    for (const dep of ts.dependencies) bytes += dep.nbytes;
    const level = stealLevel(bytes);
    ts.stealBucket = `${ts.resourceKey}|${level}`;
    let bucket = ws.stealable.get(ts.stealBucket);
    if (!bucket) {
      bucket = { resources: ts.resources, level, heap: new TaskHeap<TaskRecord>(runsLast) };
      ws.stealable.set(ts.stealBucket, bucket);
    }
    bucket.heap.push(ts);
  }

  /** A steal of the task (processing on its worker) was asked for `thief`. */
  markStolen(ts: TaskRecord, thief: WorkerRecord): void {
    const ws = ts.processingOn;
    if (!ws) return;
    this.unstealable(ts, ws);
    ts.thief = thief;
    ws.stealsOut++;
    thief.stealsIn.add(ts);
  }

  private unstealable(ts: TaskRecord, ws: WorkerRecord): void {
    if (ts.stealBucket !== '') ws.stealable.get(ts.stealBucket)?.heap.remove(ts);
    ts.stealBucket = '';
  }

  /** The one place a state changes: counters, indexes, waiters and the story follow it. */
  setState(ts: TaskRecord, to: TaskState): void {
    const from = ts.state;
    this.perState[from]--;
    this.perState[to]++;
    this.moveProgress(ts, from, to);
    if (from === 'memory') this.memoryBytes -= ts.nbytes;
    if (to === 'memory') this.memoryBytes += ts.nbytes;
    if (to === 'memory' || to === 'erred') ts.outcome = to;
    if (from === 'queued') this.queues.remove(ts, ts.lane);
    if (to === 'queued') {
      ts.lane = `${ts.resourceKey}|${ts.dependencies.size === 0 ? 'root' : 'deps'}`;
      this.queues.push(ts, ts.lane, ts.resources, ts.dependencies.size === 0, ts.rejectedBy);
      this.fillAll = true;
    }
    if (from === 'no-worker') this.noWorker.delete(ts);
    if (to === 'no-worker') this.noWorker.add(ts);
    if (from === 'queued' || from === 'no-worker') this.countPending(ts, from, -1);
    if (to === 'queued' || to === 'no-worker') this.countPending(ts, to, 1);
    if (from === 'processing') this.unassign(ts);
    const wasActive = ACTIVE_STATES.has(from);
    const isActive = ACTIVE_STATES.has(to);
    if (wasActive && !isActive) {
      for (const dep of ts.dependencies) {
        dep.waiters.delete(ts);
        if (!this.needed(dep)) this.settleLater(dep);
      }
    } else if (isActive && !wasActive) {
      for (const dep of ts.dependencies) dep.waiters.add(ts);
    }
    if (ts.barrier && (from === 'memory') !== (to === 'memory')) this.hold(ts, to === 'memory');
    ts.state = to;
    if (ts.story.length >= this.options.maxStory) ts.story.shift();
    ts.story.push({ key: ts.key, from, to, stimulusId: this.stimulusId });
    if (to === 'forgotten') {
      this.tasks.delete(ts.key);
      this.archive.set(ts.key, ts.story);
      if (this.archive.size > ARCHIVED_STORIES) this.archive.delete(this.archive.keys().next().value as string);
    }
  }

  /** A barrier entered (or left) memory: its dependencies are kept while its receipts stand. */
  private hold(barrier: TaskRecord, on: boolean): void {
    for (const dep of barrier.dependencies) {
      dep.heldBy += on ? 1 : -1;
      if (!on && !this.needed(dep)) this.settleLater(dep);
    }
  }

  private moveProgress(ts: TaskRecord, from: TaskState, to: TaskState): void {
    const before = progressBucket(from, ts.outcome);
    const after = progressBucket(to, to === 'memory' || to === 'erred' ? to : ts.outcome);
    if (to === 'forgotten') this.progress.forget(ts.group, before, after);
    else this.progress.move(ts.group, before, after);
  }

  private countPending(ts: TaskRecord, state: 'queued' | 'no-worker', delta: 1 | -1): void {
    let byRes = this.pending.get(ts.resourceKey);
    if (!byRes) {
      byRes = { resources: ts.resources, groups: new Map() };
      this.pending.set(ts.resourceKey, byRes);
    }
    let n = byRes.groups.get(ts.group);
    if (!n) {
      n = { queued: 0, noWorker: 0 };
      byRes.groups.set(ts.group, n);
    }
    if (state === 'queued') n.queued += delta;
    else n.noWorker += delta;
    if (n.queued === 0 && n.noWorker === 0) { // empty buckets go, so a computation sees only live ones
      byRes.groups.delete(ts.group);
      if (byRes.groups.size === 0) this.pending.delete(ts.resourceKey);
    }
  }

  private unassign(ts: TaskRecord): void {
    const ws = ts.processingOn;
    if (!ws) return;
    ts.processingOn = undefined;
    ws.processing.delete(ts);
    this.unstealable(ts, ws);
    if (ts.thief) { // the victim answered (rejected or finished) or left: the steal is over
      ws.stealsOut--;
      ts.thief.stealsIn.delete(ts);
      ts.thief = undefined;
    }
    ws.workMs = ws.processing.size === 0 ? 0 : ws.workMs - ts.estMs; // no float drift when idle
    if (ts.stayWithData) {
      ws.staying--;
      ws.stayingMs = ws.staying === 0 ? 0 : ws.stayingMs - ts.estMs;
    }
    for (const [r, n] of Object.entries(ts.resources)) ws.used[r] = (ws.used[r] ?? 0) - n;
    if (this.isAlive(ws)) this.dirty.add(ws);
  }

  recordDuration(group: string, ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    this.progress.addDuration(group, ms);
    const g = this.groups.get(group);
    if (g) {
      g.count++;
      g.totalMs += ms;
    } else this.groups.set(group, { count: 1, totalMs: ms });
  }

  expectedMs(group: string): number {
    const g = this.groups.get(group);
    return g && g.count > 0 ? g.totalMs / g.count : UNKNOWN_DURATION_MS;
  }

  /**
   * How many tasks of `group` a worker may hold in flight before queued root tasks wait:
   * ceil(nthreads * saturation), raised for groups observed to be short so that tiny tasks
   * are pipelined instead of paying a round trip each.
   */
  slots(ws: WorkerRecord, group: string): number {
    const threads = Math.max(1, ws.def.nthreads);
    const base = this.baseSlots(ws);
    const g = this.groups.get(group);
    if (!g || g.count === 0) return base;
    const mean = g.totalMs / g.count;
    if (mean >= SHORT_TASK_MS) return base;
    const perThread = Math.min(MAX_IN_FLIGHT_PER_THREAD, Math.ceil(PIPELINE_TARGET_MS / Math.max(mean, PIPELINE_TARGET_MS / MAX_IN_FLIGHT_PER_THREAD)));
    return Math.max(base, perThread * threads);
  }

  /** Slots for root tasks of any group: ceil(nthreads * saturation). */
  baseSlots(ws: WorkerRecord): number {
    return Math.max(1, Math.ceil(Math.max(1, ws.def.nthreads) * this.options.workerSaturation));
  }

  story(key: string): StoryEntry[] {
    return [...(this.tasks.get(key)?.story ?? this.archive.get(key) ?? [])];
  }

  counts(): StateCounts {
    const s = this.perState;
    return {
      workers: this.workers.size, released: s.released, waiting: s.waiting, queued: s.queued, noWorker: s['no-worker'],
      processing: s.processing, memory: s.memory, erred: s.erred, memoryBytes: this.memoryBytes,
    };
  }
}
