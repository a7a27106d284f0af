// A seeded random cluster around the pure scheduler, for scheduler-random.test.ts. Clients
// submit graphs, want, release and cancel keys, scatter data; workers join, die, leave, retire
// and answer what they were sent: sometimes late (after a cancel), sometimes unable to fetch
// an input whose holder died, sometimes with an error. The Harness validates the state after
// every event; this model also checks what the scheduler believes against what the workers
// really hold and run.
import { addr, Harness, type EventInput } from './scheduler-harness.js';
import type { Core } from '../../scheduler/state/core.js';
import type { SchedulerMessage, TaskDef } from '../../scheduler/state/types.js';
import { validateGraph } from '../../scheduler/state/validate.js';

/** mulberry32: small, fast and the same on every platform. */
export class Rng {
  constructor(private seed: number) {}

  next(): number {
    this.seed = (this.seed + 0x6d2b79f5) | 0;
    let t = this.seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number { return Math.floor(this.next() * n); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(items: readonly T[]): T | undefined { return items.length === 0 ? undefined : items[this.int(items.length)]; }
}

interface SimWorker {
  readonly id: string;
  readonly resources: Record<string, number>;
  /** What it really holds: key -> nbytes. */
  readonly holds: Map<string, number>;
}

interface Compute { workerId: string; key: string; whoHas: Record<string, string[]> }

const CLIENTS = ['c1', 'c2', 'c3'];
const MAX_WORKERS = 6;

/**
 * What kind of cluster: 'mixed' (the default) covers everything a little; 'give-backs' has
 * big workers that give back many of the tasks they were sent (as to steals and recalls), and
 * large batches of root tasks, so long runs of given-back tasks wait at the head of a lane.
 */
export type Profile = 'mixed' | 'give-backs';

export class RandomCluster {
  readonly h = new Harness();
  /** Every event sent, compactly, for the failure message. */
  readonly history: string[] = [];
  private readonly workers = new Map<string, SimWorker>();
  /** Ids that were workers once: a late worker-removed for them must be harmless. */
  private readonly gone: string[] = [];
  private computes: Compute[] = [];
  private steals: Array<{ workerId: string; key: string }> = [];
  private replicates: Array<{ workerId: string; key: string; from: string[] }> = [];
  /** balance-data requests not yet answered, and how often each request was answered. */
  private readonly openBalances = new Set<string>();
  private readonly balanceAnswers = new Map<string, number>();
  /** Keys each client holds a reference to, as the scheduler's messages say. */
  readonly wanted = new Map<string, Set<string>>();
  /** The last state each client was told for each key: `client key` -> state. */
  readonly told = new Map<string, string>();
  /** Every key ever submitted or scattered. */
  private readonly keys: string[] = [];
  private seq = 0;
  /** Workers may err and fail fetches at random (off while draining). */
  private chaos = true;
  /** The most queued tasks one worker had given back at once, after any event. */
  mostGivenBackQueued = 0;

  constructor(private readonly rng: Rng, private readonly profile: Profile = 'mixed') {}

  send(e: EventInput): void {
    this.history.push(describe(e));
    this.absorb(this.h.ev(e));
    this.checkAgainstWorkers();
    if (this.profile === 'give-backs') this.countGivenBack();
  }

  /** One random event. */
  step(): void {
    const r = this.rng;
    const actions: Array<[number, () => boolean]> = [
      [14, () => this.submit()],
      [25, () => this.answerCompute()],
      [6, () => this.answerSteal()],
      [4, () => this.answerReplicate()],
      [3, () => this.wantKey()],
      [6, () => this.releaseKeys()],
      [2, () => this.cancelKey()],
      [1, () => this.disconnect()],
      [5, () => this.addWorker()],
      [3, () => this.killWorker()],
      [1, () => this.lateRemoval()],
      [3, () => this.retire()],
      [2, () => this.cancelRetirement()],
      [3, () => this.scatter()],
      [2, () => this.heartbeat()],
      [5, () => { this.send({ type: 'rebalance' }); return true; }],
      [2, () => this.balanceData()],
      [1, () => this.expireBalance()],
      [this.profile === 'give-backs' ? 12 : 0, () => this.giveBack()],
    ];
    const total = actions.reduce((n, [w]) => n + w, 0);
    for (;;) {
      let x = r.int(total);
      const action = actions.find(([w]) => (x -= w) < 0) as [number, () => boolean];
      if (action[1]()) return;
    }
  }

  /**
   * Brings every wanted key to an end: a worker for every kind of task, no retirement, and
   * workers that answer everything without errors until nothing is outstanding.
   */
  drain(maxEvents = 100_000): void {
    this.chaos = false;
    const retiring = [...this.workers.keys()].filter((id) => this.h.s.retiring(id));
    if (retiring.length > 0) this.send({ type: 'cancel-retirement', workerIds: retiring, reason: 'draining' });
    this.addWorker({ GPU: 1 });
    for (let n = 0; n < maxEvents; n++) {
      if (this.answerSteal() || this.answerReplicate() || this.answerCompute()) continue;
      // A copy the recipient could not make is never confirmed: only the deadline ends its request.
      for (const requestId of [...this.openBalances]) this.send({ type: 'balance-data-expired', requestId });
      return;
    }
    throw new Error(`still busy after ${maxEvents} events of draining`);
  }

  /** Every key a client still holds ended in memory or erred, and the client was told so. */
  endStateProblems(): string[] {
    const problems: string[] = [];
    const c = this.h.s.counts();
    if (c.waiting + c.queued + c.noWorker + c.processing > 0) problems.push(`work left over: ${JSON.stringify(c)}`);
    for (const [requestId, n] of this.balanceAnswers) if (n !== 1) problems.push(`balance request ${requestId} answered ${n} times`);
    if (this.openBalances.size > 0) problems.push(`balance requests never answered: ${[...this.openBalances].join(', ')}`);
    for (const [client, keys] of this.wanted) {
      for (const key of keys) {
        const state = this.h.s.taskState(key);
        const told = this.told.get(`${client} ${key}`);
        const expected = state === 'memory' ? 'finished' : state === 'erred' ? 'erred' : undefined;
        if (!expected) problems.push(`${client} wants "${key}", which is ${state ?? 'unknown'}`);
        else if (told !== expected) problems.push(`${client} wants "${key}" (${state}) but was last told ${told ?? 'nothing'}`);
      }
    }
    return problems;
  }

  // --- What the scheduler's messages make the model do.

  private absorb(msgs: SchedulerMessage[]): void {
    for (const m of msgs) {
      switch (m.type) {
        case 'compute':
          this.computes.push({ workerId: m.workerId, key: m.key, whoHas: m.whoHas });
          break;
        case 'cancel-compute': // the worker drops it, or had finished it already (answers late)
          if (this.rng.chance(0.5)) {
            const i = this.computes.findIndex((x) => x.workerId === m.workerId && x.key === m.key);
            if (i >= 0) this.computes.splice(i, 1);
          }
          break;
        case 'free-keys':
          for (const key of m.keys) this.workers.get(m.workerId)?.holds.delete(key);
          break;
        case 'steal':
          this.steals.push({ workerId: m.workerId, key: m.key });
          break;
        case 'replicate':
          this.replicates.push({ workerId: m.workerId, key: m.key, from: m.from });
          break;
        case 'worker-retired':
          this.forgetWorker(m.workerId);
          break;
        case 'client-key':
          this.told.set(`${m.clientId} ${m.key}`, m.state);
          if (m.state === 'lost' || m.state === 'cancelled') this.wanted.get(m.clientId)?.delete(m.key);
          break;
        case 'retire-refused':
          break;
        case 'balance-data-done':
          this.openBalances.delete(m.requestId);
          this.balanceAnswers.set(m.requestId, (this.balanceAnswers.get(m.requestId) ?? 0) + 1);
          break;
      }
    }
  }

  private forgetWorker(id: string): void {
    this.workers.delete(id);
    this.gone.push(id);
    this.computes = this.computes.filter((x) => x.workerId !== id);
    this.steals = this.steals.filter((x) => x.workerId !== id);
    this.replicates = this.replicates.filter((x) => x.workerId !== id);
  }

  /**
   * The scheduler knows exactly the live workers; records exactly the copies they hold (none
   * missed, none made up); and every task it has processing on a worker was sent there and
   * not yet answered.
   */
  private checkAgainstWorkers(): void {
    const s = this.h.s;
    const ids = [...this.workers.keys()].sort();
    if (JSON.stringify(s.workerIds().sort()) !== JSON.stringify(ids)) {
      throw new Error(`scheduler knows workers ${JSON.stringify(s.workerIds())}, the cluster has ${JSON.stringify(ids)}`);
    }
    const sent = new Set(this.computes.map((x) => `${x.workerId} ${x.key}`));
    for (const ws of this.workers.values()) {
      const recorded = new Set(s.heldBy(ws.id));
      for (const key of ws.holds.keys()) {
        if (!recorded.has(key)) throw new Error(`worker "${ws.id}" holds "${key}", which the scheduler does not record (${s.taskState(key) ?? 'unknown'})`);
      }
      for (const key of recorded) {
        if (!ws.holds.has(key)) throw new Error(`the scheduler records "${key}" on worker "${ws.id}", which does not hold it`);
      }
      for (const key of s.processingOn(ws.id)) {
        if (!sent.has(`${ws.id} ${key}`)) {
          throw new Error(`"${key}" is processing on worker "${ws.id}", which was never sent it or has answered`);
        }
      }
    }
  }

  // --- Clients.

  private newKey(prefix: string): string {
    const key = `${prefix}${this.seq++}`;
    this.keys.push(key);
    return key;
  }

  private knownKeys(): string[] { return this.keys.filter((k) => this.h.s.knownKey(k)); }

  private want(client: string, key: string): void {
    let keys = this.wanted.get(client);
    if (!keys) {
      keys = new Set();
      this.wanted.set(client, keys);
    }
    keys.add(key);
  }

  private submit(): boolean {
    const r = this.rng;
    if (this.profile === 'give-backs' && r.chance(0.5)) return this.submitRoots();
    const client = r.pick(CLIENTS) as string;
    const known = this.knownKeys();
    const tasks: TaskDef[] = [];
    for (let n = 1 + r.int(6); n > 0; n--) {
      // Now and then a key the scheduler knows: its definition is ignored (given none, so
      // the graph stays acyclic as the server's validateGraph requires).
      const reuse = r.chance(0.05) ? r.pick(known) : undefined;
      const deps = new Set<string>();
      if (!reuse || tasks.some((t) => t.key === reuse)) {
        for (const t of tasks) if (r.chance(0.4)) deps.add(t.key);
        if (r.chance(0.3)) for (let k = 1 + r.int(2); k > 0; k--) { const d = r.pick(known); if (d) deps.add(d); }
      }
      const key = deps.size === 0 && reuse && !tasks.some((t) => t.key === reuse) ? reuse : this.newKey('k');
      tasks.push({
        key, functionId: 'f', dependencies: [...deps], resources: r.chance(0.12) ? { GPU: 1 } : {},
        retries: r.chance(0.3) ? 1 : 0, priority: r.int(3), group: `g${r.int(3)}`, spec: undefined,
        ...(deps.size > 0 && r.chance(0.15) ? { stayWithData: true } : {}),
      });
    }
    const wanted = tasks.filter((_, i) => i === tasks.length - 1 || r.chance(0.5)).map((t) => t.key);
    validateGraph(tasks, (k) => this.h.s.knownKey(k), () => true); // as the server does first
    for (const key of wanted) this.want(client, key);
    this.send({ type: 'update-graph', clientId: client, tasks, wanted });
    return true;
  }

  /** A large batch of independent tasks, all wanted. */
  private submitRoots(): boolean {
    const client = this.rng.pick(CLIENTS) as string;
    const tasks = Array.from({ length: 20 + this.rng.int(120) }, (): TaskDef => ({
      key: this.newKey('r'), functionId: 'f', dependencies: [], resources: this.rng.chance(0.1) ? { GPU: 1 } : {},
      retries: 0, priority: this.rng.int(2), group: 'roots', spec: undefined,
    }));
    const wanted = tasks.map((t) => t.key);
    for (const key of wanted) this.want(client, key);
    this.send({ type: 'update-graph', clientId: client, tasks, wanted });
    return true;
  }

  private wantKey(): boolean {
    const key = this.rng.pick(this.keys);
    if (!key) return false;
    const client = this.rng.pick(CLIENTS) as string;
    this.want(client, key); // dropped again if the scheduler answers lost
    this.send({ type: 'client-wants-keys', clientId: client, keys: [key] });
    return true;
  }

  private releaseKeys(): boolean {
    const client = this.rng.pick(CLIENTS) as string;
    const mine = [...(this.wanted.get(client) ?? [])];
    const keys = mine.filter(() => this.rng.chance(0.4));
    if (keys.length === 0) return false;
    for (const key of keys) this.wanted.get(client)?.delete(key);
    this.send({ type: 'client-releases-keys', clientId: client, keys });
    return true;
  }

  private cancelKey(): boolean {
    const client = this.rng.pick(CLIENTS) as string;
    const key = this.rng.pick([...(this.wanted.get(client) ?? [])]);
    if (!key) return false;
    this.send({ type: 'cancel', clientId: client, keys: [key] });
    return true;
  }

  private disconnect(): boolean {
    const client = this.rng.pick(CLIENTS) as string;
    this.wanted.delete(client);
    this.send({ type: 'client-disconnected', clientId: client });
    return true;
  }

  private scatter(): boolean {
    const ws = this.rng.pick([...this.workers.values()]);
    if (!ws) return false;
    const client = this.rng.pick(CLIENTS) as string;
    const keys = [this.rng.chance(0.2) ? (this.rng.pick(this.keys) ?? this.newKey('s')) : this.newKey('s')];
    const nbytes = keys.map(() => 1 + this.rng.int(1e6));
    keys.forEach((key, i) => { ws.holds.set(key, nbytes[i] as number); this.want(client, key); });
    this.send({ type: 'scattered', clientId: client, workerId: ws.id, keys, nbytes });
    return true;
  }

  // --- Workers.

  private addWorker(resources: Record<string, number> = this.rng.chance(0.3) ? { GPU: 1 } : {}): boolean {
    if (this.chaos && this.workers.size >= MAX_WORKERS) return false;
    const id = `w${this.seq++}`;
    this.workers.set(id, { id, resources, holds: new Map() });
    const nthreads = 1 + this.rng.int(this.profile === 'give-backs' ? 64 : 3);
    this.send({ type: 'worker-added', worker: { workerId: id, name: id, address: addr(id), nthreads, memoryLimit: 1e9, resources, group: '' } });
    return true;
  }

  private killWorker(): boolean {
    const id = this.rng.pick([...this.workers.keys()]);
    if (!id) return false;
    this.forgetWorker(id);
    this.send({ type: 'worker-removed', workerId: id, reason: 'died', graceful: this.rng.chance(0.25) });
    return true;
  }

  private lateRemoval(): boolean {
    const id = this.rng.pick(this.gone);
    if (!id) return false;
    this.send({ type: 'worker-removed', workerId: id, reason: 'stream closed', graceful: true });
    return true;
  }

  private retire(): boolean {
    const ids = [...this.workers.keys()].filter(() => this.rng.chance(0.3));
    if (this.rng.chance(0.1)) ids.push('nobody');
    if (ids.length === 0) return false;
    this.send({ type: 'retire-workers', workerIds: ids });
    return true;
  }

  private cancelRetirement(): boolean {
    const ids = [...this.workers.keys()].filter((id) => this.h.s.retiring(id));
    if (ids.length === 0) return false;
    this.send({ type: 'cancel-retirement', workerIds: ids, reason: 'deadline passed' });
    return true;
  }

  private heartbeat(): boolean {
    const id = this.rng.pick([...this.workers.keys()]);
    if (!id) return false;
    this.send({ type: 'heartbeat', workerId: id, memoryUsed: this.rng.int(1e9) });
    return true;
  }

  /** A holder's copy of the key, reachable at one of these addresses (or the worker's own). */
  private source(ws: SimWorker, key: string, addresses: readonly string[]): number | undefined {
    if (ws.holds.has(key)) return ws.holds.get(key);
    for (const a of addresses) {
      const holder = [...this.workers.values()].find((w) => addr(w.id) === a);
      if (holder?.holds.has(key)) return holder.holds.get(key);
    }
    return undefined;
  }

  /** A worker answers one task it was sent: missing inputs, an error, or the result. */
  private answerCompute(index = this.rng.int(this.computes.length)): boolean {
    const job = this.computes[index];
    if (!job) return false;
    const ws = this.workers.get(job.workerId) as SimWorker;
    const fetched = new Map<string, number>();
    const missing: string[] = [];
    for (const [dep, from] of Object.entries(job.whoHas)) {
      const nbytes = this.chaos && this.rng.chance(0.03) ? undefined : this.source(ws, dep, from);
      if (nbytes === undefined) missing.push(dep);
      else if (!ws.holds.has(dep)) fetched.set(dep, nbytes);
    }
    if (missing.length > 0) {
      this.answered(job);
      this.send({ type: 'missing-data', workerId: ws.id, key: job.key, missing });
      return true;
    }
    if (this.chaos && this.rng.chance(0.08)) {
      const error = { name: 'ValueError', message: `bad input to ${job.key}`, stack: '', worker: ws.id };
      this.answered(job);
      this.send({ type: 'task-erred', workerId: ws.id, key: job.key, error, durationMs: 1 });
      return true;
    }
    if (fetched.size > 0 && this.rng.chance(0.5)) { // the worker reports the inputs it fetched
      for (const [dep, n] of fetched) ws.holds.set(dep, n);
      this.send({ type: 'keys-added', workerId: ws.id, keys: [...fetched.keys()], nbytes: [...fetched.values()] });
    }
    if (!this.answered(job)) return true; // reporting its inputs let a retirement finish: it is gone
    const nbytes = this.rng.chance(0.2) ? 1e5 + this.rng.int(1e8) : this.rng.int(1000);
    ws.holds.set(job.key, nbytes);
    const durationMs = this.rng.chance(0.5) ? this.rng.next() * 4 : this.rng.int(2000);
    this.send({ type: 'task-finished', workerId: ws.id, key: job.key, nbytes, durationMs });
    return true;
  }

  /** Takes the task off the worker's list as it answers; false if the worker is gone meanwhile. */
  private answered(job: Compute): boolean {
    const i = this.computes.indexOf(job);
    if (i >= 0) this.computes.splice(i, 1);
    return i >= 0;
  }

  /** The victim gives the task up if it has not started (mostly), else finishes it. */
  private answerSteal(): boolean {
    const steal = this.steals.splice(this.rng.int(this.steals.length), 1)[0];
    if (!steal) return false;
    const index = this.computes.findIndex((x) => x.workerId === steal.workerId && x.key === steal.key);
    if (index < 0) return true; // already answered: the steal finds nothing
    if (this.rng.chance(0.3)) return this.answerCompute(index);
    this.computes.splice(index, 1);
    this.send({ type: 'task-rejected', workerId: steal.workerId, key: steal.key, reason: 'stolen' });
    return true;
  }

  /** A worker gives back most of what it was sent and has not answered. */
  private giveBack(): boolean {
    const ws = this.rng.pick([...this.workers.keys()].filter((id) => this.computes.some((x) => x.workerId === id)));
    if (!ws) return false;
    for (const job of this.computes.filter((x) => x.workerId === ws && this.rng.chance(0.9))) {
      if (!this.answered(job)) continue; // a give-back just before let its retirement finish
      this.send({ type: 'task-rejected', workerId: ws, key: job.key, reason: 'stolen' });
    }
    return true;
  }

  private countGivenBack(): void {
    const core = (this.h.s as unknown as { core: Core }).core;
    const byWorker = new Map<string, number>();
    for (const ts of core.tasks.values()) {
      if (ts.state !== 'queued') continue;
      for (const id of ts.rejectedBy ?? []) byWorker.set(id, (byWorker.get(id) ?? 0) + 1);
    }
    this.mostGivenBackQueued = Math.max(this.mostGivenBackQueued, ...byWorker.values());
  }

  /** Rebalance every key, or a few known ones (some maybe not in memory, or forgotten). */
  private balanceData(): boolean {
    const requestId = `b${this.seq++}`;
    const known = this.knownKeys();
    const keys = this.rng.chance(0.5) ? null : Array.from({ length: 1 + this.rng.int(4) }, () => known[this.rng.int(known.length)] ?? 'nope');
    this.openBalances.add(requestId);
    this.balanceAnswers.set(requestId, 0);
    this.send({ type: 'balance-data', requestId, keys });
    return true;
  }

  private expireBalance(): boolean {
    const open = [...this.openBalances];
    if (open.length === 0) return false;
    this.send({ type: 'balance-data-expired', requestId: open[this.rng.int(open.length)] as string });
    return true;
  }

  /** The recipient fetches the key from a holder and confirms, or finds none and stays quiet. */
  private answerReplicate(): boolean {
    const job = this.replicates.splice(this.rng.int(this.replicates.length), 1)[0];
    if (!job) return false;
    const ws = this.workers.get(job.workerId) as SimWorker;
    const nbytes = this.source(ws, job.key, job.from);
    if (nbytes === undefined) return true;
    ws.holds.set(job.key, nbytes);
    this.send({ type: 'keys-added', workerId: ws.id, keys: [job.key], nbytes: [nbytes] });
    return true;
  }
}

/** One line per event: enough to replay it by hand. */
function describe(e: EventInput): string {
  if (e.type === 'update-graph') {
    const tasks = e.tasks.map((t) => `${t.key}${t.dependencies.length ? `<-[${t.dependencies.join(',')}]` : ''}${t.resources.GPU ? ' GPU' : ''}${t.retries ? ' retries=1' : ''}`);
    return `update-graph ${e.clientId} {${tasks.join('; ')}} wanted [${e.wanted.join(',')}]`;
  }
  if (e.type === 'worker-added') return `worker-added ${e.worker.workerId} nthreads=${e.worker.nthreads} ${JSON.stringify(e.worker.resources)}`;
  if (e.type === 'task-erred') return `task-erred ${e.workerId} ${e.key}`;
  const { type, ...rest } = e;
  return `${type} ${JSON.stringify(rest)}`;
}
