// validateState: every derived index of the scheduler's state must agree with the records it
// is derived from (each task's state, edges, replicas and worker; each worker's definition),
// as Dask's SchedulerState.validate_state checks. Read-only and linear in tasks, edges and
// workers: the unit tests run it after every event, and SchedulerState.validate() offers it
// for debugging a live scheduler. It holds between events, not inside one.
import { ACTIVE_STATES, type Core, type TaskRecord, type WorkerRecord } from './core.js';
import { StateInvariantError, type StateIndex, type StateViolation } from './errors.js';
import { capable, fits } from './placement.js';
import { progressBucket, type ProgressBucket } from './group-progress.js';
import { runsBefore } from './queue.js';
import type { TaskState } from './types.js';

/** Violations kept in the error's message; the rest are only counted. */
const MAX_REPORTED = 20;

const READY_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['queued', 'no-worker', 'processing']);

class Findings {
  readonly kept: StateViolation[] = [];
  total = 0;

  add(index: StateIndex, subject: string, problem: string): void {
    if (this.kept.length < MAX_REPORTED) this.kept.push({ index, subject, problem });
    this.total++;
  }
}

const taskName = (ts: TaskRecord): string => `task "${ts.key}"`;
const workerName = (ws: WorkerRecord): string => `worker "${ws.id}"`;
const keys = (tasks: Iterable<TaskRecord>): string => `[${[...tasks].map((t) => `"${t.key}"`).join(', ')}]`;

