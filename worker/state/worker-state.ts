// WorkerState: what a worker knows about its keys, as a pure machine. Events in, instructions
// out; the runtime performs the instructions (fetch, execute, send, release) and feeds the
// outcomes back as events. After dask/distributed's worker_state_machine, much simplified.
import { FetchQueue } from './fetch-queue.js';
import { ReadyQueue, type ReadyItem } from './ready-queue.js';
import { Slots } from './slots.js';
import { Stories } from './stories.js';
import { TRANSITIONS } from './transitions.js';
import { InvalidTransitionError } from './errors.js';
import type {
  EventOf, EventType, KeyState, StoryEntry, ToScheduler, WorkerCounts, WorkerEvent,
  WorkerInstruction, WorkerStateOptions,
} from './types.js';

interface Entry<Spec> {
  key: string;
  /** 'new' only within the event that created the entry, before its first transition. */
  state: KeyState | 'new';
  /** Set while this worker was asked to compute the key. */
  spec: Spec | undefined;
  priority: number;
  resources: Record<string, number>;
  group: string;
  /** Started as a tiny task (see Slots: pipelined beyond nthreads). */
  tiny: boolean;
  /** Renewed each time the task becomes ready, so stale queue items can be told apart. */
  seq: number;
  dependencies: Set<string>;
  waitingFor: Set<string>;
  /** Local tasks that need this key. */
  dependents: Set<string>;
  /** Peers that may hold it (data to fetch). */
  whoHas: string[];
  /** The peer queue or Fetch this key is in, while fetch/flight. */
  peer: string | undefined;
  /** The scheduler counts this key as assigned to or held by this worker. */
  wanted: boolean;
  nbytes: number;
  encoding: number;
}

type Out<Spec> = WorkerInstruction<Spec>[];
type Handlers<Spec> = { [T in EventType]: (event: EventOf<T, Spec>, out: Out<Spec>) => void };

export class WorkerState<Spec = unknown> {
  private readonly slots: Slots;
  private readonly fetches = new FetchQueue();
  private readonly entries = new Map<string, Entry<Spec>>();
  private readonly ready = new ReadyQueue();
  /** Ready tasks that need resources: kept apart so they never block plain tasks. */
  private readonly constrained = new ReadyQueue();
  private readonly stories: Stories;
  private seq = 0;
  private closed = false;

  constructor(options: WorkerStateOptions) {
    if (!(options.nthreads >= 1)) throw new RangeError(`nthreads must be >= 1, got ${options.nthreads}`);
    this.slots = new Slots({
      nthreads: options.nthreads, resources: options.resources ?? {},
      depth: Math.max(1, options.pipeline?.depth ?? 1), tinyMs: options.pipeline?.belowMs ?? 0,
    });
    this.stories = new Stories(options.storyLength ?? 16);
  }

  handle(event: WorkerEvent<Spec>): WorkerInstruction<Spec>[] {
    const out: Out<Spec> = [];
    (this.handlers[event.type] as (e: WorkerEvent<Spec>, o: Out<Spec>) => void)(event, out);
    this.scheduleFetches(out, event.stimulusId);
    this.startReady(out, event.stimulusId);
    return out;
  }

  stateOf(key: string): KeyState | undefined {
    const state = this.entries.get(key)?.state;
    return state === 'new' ? undefined : state;
  }

  story(key: string): StoryEntry[] {
    return this.stories.get(key);
  }

  counts(): WorkerCounts {
    const c: WorkerCounts = { executing: this.slots.running, ready: 0, waiting: 0, fetching: 0, inMemory: 0, erred: 0, memoryBytes: 0 };
    for (const e of this.entries.values()) {
      if (e.state === 'ready') c.ready++;
      else if (e.state === 'waiting') c.waiting++;
      else if (e.state === 'fetch' || e.state === 'flight') c.fetching++;
      else if (e.state === 'error') c.erred++;
      else if (e.state === 'memory') { c.inMemory++; c.memoryBytes += e.nbytes; }
    }
    return c;
  }

