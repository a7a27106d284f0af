// Handlers for what workers report. Reports can be stale (the task was cancelled, moved or
// forgotten since): those are answered with free-keys or ignored, never an exception.
import type { Core, ErrorOrigin, TaskRecord, WorkerRecord } from './core.js';
import { capable } from './placement.js';
import { runsBefore } from './queue.js';
import { transition } from './transitions.js';
import type { EventOf } from './types.js';

export function onWorkerAdded(c: Core, e: EventOf<'worker-added'>): void {
  if (c.workers.has(e.worker.workerId)) return; // a repeated registration changes nothing
  wakeFor(c, c.addWorker(e.worker));
}

/** A worker can take work (joined, or no longer retiring): no-worker tasks it can run are ready. */
export function wakeFor(c: Core, ws: WorkerRecord): void {
  const runnable = [...c.noWorker].filter((ts) => capable(ws, ts.resources));
  runnable.sort((a, b) => (runsBefore(a, b) ? -1 : 1));
  for (const ts of runnable) c.recommend(ts, 'ready');
  c.fillAll = true;
}

/** Queued work that no remaining (non-retiring) worker could ever run waits for one to join. */
export function strandQueued(c: Core): void {
  for (const lane of c.queues.lanes()) {
    const head = lane.peek();
    if (!head || c.hasCapableWorker(head)) continue;
    for (const ts of lane.values()) transition(c, ts, 'no-worker');
  }
}

function killedWorkerError(ts: TaskRecord, ws: WorkerRecord): ErrorOrigin {
  const name = ws.def.name || ws.id;
  return {
    key: ts.key,
    error: {
      name: 'KilledWorker',
      message: `task "${ts.key}" was running on ${ts.suspicious} workers that died (last: ${name}); it may be crashing them`,
      stack: '',
      worker: name,
    },
  };
}

export function onWorkerRemoved(c: Core, e: EventOf<'worker-removed'>): void {
  const ws = c.workers.get(e.workerId);
  if (!ws) return;
  if (ws.retiring) c.emit({ type: 'retire-refused', workerId: ws.id, reason: `worker left before its retirement finished (${e.reason})` });
  c.removeWorker(ws);
  for (const ts of [...ws.processing]) {
    if (!e.graceful) ts.suspicious++;
    if (!e.graceful && ts.suspicious >= c.options.lostWorkerLimit) {
      const killed = killedWorkerError(ts, ws);
      ts.erredBy = killed;
      c.erred.push({ key: ts.key, group: ts.group, error: killed.error });
      transition(c, ts, 'erred', { quiet: true });
    } else {
      transition(c, ts, 'released', { quiet: true }); // settles back to waiting: rescheduled
    }
  }
  for (const ts of [...ws.hasWhat]) {
    c.dropReplica(ts, ws);
    if (ts.state === 'memory' && ts.whoHas.size === 0) transition(c, ts, 'released'); // recomputed if needed
    else resetBarriers(c, ts); // copies left, but the receipts may name the one gone
  }
  strandQueued(c);
}

/** Barriers over `ts` that ran, or are running, with receipts that may name a holder now gone run again. */
export function resetBarriers(c: Core, ts: TaskRecord): void {
  for (const dts of ts.dependents) if (dts.barrier && (dts.state === 'memory' || dts.state === 'processing')) c.recommend(dts, 'reset');
}

export function onTaskFinished(c: Core, e: EventOf<'task-finished'>): void {
  const ws = c.workers.get(e.workerId);
  if (!ws) return;
  const ts = c.tasks.get(e.key);
  if (!ts || (ts.barrier && !(ts.state === 'processing' && ts.processingOn === ws))) {
    c.freeKey(ws, e.key); // a barrier's result is only as good as the receipts of the run we asked for
    return;
  }
  switch (ts.state) {
    case 'processing':
      if (ts.processingOn === ws) c.recordDuration(ts.group, e.durationMs);
      transition(c, ts, 'memory', { worker: ws, nbytes: e.nbytes });
      return;
    case 'waiting':
    case 'queued':
    case 'no-worker': // a stale compute that finished anyway: the result is still wanted
      transition(c, ts, 'memory', { worker: ws, nbytes: e.nbytes });
      return;
    case 'memory':
      c.addReplica(ts, ws);
      return;
    default: // released (kept only as lineage) or erred: nobody needs this copy
      c.freeKey(ws, e.key);
  }
}

/** The report is about a task this worker is actually running (not a stale one). */
function runningOn(c: Core, workerId: string, key: string): TaskRecord | undefined {
  const ws = c.workers.get(workerId);
  const ts = c.tasks.get(key);
  return ws && ts?.state === 'processing' && ts.processingOn === ws ? ts : undefined;
}

