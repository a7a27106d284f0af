// Applies recommendations and fills free worker slots from the ready queues. Recommendations
// are pseudo-targets resolved against the task's state at the time they are applied, so one
// left over from earlier in the same batch can never force an illegal transition.
import { ACTIVE_STATES, type Core, type Recommendation, type TaskRecord, type WorkerRecord } from './core.js';
import { capable, capableWorkers, fits, occupancy, pickWorker } from './placement.js';
import { runsBefore, type Lane } from './queue.js';
import { transition } from './transitions.js';

/** Applies every pending recommendation and fills freed slots, until nothing is left to do. */
export function settleAll(c: Core): void {
  for (;;) {
    for (let r = c.nextRecommendation(); r; r = c.nextRecommendation()) {
      const [ts, rec] = r;
      if (c.tasks.get(ts.key) === ts) resolve(c, ts, rec);
    }
    if (c.fillAll) {
      c.fillAll = false;
      c.dirty.clear();
      fillAllWorkers(c);
    } else if (c.dirty.size > 0) {
      const dirty = [...c.dirty];
      c.dirty.clear();
      for (const ws of dirty) {
        while (c.queues.size > 0 && c.isAlive(ws) && fillOne(c, ws)) { /* take another */ }
      }
    } else {
      return;
    }
  }
}

function resolve(c: Core, ts: TaskRecord, rec: Recommendation): void {
  switch (rec) {
    case 'settle':
      settle(c, ts);
      return;
    case 'ready':
      if ((ts.state === 'waiting' || ts.state === 'no-worker') && ts.waitingOn.size === 0) decideReady(c, ts);
      return;
    case 'reset': // a dependency was lost (or moved, under a barrier): go back to waiting for it
      if (ts.state === 'queued' || ts.state === 'no-worker' || ts.state === 'processing' || (ts.barrier && ts.state === 'memory')) {
        // A barrier that already finished there keeps its (stale) result: a cancel would not drop it.
        if (ts.barrier && ts.state === 'processing' && ts.processingOn) c.freeKey(ts.processingOn, ts.key);
        transition(c, ts, 'released');
      }
      return;
    case 'fail':
      if (ACTIVE_STATES.has(ts.state)) transition(c, ts, 'erred');
      else ts.erredBy = undefined;
      return;
  }
}

/**
 * Needed tasks run (or rerun); tasks nobody needs are released; released tasks are kept as
 * lineage while dependents exist, and forgotten after.
 */
function settle(c: Core, ts: TaskRecord): void {
  if (ts.state === 'released') {
    if (c.needed(ts)) {
      if (ts.functionId === '') loseData(c, ts);
      else transition(c, ts, 'waiting');
    } else if (ts.dependents.size === 0) {
      transition(c, ts, 'forgotten');
    }
  } else if (ts.state !== 'forgotten' && !c.needed(ts)) {
    transition(c, ts, 'released');
  }
}

/** A needed key with no holder and no function to recompute it (scattered data). */
function loseData(c: Core, ts: TaskRecord): void {
  const origin = {
    key: ts.key,
    error: {
      name: 'DataLost',
      message: `key "${ts.key}" was lost: no worker holds it and it has no lineage to recompute it (scattered data)`,
      stack: '',
      worker: '',
    },
  };
  for (const client of ts.wantedBy) {
    c.emit({ type: 'client-key', clientId: client, key: ts.key, state: 'lost' });
    c.clients.get(client)?.delete(ts);
  }
  ts.wantedBy.clear();
  for (const dts of ts.dependents) {
    if (!ACTIVE_STATES.has(dts.state)) continue;
    dts.erredBy = origin;
    c.recommend(dts, 'fail');
  }
  c.recommend(ts, 'settle');
}

/** All dependencies are in memory: run it now, queue it for a slot, or wait for a worker. */
export function decideReady(c: Core, ts: TaskRecord): void {
  if (!c.hasCapableWorker(ts)) {
    if (ts.state !== 'no-worker') transition(c, ts, 'no-worker');
    return;
  }
  const thief = ts.stolenFor;
  ts.stolenFor = undefined;
  if (thief && c.isAlive(thief) && !thief.retiring && capable(thief, ts.resources) && fits(thief, ts.resources)) {
    transition(c, ts, 'processing', { worker: thief }); // stolen: a thread there was kept for it
    return;
  }
  if (ts.dependencies.size === 0) {
    transition(c, ts, 'queued'); // root tasks go out only as slots free up
    return;
  }
  const capableNow = capableWorkers(ts, c.workers.values());
  const holders = ts.stayWithData ? dataHolders(ts, capableNow) : [];
  const available = (holders.length > 0 ? holders : capableNow).filter((ws) => fits(ws, ts.resources));
  const ws = pickWorker(ts, available);
  if (ws) transition(c, ts, 'processing', { worker: ws });
  else transition(c, ts, 'queued'); // capable workers exist but their resources are in use
}

/**
 * Of these workers, those that hold the task's largest own dependency: the largest read by no
 * other task, else the largest of all. An input many tasks share (predictOnnx's model, read by
 * every partition's task) is no reason to put them all where it is.
 */
function dataHolders(ts: TaskRecord, workers: readonly WorkerRecord[]): WorkerRecord[] {
  let largest: TaskRecord | undefined;
  let largestOwn: TaskRecord | undefined;
  for (const dep of ts.dependencies) {
    if (!largest || dep.nbytes > largest.nbytes) largest = dep;
    if (dep.dependents.size === 1 && (!largestOwn || dep.nbytes > largestOwn.nbytes)) largestOwn = dep;
  }
  const data = largestOwn ?? largest;
  return data ? workers.filter((ws) => data.whoHas.has(ws)) : [];
}

/**
 * The lane's task the worker should take now, if any: the first in line, passing over those
 * it gave up (stolen or recalled) while other workers could run them; root tasks only while
 * the worker has fewer than `slots(task)` processing. Passing over costs nothing per task
 * given back (see Lane), so a worker never sits idle beside work it may take, however much
 * it gave back. validateState checks, by a scan of its own, that settleAll leaves none with
 * the slots every group gets (the extra slots of short groups are best effort).
 */
export function takeable(
  c: Core, ws: WorkerRecord, lane: Lane<TaskRecord>, slots: (ts: TaskRecord) => number,
): TaskRecord | undefined {
  if (ws.retiring || lane.size === 0 || !capable(ws, lane.resources) || !fits(ws, lane.resources)) return undefined;
  const ts = c.workers.size > 1 ? lane.peekFor(ws.id) : lane.peek();
  if (!ts || (lane.root && ws.processing.size >= slots(ts))) return undefined;
  return ts;
}

/** Sends the worker the best queued task it can take now; false when there is none. */
function fillOne(c: Core, ws: WorkerRecord): boolean {
  let best: TaskRecord | undefined;
  for (const lane of c.queues.lanes()) {
    const head = lane.peek();
    if (!head || (best && !runsBefore(head, best))) continue; // nothing in this lane beats best
    const ts = takeable(c, ws, lane, (t) => c.slots(ws, t.group));
    if (ts && (!best || runsBefore(ts, best))) best = ts;
  }
  if (!best) return false;
  transition(c, best, 'processing', { worker: ws });
  return true;
}

/** Round-robin over workers, least occupied first, so queued work spreads evenly. */
function fillAllWorkers(c: Core): void {
  if (c.queues.size === 0) return;
  let open = [...c.workers.values()].sort((a, b) => occupancy(a) - occupancy(b));
  while (open.length > 0 && c.queues.size > 0) open = open.filter((ws) => fillOne(c, ws));
}