  private readonly handlers: Handlers<Spec> = {
    'compute-task': (ev, out) => this.computeTask(ev, out),
    'free-keys': (ev, out) => {
      for (const key of ev.keys) this.release(key, out, ev.stimulusId, true);
    },
    'cancel-task': (ev, out) => this.release(ev.key, out, ev.stimulusId, false),
    'steal-task': (ev, out) => {
      // Executing or done: its outcome is reported as usual and the scheduler keeps it here.
      const e = this.entries.get(ev.key);
      if (e?.spec === undefined || (e.state !== 'waiting' && e.state !== 'ready')) return;
      out.push({ type: 'send-to-scheduler', stimulusId: ev.stimulusId, message: { type: 'rejected', key: e.key, reason: 'stolen' } });
      this.release(e.key, out, ev.stimulusId, false);
    },
    'acquire-replicas': (ev, out) => {
      for (const [key, addresses] of Object.entries(ev.whoHas)) {
        const e = this.entries.get(key) ?? this.newEntry(key);
        if (e.state === 'memory') {
          out.push({ type: 'send-to-scheduler', stimulusId: ev.stimulusId, message: { type: 'added', keys: [key], nbytes: [e.nbytes] } });
        } else if (e.state === 'new' || e.state === 'fetch' || e.state === 'flight' || e.state === 'error') {
          this.wantData(e, addresses, out, ev.stimulusId);
        }
        e.wanted = true;
      }
    },
    // Not reported: whoever Put the values (the scheduler) accounts for them itself, and an
    // `added` racing ahead of its own bookkeeping would read as a stray copy to free.
    'data-put': (ev, out) => {
      for (const k of ev.keys) {
        const e = this.entries.get(k.key) ?? this.newEntry(k.key);
        // A task of that key in progress here keeps its own course; its result replaces this.
        if (e.state === 'waiting' || e.state === 'ready' || e.state === 'executing') continue;
        e.wanted = true;
        if (e.state === 'memory') e.nbytes = k.nbytes;
        else this.toMemory(e, k.nbytes, k.encoding, out, ev.stimulusId);
      }
    },
    'fetch-done': (ev, out) => this.fetchDone(ev, out),
    'fetch-failed': (ev, out) => {
      this.fetches.finish(ev.from);
      for (const key of ev.keys) this.notAt(key, ev.from, out, ev.stimulusId);
      // The peer is likely gone: route what is still queued for it elsewhere.
      for (const key of this.fetches.queuedFor(ev.from)) this.notAt(key, ev.from, out, ev.stimulusId);
    },
    'execute-done': (ev, out) => {
      const e = this.finishRun(ev.key, ev.durationMs, out, ev.stimulusId);
      if (!e) return;
      this.toMemory(e, ev.nbytes, ev.encoding, out, ev.stimulusId);
      out.push({ type: 'send-to-scheduler', stimulusId: ev.stimulusId, message: {
        type: 'finished', key: ev.key, nbytes: ev.nbytes, encoding: ev.encoding, startMs: ev.startMs, durationMs: ev.durationMs,
        thread: ev.thread, transfers: ev.transfers,
      } });
    },
    'execute-failed': (ev, out) => {
      const e = this.finishRun(ev.key, ev.durationMs, out, ev.stimulusId);
      if (!e) return;
      this.transition(e, 'error', ev.stimulusId);
      this.unlinkDependencies(e, out, ev.stimulusId);
      out.push({ type: 'send-to-scheduler', stimulusId: ev.stimulusId, message: {
        type: 'erred', key: ev.key, error: ev.error, startMs: ev.startMs, durationMs: ev.durationMs, thread: ev.thread,
      } });
    },
    'execute-missing': (ev, out) => {
      const e = this.finishRun(ev.key, ev.durationMs, out, ev.stimulusId);
      if (!e) return;
      out.push({ type: 'send-to-scheduler', stimulusId: ev.stimulusId, message: { type: 'missing', key: e.key, missing: ev.missing } });
      e.wanted = false;
      e.spec = undefined;
      this.forget(e, out, ev.stimulusId);
    },
    close: (ev, out) => {
      this.closed = true;
      for (const e of [...this.entries.values()]) {
        if (e.spec !== undefined && (e.state === 'waiting' || e.state === 'ready')) {
          out.push({ type: 'send-to-scheduler', stimulusId: ev.stimulusId, message: { type: 'rejected', key: e.key, reason: `worker closing: ${ev.reason}` } });
          this.release(e.key, out, ev.stimulusId, false);
        }
      }
    },
  };