export function onTaskErred(c: Core, e: EventOf<'task-erred'>): void {
  const ts = runningOn(c, e.workerId, e.key);
  if (!ts) return;
  if (ts.retries > 0) {
    ts.retries--;
    transition(c, ts, 'released', { quiet: true });
    return;
  }
  ts.erredBy = { key: ts.key, error: e.error };
  c.erred.push({ key: ts.key, group: ts.group, error: e.error });
  transition(c, ts, 'erred', { quiet: true });
}

export function onTaskRejected(c: Core, e: EventOf<'task-rejected'>): void {
  const ts = runningOn(c, e.workerId, e.key);
  if (!ts) return;
  (ts.rejectedBy ??= new Set()).add(e.workerId);
  ts.stolenFor = ts.thief; // the thread reserved on the thief waits for it
  transition(c, ts, 'released', { quiet: true });
}

/**
 * The worker could not fetch some dependencies from the holders it was given. It cannot say
 * which holder failed, so every listed holder is dropped (and told to free its copy, so no
 * untracked copy lingers); a key left with no holder is recomputed from its lineage. The
 * missing keys may also be the inputs of a barrier it depends on (a shuffle's splits, which
 * it reads through the barrier's receipts).
 */
export function onMissingData(c: Core, e: EventOf<'missing-data'>): void {
  const ts = runningOn(c, e.workerId, e.key);
  if (!ts) return;
  const throughBarrier = e.missing.filter((key) => {
    const dep = c.tasks.get(key);
    return dep !== undefined && readsThroughBarrier(ts, dep);
  });
  if (throughBarrier.length > 0 && ++ts.inputsMissing > MISSING_INPUTS_LIMIT) {
    // Recomputed that often and still unreadable where it is: not a lost worker but a broken read.
    const error = {
      name: 'InputsMissing',
      message: `task "${ts.key}" could not read its inputs from their holders ${ts.inputsMissing} times, after they were computed again each time (last: ${throughBarrier.slice(0, 3).join(', ')})`,
      stack: '', worker: c.workers.get(e.workerId)?.def.name ?? e.workerId,
    };
    ts.erredBy = { key: ts.key, error };
    c.erred.push({ key: ts.key, group: ts.group, error });
    transition(c, ts, 'erred', { quiet: true });
    return;
  }
  transition(c, ts, 'released', { quiet: true });
  for (const key of e.missing) {
    const dep = c.tasks.get(key);
    if (!dep || dep.state !== 'memory' || !(ts.dependencies.has(dep) || readsThroughBarrier(ts, dep))) continue;
    for (const holder of [...dep.whoHas]) {
      c.freeKey(holder, dep.key);
      c.dropReplica(dep, holder);
    }
    transition(c, dep, 'released');
  }
}

/** Reports of missing inputs read through a barrier a task may make before it errs (each one recomputes them). */
export const MISSING_INPUTS_LIMIT = 10;

function readsThroughBarrier(ts: TaskRecord, dep: TaskRecord): boolean {
  for (const b of ts.dependencies) if (b.barrier && b.dependencies.has(dep)) return true;
  return false;
}

export function onKeysAdded(c: Core, e: EventOf<'keys-added'>): void {
  const ws = c.workers.get(e.workerId);
  if (!ws) return;
  for (const key of e.keys) {
    const ts = c.tasks.get(key);
    if (ts?.state === 'memory') c.addReplica(ts, ws);
    else c.freeKey(ws, key); // we do not track a copy of something not in memory
  }
}

export function onScattered(c: Core, e: EventOf<'scattered'>): void {
  const ws = c.workers.get(e.workerId);
  e.keys.forEach((key, i) => {
    if (!ws) {
      c.emit({ type: 'client-key', clientId: e.clientId, key, state: 'lost' });
      return;
    }
    const nbytes = e.nbytes[i] ?? 0;
    const ts = c.tasks.get(key) ??
      c.newTask({ key, functionId: '', dependencies: [], resources: {}, retries: 0, priority: 0, group: 'scatter', spec: undefined });
    if (ts.state === 'erred') {
      c.freeKey(ws, key); // an erred key keeps its error; the client hears it below
      c.want(e.clientId, ts);
      c.emit({ type: 'client-key', clientId: e.clientId, key, state: 'erred', error: ts.error });
    } else if (ts.state === 'memory') {
      c.addReplica(ts, ws);
      c.want(e.clientId, ts);
      c.emit({ type: 'client-key', clientId: e.clientId, key, state: 'finished', nbytes: ts.nbytes });
    } else {
      c.want(e.clientId, ts); // before the transition, which reports to every wanting client
      transition(c, ts, 'memory', { worker: ws, nbytes });
    }
  });
}

export function onHeartbeat(c: Core, e: EventOf<'heartbeat'>): void {
  const ws = c.workers.get(e.workerId);
  if (ws) ws.memoryUsed = e.memoryUsed;
}