/** Equal up to float rounding (sums kept incrementally drift a little). */
function near(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Throws StateInvariantError listing every index that disagrees with the records. */
export function validateState(c: Core): void {
  const f = new Findings();
  checkTasks(c, f);
  checkCounts(c, f);
  checkProgress(c, f);
  checkWorkers(c, f);
  checkQueues(c, f);
  checkPending(c, f);
  checkClients(c, f);
  checkRetirement(c, f);
  checkMoves(c, f);
  checkCapableCache(c, f);
  if (c.dirty.size > 0 || c.fillAll) f.add('settled', 'state', 'workers are still marked to be filled from the queue');
  checkFilled(c, f);
  if (f.total > 0) throw new StateInvariantError(f.kept, f.total);
}

const liveTask = (c: Core, ts: TaskRecord): boolean => c.tasks.get(ts.key) === ts;
const liveWorker = (c: Core, ws: WorkerRecord): boolean => c.workers.get(ws.id) === ws;

/** hasCapableWorker, computed afresh (no cache). */
function anyCapable(c: Core, ts: TaskRecord): boolean {
  for (const ws of c.workers.values()) if (!ws.retiring && capable(ws, ts.resources)) return true;
  return false;
}

function checkTasks(c: Core, f: Findings): void {
  for (const [key, ts] of c.tasks) {
    const name = taskName(ts);
    if (ts.key !== key) f.add('tasks', name, `filed under "${key}"`);
    if (ts.state === 'forgotten') f.add('tasks', name, 'forgotten but still kept');
    checkEdges(c, f, ts, name);
    checkWaiting(f, ts, name);
    checkReplicas(c, f, ts, name);
    checkPlacement(c, f, ts, name);
    checkLifeCycle(c, f, ts, name);
  }
}

function checkEdges(c: Core, f: Findings, ts: TaskRecord, name: string): void {
  for (const dep of ts.dependencies) {
    if (dep === ts) f.add('dependencies', name, 'depends on itself');
    if (!liveTask(c, dep)) f.add('dependencies', name, `depends on "${dep.key}", which is not a known task`);
    if (!dep.dependents.has(ts)) f.add('dependents', `task "${dep.key}"`, `lacks its dependent "${ts.key}"`);
  }
  for (const dts of ts.dependents) {
    if (!liveTask(c, dts)) f.add('dependents', name, `lists "${dts.key}", which is not a known task`);
    if (!dts.dependencies.has(ts)) f.add('dependencies', `task "${dts.key}"`, `lacks its dependency "${ts.key}"`);
  }
  // Waiters: exactly the dependents in an active state (they need this task's data).
  for (const dts of ts.dependents) {
    if (ACTIVE_STATES.has(dts.state) !== ts.waiters.has(dts)) {
      f.add('waiters', name, `"${dts.key}" is ${dts.state} but ${ts.waiters.has(dts) ? 'is' : 'is not'} among its waiters`);
    }
  }
  for (const dts of ts.waiters) if (!ts.dependents.has(dts)) f.add('waiters', name, `waiter "${dts.key}" is not a dependent`);
  // Held: by exactly the barrier dependents in memory; a barrier in memory has all it holds.
  const holders = [...ts.dependents].filter((dts) => dts.barrier && dts.state === 'memory').length;
  if (ts.heldBy !== holders) f.add('held', name, `heldBy is ${ts.heldBy} but ${holders} barrier(s) in memory depend on it`);
  if (ts.barrier && ts.state === 'memory') {
    for (const dep of ts.dependencies) if (dep.state !== 'memory') f.add('held', name, `is in memory but holds "${dep.key}", which is ${dep.state}`);
  }
}

/** A waiting task waits for exactly its dependencies not in memory, each on its way there. */
function checkWaiting(f: Findings, ts: TaskRecord, name: string): void {
  if (ts.state !== 'waiting') {
    if (ts.waitingOn.size > 0) f.add('waiting-on', name, `is ${ts.state} but waits on ${keys(ts.waitingOn)}`);
    if (READY_STATES.has(ts.state)) {
      const absent = [...ts.dependencies].filter((dep) => dep.state !== 'memory');
      if (absent.length > 0) f.add('life-cycle', name, `is ${ts.state} while its dependencies ${keys(absent)} are not in memory`);
    }
    return;
  }
  for (const dep of ts.waitingOn) {
    if (!ts.dependencies.has(dep)) f.add('waiting-on', name, `waits on "${dep.key}", which is not a dependency`);
  }
  for (const dep of ts.dependencies) {
    const missing = dep.state !== 'memory';
    if (missing !== ts.waitingOn.has(dep)) {
      f.add('waiting-on', name, `dependency "${dep.key}" is ${dep.state} but ${missing ? 'is not' : 'is'} waited on`);
    }
    if (missing && !ACTIVE_STATES.has(dep.state)) f.add('life-cycle', name, `waits on "${dep.key}", which is ${dep.state}: nothing will compute it`);
  }
  if (ts.waitingOn.size === 0) f.add('life-cycle', name, 'is waiting with every dependency in memory: it should have been scheduled');
}

function checkReplicas(c: Core, f: Findings, ts: TaskRecord, name: string): void {
  for (const ws of ts.whoHas) {
    if (!liveWorker(c, ws)) f.add('who-has', name, `held by worker "${ws.id}", which is gone`);
    if (!ws.hasWhat.has(ts)) f.add('has-what', workerName(ws), `lacks "${ts.key}", which names it a holder`);
  }
  if ((ts.state === 'memory') !== (ts.whoHas.size > 0)) f.add('who-has', name, `is ${ts.state} with ${ts.whoHas.size} holders`);
}

/** Processing, stealing, the ready queues and no-worker, from the task's side. */
function checkPlacement(c: Core, f: Findings, ts: TaskRecord, name: string): void {
  const ws = ts.processingOn;
  if ((ts.state === 'processing') !== (ws !== undefined)) {
    f.add('processing', name, `is ${ts.state} with processingOn ${ws ? `"${ws.id}"` : 'unset'}`);
  }
  if (ws && !liveWorker(c, ws)) f.add('processing', name, `processing on worker "${ws.id}", which is gone`);
  if (ws && !ws.processing.has(ts)) f.add('processing', workerName(ws), `lacks "${ts.key}", which is processing there`);
  if (ts.stealBucket !== '') {
    if (!ws) f.add('steal-buckets', name, `is ${ts.state} but marked stealable (${ts.stealBucket})`);
    else if (!ws.stealable.get(ts.stealBucket)?.heap.has(ts)) f.add('steal-buckets', name, `not in bucket "${ts.stealBucket}" of worker "${ws.id}"`);
    if (ts.thief) f.add('steals', name, 'is both being stolen and stealable');
  }
  if (ts.thief) {
    if (!ws) f.add('steals', name, `is ${ts.state} but being stolen for "${ts.thief.id}"`);
    if (liveWorker(c, ts.thief) && !ts.thief.stealsIn.has(ts)) f.add('steals', workerName(ts.thief), `does not count "${ts.key}" as being stolen for it`);
  }
  if (ts.stolenFor && (ts.state === 'queued' || ts.state === 'processing')) {
    f.add('steals', name, `is ${ts.state} but still reserved for thief "${ts.stolenFor.id}"`);
  }
  const inHeap = ts.state === 'queued' || ts.stealBucket !== '';
  if (ts.state === 'queued') {
    if (!c.queues.has(ts, ts.lane)) f.add('ready-queues', name, `queued but not in its lane "${ts.lane}"`);
    if (!anyCapable(c, ts)) f.add('life-cycle', name, 'queued though no worker could ever run it: it should be no-worker');
  } else if (!inHeap && ts.heapIndex !== -1) {
    f.add('ready-queues', name, `is ${ts.state} but records heap slot ${ts.heapIndex}`);
  }
  if ((ts.state === 'no-worker') !== c.noWorker.has(ts)) f.add('no-worker', name, `is ${ts.state} but ${c.noWorker.has(ts) ? 'is' : 'is not'} in the no-worker set`);
  if (ts.state === 'no-worker' && anyCapable(c, ts)) f.add('life-cycle', name, 'no-worker though a worker could run it');
}

/** Kept tasks are needed, or released lineage of a kept dependent; errors go with erred. */
function checkLifeCycle(c: Core, f: Findings, ts: TaskRecord, name: string): void {
  for (const client of ts.wantedBy) {
    if (!c.clients.get(client)?.has(ts)) f.add('clients', `client "${client}"`, `lacks "${ts.key}", which it wants`);
  }
  const needed = c.needed(ts);
  if (ts.state === 'released') {
    if (needed) f.add('life-cycle', name, 'released though needed: it should be computing');
    else if (ts.dependents.size === 0) f.add('life-cycle', name, 'released with no dependents: it should be forgotten');
  } else if (!needed) {
    f.add('life-cycle', name, `${ts.state} though no client wants it and no dependent waits for it: it should be released`);
  }
  const erred = ts.state === 'erred';
  if (erred !== (ts.error !== undefined) || erred !== (ts.errorOrigin !== undefined)) {
    f.add('life-cycle', name, `is ${ts.state} with${ts.error ? '' : 'out'} an error and with${ts.errorOrigin ? '' : 'out'} an error origin`);
  }
  if (ts.erredBy) f.add('life-cycle', name, `a recommendation to err (by "${ts.erredBy.key}") was never applied`);
  if (ts.story.length > c.options.maxStory) f.add('life-cycle', name, `story of ${ts.story.length} entries exceeds ${c.options.maxStory}`);
}

function checkCounts(c: Core, f: Findings): void {
  const n = { released: 0, waiting: 0, queued: 0, noWorker: 0, processing: 0, memory: 0, erred: 0 };
  let bytes = 0;
  for (const ts of c.tasks.values()) {
    if (ts.state === 'no-worker') n.noWorker++;
    else if (ts.state !== 'forgotten') n[ts.state]++;
    if (ts.state === 'memory') bytes += ts.nbytes;
  }
  const counted = c.counts();
  for (const [state, actual] of Object.entries(n)) {
    const kept = counted[state as keyof typeof n];
    if (kept !== actual) f.add('state-counts', `state ${state}`, `counted ${kept}, but ${actual} tasks are ${state}`);
  }
  if (counted.workers !== c.workers.size) f.add('state-counts', 'workers', `counted ${counted.workers}, but ${c.workers.size} are known`);
  if (!near(counted.memoryBytes, bytes)) f.add('memory-bytes', 'state', `counted ${counted.memoryBytes} bytes, but tasks in memory hold ${bytes}`);
}

/** Per-group progress: the live tasks' buckets plus those forgotten, and total their sum. */
function checkProgress(c: Core, f: Findings): void {
  const recount = new Map<string, Record<ProgressBucket, number>>();
  for (const ts of c.tasks.values()) {
    const bucket = progressBucket(ts.state, ts.outcome);
    if (!bucket) continue;
    let n = recount.get(ts.group);
    if (!n) {
      n = { waiting: 0, queued: 0, processing: 0, done: 0, erred: 0 };
      recount.set(ts.group, n);
    }
    n[bucket]++;
  }
  for (const g of c.progress.all()) {
    const n = recount.get(g.group) ?? { waiting: 0, queued: 0, processing: 0, done: 0, erred: 0 };
    const gone = c.progress.forgottenOf(g.group);
    n.done += gone.done;
    n.erred += gone.erred;
    for (const bucket of ['waiting', 'queued', 'processing', 'done', 'erred'] as const) {
      if (g[bucket] !== n[bucket]) f.add('group-progress', `group "${g.group}"`, `counted ${g[bucket]} ${bucket}, but ${n[bucket]} tasks are`);
    }
    const sum = g.waiting + g.queued + g.processing + g.done + g.erred;
    if (g.total !== sum) f.add('group-progress', `group "${g.group}"`, `total ${g.total} is not the sum of its buckets (${sum})`);
    recount.delete(g.group);
  }
  for (const group of recount.keys()) f.add('group-progress', `group "${group}"`, 'has tasks but no progress counts');
}

function checkWorkers(c: Core, f: Findings): void {
  for (const [id, ws] of c.workers) {
    const name = workerName(ws);
    if (ws.id !== id || ws.def.workerId !== id) f.add('retiring', name, `filed under "${id}" with definition "${ws.def.workerId}"`);
    if (ws.retiring !== c.retiring.has(ws)) f.add('retiring', name, `retiring is ${ws.retiring} but it ${c.retiring.has(ws) ? 'is' : 'is not'} in the retiring set`);
    for (const ts of ws.hasWhat) {
      if (!liveTask(c, ts)) f.add('has-what', name, `holds "${ts.key}", which is not a known task`);
      if (!ts.whoHas.has(ws)) f.add('who-has', taskName(ts), `lacks holder "${ws.id}"`);
    }
    checkProcessing(c, f, ws, name);
    checkSteals(c, f, ws, name);
  }
}

function checkProcessing(c: Core, f: Findings, ws: WorkerRecord, name: string): void {
  let workMs = 0;
  let staying = 0;
  let stayingMs = 0;
  const used: Record<string, number> = {};
  for (const ts of ws.processing) {
    if (ts.stayWithData) {
      staying++;
      stayingMs += ts.estMs;
    }
    if (!liveTask(c, ts)) f.add('processing', name, `runs "${ts.key}", which is not a known task`);
    if (ts.processingOn !== ws) f.add('processing', name, `runs "${ts.key}", which is ${ts.state} on ${ts.processingOn ? `"${ts.processingOn.id}"` : 'no worker'}`);
    workMs += ts.estMs;
    for (const [r, n] of Object.entries(ts.resources)) used[r] = (used[r] ?? 0) + n;
  }
  if (ws.processing.size === 0 ? ws.workMs !== 0 : !near(ws.workMs, workMs)) {
    f.add('work-ms', name, `counts ${ws.workMs} ms of work, but its tasks' estimates sum to ${workMs}`);
  }
  if (ws.staying !== staying || !near(ws.stayingMs, stayingMs)) {
    f.add('work-ms', name, `counts ${ws.staying} stay-with-data tasks (${ws.stayingMs} ms), but runs ${staying} (${stayingMs} ms)`);
  }
  for (const r of new Set([...Object.keys(used), ...Object.keys(ws.used)])) {
    const kept = ws.used[r] ?? 0;
    const actual = used[r] ?? 0;
    if (!near(kept, actual)) f.add('used-resources', name, `counts ${kept} ${r} in use, but its tasks hold ${actual}`);
    if (actual > (ws.def.resources[r] ?? 0)) f.add('used-resources', name, `its tasks hold ${actual} ${r}, more than the ${ws.def.resources[r] ?? 0} it has`);
  }
}

function checkSteals(c: Core, f: Findings, ws: WorkerRecord, name: string): void {
  for (const [id, bucket] of ws.stealable) {
    const problem = bucket.heap.problem();
    if (problem) f.add('steal-buckets', name, `bucket "${id}": ${problem}`);
    for (const ts of bucket.heap.values()) {
      if (ts.processingOn !== ws || ts.stealBucket !== id || id !== `${ts.resourceKey}|${bucket.level}`) {
        f.add('steal-buckets', name, `bucket "${id}" holds "${ts.key}" (${ts.state}, bucket "${ts.stealBucket}")`);
      }
    }
  }
  let out = 0;
  for (const ts of ws.processing) if (ts.thief) out++;
  if (ws.stealsOut !== out) f.add('steals', name, `counts ${ws.stealsOut} tasks asked back, but ${out} of its tasks are being stolen`);
  for (const ts of ws.stealsIn) {
    if (!liveTask(c, ts) || ts.thief !== ws || ts.state !== 'processing') {
      f.add('steals', name, `counts "${ts.key}" as being stolen for it, but it is ${ts.state} with thief ${ts.thief ? `"${ts.thief.id}"` : 'unset'}`);
    }
  }
}

function checkQueues(c: Core, f: Findings): void {
  let total = 0;
  for (const lane of c.queues.lanes()) {
    const subject = `lane "${lane.id}"`;
    total += lane.size;
    const problem = lane.problem((ts) => ts.rejectedBy);
    if (problem) f.add('ready-queues', subject, problem);
    for (const ts of lane.values()) {
      if (!liveTask(c, ts) || ts.state !== 'queued' || ts.lane !== lane.id) {
        f.add('ready-queues', subject, `holds "${ts.key}", which is ${ts.state} in lane "${ts.lane}"`);
      } else if (lane.id !== `${ts.resourceKey}|${lane.root ? 'root' : 'deps'}` || lane.root !== (ts.dependencies.size === 0)) {
        f.add('ready-queues', subject, `holds "${ts.key}", whose resources or dependencies belong in another lane`);
      }
    }
  }
  if (c.queues.size !== total) f.add('ready-queues', 'queues', `count ${c.queues.size} tasks, but their lanes hold ${total}`);
  for (const ts of c.noWorker) {
    if (!liveTask(c, ts) || ts.state !== 'no-worker') f.add('no-worker', taskName(ts), `in the no-worker set but ${ts.state}`);
  }
}

/**
 * settleAll left no worker able to take queued work now: none not retiring, with the lane's
 * resources free and (for root tasks) fewer tasks processing than the slots every group gets,
 * beside a queued task in that lane it did not give back (or gave back as the only worker).
 * Scans each such lane whole, apart from the engine's search (takeable), so a search that
 * stops short is caught. In a settled state a worker passes its lanes' free-slot test only
 * when every task there is one it gave back, so this costs O(tasks it gave back).
 */
function checkFilled(c: Core, f: Findings): void {
  for (const ws of c.workers.values()) {
    if (ws.retiring) continue;
    const base = c.baseSlots(ws);
    for (const lane of c.queues.lanes()) {
      if ((lane.root && ws.processing.size >= base) || !capable(ws, lane.resources) || !fits(ws, lane.resources)) continue;
      let ts: TaskRecord | undefined; // the first it could take, in run order
      for (const t of lane.values()) {
        if ((c.workers.size === 1 || !t.rejectedBy?.has(ws.id)) && (!ts || runsBefore(t, ts))) ts = t;
      }
      if (ts) f.add('settled', workerName(ws), `could take queued "${ts.key}" now (${ws.processing.size} processing), but was not sent it`);
    }
  }
}

/** Core.pending: queued and no-worker counts by resources and group, with no empty buckets. */
function checkPending(c: Core, f: Findings): void {
  const actual = new Map<string, { queued: number; noWorker: number }>();
  for (const ts of c.tasks.values()) {
    if (ts.state !== 'queued' && ts.state !== 'no-worker') continue;
    const id = `${ts.resourceKey}/${ts.group}`;
    const n = actual.get(id) ?? { queued: 0, noWorker: 0 };
    if (ts.state === 'queued') n.queued++;
    else n.noWorker++;
    actual.set(id, n);
  }
  for (const [resourceKey, byRes] of c.pending) {
    if (byRes.groups.size === 0) f.add('pending-counts', `resources "${resourceKey}"`, 'kept with no groups');
    for (const [group, kept] of byRes.groups) {
      const id = `${resourceKey}/${group}`;
      const n = actual.get(id) ?? { queued: 0, noWorker: 0 };
      actual.delete(id);
      if (kept.queued !== n.queued || kept.noWorker !== n.noWorker) {
        f.add('pending-counts', `bucket "${id}"`, `counts ${kept.queued} queued and ${kept.noWorker} no-worker, but ${n.queued} and ${n.noWorker} are`);
      }
    }
  }
  for (const [id, n] of actual) f.add('pending-counts', `bucket "${id}"`, `missing, though ${n.queued} are queued and ${n.noWorker} no-worker`);
}

function checkClients(c: Core, f: Findings): void {
  for (const [client, refs] of c.clients) {
    for (const ts of refs) {
      if (!liveTask(c, ts)) f.add('clients', `client "${client}"`, `refers to "${ts.key}", which is not a known task`);
      if (!ts.wantedBy.has(client)) f.add('clients', taskName(ts), `is not wanted by client "${client}", which refers to it`);
    }
  }
}

function checkRetirement(c: Core, f: Findings): void {
  for (const ws of c.retiring) {
    if (!liveWorker(c, ws)) f.add('retiring', workerName(ws), 'in the retiring set but gone');
    else if (!ws.retiring) f.add('retiring', workerName(ws), 'in the retiring set but not marked retiring');
  }
  if (c.replicating.size > 0 && c.retiring.size === 0) f.add('replicating', 'state', `${c.replicating.size} copies are due with no worker retiring`);
  for (const [ts, to] of c.replicating) {
    if (!liveTask(c, ts) || ts.state !== 'memory') f.add('replicating', taskName(ts), `copied though ${ts.state}`);
    if (!liveWorker(c, to) || to.retiring) f.add('replicating', taskName(ts), `copied to worker "${to.id}", which is gone or retiring`);
  }
}

/** Every move under way copies a key in memory between two live workers, the sender holding it, the
 *  recipient not yet; every move belongs to an open request that counts it, and no request is left open without one. */
function checkMoves(c: Core, f: Findings): void {
  const pending = new Map<string, number>();
  for (const [ts, { from, to, requestId }] of c.moves) {
    if (!liveTask(c, ts) || ts.state !== 'memory') f.add('moves', taskName(ts), `moving though ${ts.state}`);
    else if (!ts.whoHas.has(from) || ts.whoHas.has(to)) f.add('moves', taskName(ts), `moving from "${from.id}" to "${to.id}", but held by [${[...ts.whoHas].map((w) => w.id).join(', ')}]`);
    if (!liveWorker(c, from) || !liveWorker(c, to) || to.retiring) f.add('moves', taskName(ts), `moving between "${from.id}" and "${to.id}", one gone or the recipient retiring`);
    pending.set(requestId, (pending.get(requestId) ?? 0) + 1);
  }
  for (const [requestId, tally] of c.balances) {
    if (tally.pending !== (pending.get(requestId) ?? 0)) f.add('moves', `request "${requestId}"`, `counts ${tally.pending} moves pending, ${pending.get(requestId) ?? 0} are`);
    pending.delete(requestId);
  }
  for (const requestId of pending.keys()) f.add('moves', `request "${requestId}"`, 'has moves but no open request');
}

/** Every cached answer of hasCapableWorker for a kept task's resources is still right. */
function checkCapableCache(c: Core, f: Findings): void {
  const seen = new Set<string>();
  for (const ts of c.tasks.values()) {
    const cached = c.capableCache.get(ts.resourceKey);
    if (cached === undefined || seen.has(ts.resourceKey)) continue;
    seen.add(ts.resourceKey);
    const actual = anyCapable(c, ts);
    if (cached !== actual) f.add('capable-cache', `resources "${ts.resourceKey}"`, `cached ${cached}, but a capable worker ${actual ? 'exists' : 'does not exist'}`);
  }
}