  private computeTask(ev: EventOf<'compute-task', Spec>, out: Out<Spec>): void {
    const { task, stimulusId } = ev;
    if (this.closed) {
      out.push({ type: 'send-to-scheduler', stimulusId, message: { type: 'rejected', key: task.key, reason: 'worker closing' } });
      return;
    }
    const lacking = this.slots.lacking(task.resources);
    if (lacking) {
      out.push({ type: 'send-to-scheduler', stimulusId, message: { type: 'rejected', key: task.key, reason: lacking } });
      return;
    }
    let e = this.entries.get(task.key);
    if (e) {
      e.wanted = true;
      if (e.state === 'memory') {
        out.push({ type: 'send-to-scheduler', stimulusId, message: { type: 'finished', key: e.key, nbytes: e.nbytes, encoding: e.encoding, startMs: 0, durationMs: 0, thread: -1, transfers: [] } });
        return;
      }
      if (e.state === 'flight') {
        e.spec = task.spec; // the value is on its way; report it as finished when it lands
        return;
      }
      if (e.state === 'new') throw new Error('unreachable: new entry outside its event');
      if (e.state !== 'fetch' && e.state !== 'error') return; // already waiting/ready/executing
      this.dequeueFetch(e);
    } else {
      e = this.newEntry(task.key);
    }
    e.spec = task.spec;
    e.wanted = true;
    e.priority = task.priority;
    e.resources = task.resources;
    e.group = task.group ?? '';
    e.dependencies = new Set(task.dependencies);
    e.waitingFor.clear();
    for (const dep of e.dependencies) {
      const d = this.entries.get(dep) ?? this.newEntry(dep);
      d.dependents.add(e.key);
      if (d.state === 'memory') continue;
      e.waitingFor.add(dep);
      const holders = task.whoHas[dep] ?? [];
      if (d.state === 'new' || d.state === 'fetch' || d.state === 'flight' || d.state === 'error') {
        this.wantData(d, holders, out, stimulusId);
        // No holder at all: the task was reported missing and dropped.
        if (this.entries.get(e.key) !== e) return;
      } else if (d.state === 'executing') {
        // Computed here, but if its run is interrupted it is fetched from these instead.
        for (const a of holders) if (!d.whoHas.includes(a)) d.whoHas.push(a);
      }
    }
    if (e.waitingFor.size === 0) this.makeReady(e, stimulusId);
    else if (e.state !== 'waiting') this.transition(e, 'waiting', stimulusId);
  }

  /** A key whose value this worker needs from peers. */
  private wantData(e: Entry<Spec>, addresses: string[], out: Out<Spec>, stimulusId: string): void {
    for (const a of addresses) if (!e.whoHas.includes(a)) e.whoHas.push(a);
    if (e.state === 'flight') return;
    if (e.state === 'fetch' && e.peer !== undefined) return;
    if (e.state !== 'fetch') this.transition(e, 'fetch', stimulusId);
    this.enqueueFetch(e, out, stimulusId);
  }

  private enqueueFetch(e: Entry<Spec>, out: Out<Spec>, stimulusId: string): void {
    if (e.whoHas.length === 0) {
      this.unavailable(e, out, stimulusId);
      return;
    }
    e.peer = this.fetches.enqueue(e.key, e.whoHas);
  }

  private dequeueFetch(e: Entry<Spec>): void {
    if (e.state === 'fetch' && e.peer !== undefined) this.fetches.dequeue(e.key, e.peer);
    e.peer = undefined;
  }

  /** One Fetch per idle peer, carrying every key queued for it. */
  private scheduleFetches(out: Out<Spec>, stimulusId: string): void {
    for (const { peer, keys } of this.fetches.start()) {
      for (const key of keys) this.transition(this.entries.get(key)!, 'flight', stimulusId);
      out.push({ type: 'fetch', from: peer, keys, stimulusId });
    }
  }

  private fetchDone(ev: EventOf<'fetch-done', Spec>, out: Out<Spec>): void {
    const asked = this.fetches.finish(ev.from);
    const added: ToScheduler & { type: 'added' } = { type: 'added', keys: [], nbytes: [] };
    for (const k of ev.keys) {
      asked.delete(k.key);
      const e = this.entries.get(k.key);
      if (e?.state === 'memory') continue; // arrived by another route; the stored value is the same
      if (!e || e.state !== 'flight' || e.peer !== ev.from || (!e.wanted && e.dependents.size === 0)) {
        out.push({ type: 'release-data', keys: [k.key], stimulusId: ev.stimulusId });
        if (e?.state === 'flight' && e.peer === ev.from) this.forget(e, out, ev.stimulusId);
        continue;
      }
      const isTask = e.spec !== undefined;
      e.wanted = true; // once reported, the scheduler counts it here until it frees it
      this.toMemory(e, k.nbytes, k.encoding, out, ev.stimulusId);
      if (isTask) {
        out.push({ type: 'send-to-scheduler', stimulusId: ev.stimulusId, message: { type: 'finished', key: e.key, nbytes: k.nbytes, encoding: k.encoding, startMs: 0, durationMs: 0, thread: -1, transfers: [] } });
      } else {
        added.keys.push(e.key);
        added.nbytes.push(k.nbytes);
      }
    }
    if (added.keys.length > 0) out.push({ type: 'send-to-scheduler', message: added, stimulusId: ev.stimulusId });
    for (const key of [...ev.missing, ...asked]) this.notAt(key, ev.from, out, ev.stimulusId);
  }

  /** `peer` does not have `key` (missing, unreachable): try another holder. */
  private notAt(key: string, peer: string, out: Out<Spec>, stimulusId: string): void {
    const e = this.entries.get(key);
    if (!e || (e.state !== 'flight' && e.state !== 'fetch') || e.peer !== peer) return;
    this.dequeueFetch(e);
    e.whoHas = e.whoHas.filter((a) => a !== peer);
    if (!e.wanted && e.dependents.size === 0) {
      this.forget(e, out, stimulusId);
      return;
    }
    if (e.state === 'flight') this.transition(e, 'fetch', stimulusId);
    this.enqueueFetch(e, out, stimulusId);
  }

  /** No holder left: tell the scheduler, per dependent task, and drop those tasks. */
  private unavailable(e: Entry<Spec>, out: Out<Spec>, stimulusId: string): void {
    for (const dep of [...e.dependents]) {
      const t = this.entries.get(dep);
      if (!t || t.spec === undefined) continue;
      out.push({ type: 'send-to-scheduler', stimulusId, message: { type: 'missing', key: t.key, missing: [e.key] } });
      t.wanted = false;
      t.spec = undefined;
      this.forget(t, out, stimulusId);
    }
    e.dependents.clear();
    this.forget(e, out, stimulusId);
  }

  /** free-keys (scheduler forgot the key here) or cancel-task (only the run is unwanted). */
  private release(key: string, out: Out<Spec>, stimulusId: string, free: boolean): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (!free && (e.spec === undefined || e.state === 'memory' || e.state === 'error')) return;
    e.wanted = false;
    e.spec = undefined;
    if (e.state === 'executing') {
      // Its run is stopped, not waited for: a task that never returns must not hold the slot.
      this.slots.finish(e.resources, e.group, e.tiny);
      out.push({ type: 'interrupt', key: e.key, stimulusId });
      if (e.dependents.size > 0) this.wantData(e, [], out, stimulusId); // needed here: fetch it
      else this.forget(e, out, stimulusId);
      return;
    }
    if (e.dependents.size > 0 && (e.state === 'memory' || e.state === 'fetch' || e.state === 'flight')) return;
    this.forget(e, out, stimulusId);
  }

  private finishRun(key: string, durationMs: number, out: Out<Spec>, stimulusId: string): Entry<Spec> | undefined {
    const e = this.entries.get(key);
    if (!e || e.state !== 'executing') {
      out.push({ type: 'release-data', keys: [key], stimulusId });
      return undefined;
    }
    this.slots.finish(e.resources, e.group, e.tiny, durationMs);
    return e;
  }

  private toMemory(e: Entry<Spec>, nbytes: number, encoding: number, out: Out<Spec>, stimulusId: string): void {
    this.dequeueFetch(e);
    e.nbytes = nbytes;
    e.encoding = encoding;
    this.transition(e, 'memory', stimulusId);
    e.spec = undefined;
    this.unlinkDependencies(e, out, stimulusId);
    for (const dep of e.dependents) {
      const t = this.entries.get(dep);
      if (!t || !t.waitingFor.delete(e.key)) continue;
      if (t.waitingFor.size === 0 && t.state === 'waiting') this.makeReady(t, stimulusId);
    }
  }

  /** A task is done with its dependencies: let go of those nobody else wants. */
  private unlinkDependencies(e: Entry<Spec>, out: Out<Spec>, stimulusId: string): void {
    for (const dep of e.dependencies) {
      const d = this.entries.get(dep);
      if (!d) continue;
      d.dependents.delete(e.key);
      if (d.dependents.size === 0 && !d.wanted && d.state !== 'flight' && d.state !== 'executing') {
        this.forget(d, out, stimulusId);
      }
    }
    e.dependencies = new Set();
    e.waitingFor.clear();
  }

  private forget(e: Entry<Spec>, out: Out<Spec>, stimulusId: string): void {
    if (this.entries.get(e.key) !== e) return;
    if (e.state === 'memory') out.push({ type: 'release-data', keys: [e.key], stimulusId });
    this.dequeueFetch(e);
    this.transition(e, 'forgotten', stimulusId);
    this.entries.delete(e.key);
    this.unlinkDependencies(e, out, stimulusId);
  }

  private makeReady(e: Entry<Spec>, stimulusId: string): void {
    this.transition(e, 'ready', stimulusId);
    e.seq = ++this.seq;
    const item = { key: e.key, priority: e.priority, seq: e.seq };
    (Object.keys(e.resources).length > 0 ? this.constrained : this.ready).push(item);
  }

  private startReady(out: Out<Spec>, stimulusId: string): void {
    const current = (item: ReadyItem): boolean => {
      const e = this.entries.get(item.key);
      return e !== undefined && e.state === 'ready' && e.seq === item.seq;
    };
    while (!this.closed) {
      this.ready.prune(current);
      this.constrained.prune(current);
      const plain = this.ready.peek();
      const limited = this.constrained.peek();
      const fits = limited !== undefined && this.slots.fits(this.entries.get(limited.key)!.resources);
      const useLimited = fits && (!plain || limited.priority > plain.priority || (limited.priority === plain.priority && limited.seq < plain.seq));
      const next = useLimited ? limited : plain;
      if (!next || !this.slots.mayStart(this.entries.get(next.key)!.group)) return;
      const item = useLimited ? this.constrained.pop() : this.ready.pop();
      if (!item) return;
      const e = this.entries.get(item.key)!;
      e.tiny = this.slots.start(e.resources, e.group);
      this.transition(e, 'executing', stimulusId);
      out.push({ type: 'execute', key: e.key, spec: e.spec as Spec, stimulusId });
    }
  }

  private newEntry(key: string): Entry<Spec> {
    const e: Entry<Spec> = {
      key, state: 'new', spec: undefined, priority: 0, resources: {}, group: '', tiny: false, seq: 0, dependencies: new Set(),
      waitingFor: new Set(), dependents: new Set(), whoHas: [], peer: undefined, wanted: false, nbytes: 0, encoding: 0,
    };
    this.entries.set(key, e);
    return e;
  }

  private transition(e: Entry<Spec>, to: KeyState | 'forgotten', stimulusId: string): void {
    const from = e.state;
    if (!TRANSITIONS[from].includes(to)) throw new InvalidTransitionError(e.key, from, to, stimulusId);
    if (to !== 'forgotten') e.state = to;
    this.stories.record({ key: e.key, from, to, stimulusId });
  }
}
