// The transition table. Every state change goes through `transition`, which looks the pair
// up here and throws InvalidTransition for a pair the table lacks. Handlers change one task,
// emit messages, and leave follow-up work for other tasks as recommendations (never recursion).
import { ACTIVE_STATES, type Core, type TaskRecord, type WorkerRecord } from './core.js';
import { InvalidTransition } from './errors.js';
import type { TaskError, TaskState } from './types.js';

export interface TransitionArgs {
  /** processing: where to run it; memory: the worker that holds the result. */
  worker?: WorkerRecord;
  nbytes?: number;
  /** The worker already knows (it erred, rejected, or is gone): send it no cancel-compute. */
  quiet?: boolean;
}

type TransitionFn = (c: Core, ts: TaskRecord, a: TransitionArgs) => void;

export type LegalTransition =
  | 'released->waiting' | 'released->forgotten' | 'released->erred' | 'released->memory'
  | 'waiting->queued' | 'waiting->processing' | 'waiting->no-worker' | 'waiting->released' | 'waiting->erred' | 'waiting->memory'
  | 'queued->processing' | 'queued->no-worker' | 'queued->released' | 'queued->erred' | 'queued->memory'
  | 'no-worker->processing' | 'no-worker->queued' | 'no-worker->released' | 'no-worker->erred' | 'no-worker->memory'
  | 'processing->memory' | 'processing->released' | 'processing->erred'
  | 'memory->released'
  | 'erred->released';

function requireWorker(ts: TaskRecord, a: TransitionArgs, to: TaskState): WorkerRecord {
  if (!a.worker) throw new TypeError(`transition of "${ts.key}" to ${to} needs a worker`);
  return a.worker;
}

/** Tells the worker running the task to stop, unless it already knows or is gone. */
function cancelOnWorker(c: Core, ts: TaskRecord, a: TransitionArgs, except?: WorkerRecord): void {
  const ws = ts.processingOn;
  if (ts.state !== 'processing' || !ws || ws === except || a.quiet || !c.isAlive(ws)) return;
  c.emit({ type: 'cancel-compute', workerId: ws.id, key: ts.key });
}

const toWaiting: TransitionFn = (c, ts) => {
  c.setState(ts, 'waiting');
  ts.waitingOn.clear();
  for (const dep of ts.dependencies) {
    if (dep.state === 'memory') continue;
    ts.waitingOn.add(dep);
    if (dep.state === 'erred') {
      ts.erredBy = dep.errorOrigin;
      c.recommend(ts, 'fail');
    } else if (dep.state === 'released') {
      c.recommend(dep, 'settle'); // now needed: it goes waiting (or is found lost)
    }
  }
  if (ts.waitingOn.size === 0) c.recommend(ts, 'ready');
};

const toProcessing: TransitionFn = (c, ts, a) => {
  const ws = requireWorker(ts, a, 'processing');
  c.setState(ts, 'processing');
  c.assign(ts, ws);
  const whoHas: Record<string, string[]> = {};
  for (const dep of ts.dependencies) whoHas[dep.key] = [...dep.whoHas].map((h) => h.def.address);
  // A client holds it and no task reads it: the client is about to read it (a result, not a
  // step of a reduction whose inputs it holds only to wait on them).
  c.emit({ type: 'compute', workerId: ws.id, key: ts.key, whoHas, reportValue: ts.wantedBy.size > 0 && ts.dependents.size === 0 });
};

const toQueued: TransitionFn = (c, ts) => c.setState(ts, 'queued');

const toNoWorker: TransitionFn = (c, ts) => c.setState(ts, 'no-worker');

/** Active -> released: it will be rescheduled or forgotten once settled. */
const activeToReleased: TransitionFn = (c, ts, a) => {
  cancelOnWorker(c, ts, a);
  ts.waitingOn.clear();
  c.setState(ts, 'released');
  c.recommend(ts, 'settle');
};

const memoryToReleased: TransitionFn = (c, ts) => {
  for (const ws of ts.whoHas) {
    c.freeKey(ws, ts.key);
    ws.hasWhat.delete(ts);
  }
  ts.whoHas.clear();
  c.setState(ts, 'released');
  // Only when the data was lost can dependents still need it: they wait for the recompute. A
  // barrier holding it has receipts that point at the lost copy: it runs again after.
  for (const dts of ts.dependents) {
    if (dts.state === 'waiting') dts.waitingOn.add(ts);
    else if (ACTIVE_STATES.has(dts.state) || (dts.barrier && dts.state === 'memory')) c.recommend(dts, 'reset');
  }
  c.recommend(ts, 'settle');
};

const erredToReleased: TransitionFn = (c, ts) => {
  ts.error = undefined;
  ts.errorOrigin = undefined;
  c.setState(ts, 'released');
  c.recommend(ts, 'settle');
};

const toForgotten: TransitionFn = (c, ts) => {
  for (const client of ts.wantedBy) c.clients.get(client)?.delete(ts);
  ts.wantedBy.clear();
  c.setState(ts, 'forgotten');
  for (const dep of ts.dependencies) {
    dep.dependents.delete(ts);
    if (dep.dependents.size === 0) c.settleLater(dep);
  }
  for (const dts of ts.dependents) {
    dts.dependencies.delete(ts);
    dts.waitingOn.delete(ts);
  }
  ts.dependencies.clear();
  ts.dependents.clear();
};

export function dependentError(origin: { key: string; error: TaskError }): TaskError {
  return { ...origin.error, message: `dependency "${origin.key}" failed: ${origin.error.message}` };
}

const toErred: TransitionFn = (c, ts, a) => {
  const origin = ts.erredBy ?? {
    key: ts.key, error: { name: 'Error', message: `task "${ts.key}" failed`, stack: '', worker: '' },
  };
  ts.erredBy = undefined;
  cancelOnWorker(c, ts, a);
  ts.waitingOn.clear();
  ts.errorOrigin = origin;
  ts.error = origin.key === ts.key ? origin.error : dependentError(origin);
  c.setState(ts, 'erred');
  for (const client of ts.wantedBy) c.emit({ type: 'client-key', clientId: client, key: ts.key, state: 'erred', error: ts.error });
  for (const dts of ts.dependents) {
    if (!ACTIVE_STATES.has(dts.state)) continue;
    dts.erredBy = origin;
    c.recommend(dts, 'fail');
  }
  c.recommend(ts, 'settle');
};

const toMemory: TransitionFn = (c, ts, a) => {
  const ws = requireWorker(ts, a, 'memory');
  cancelOnWorker(c, ts, a, ws); // another worker was (re)running it: stop that copy
  ts.waitingOn.clear();
  ts.rejectedBy = undefined;
  ts.nbytes = Math.max(0, a.nbytes ?? 0);
  c.setState(ts, 'memory');
  c.addReplica(ts, ws);
  for (const dts of ts.dependents) {
    if (dts.waitingOn.delete(ts) && dts.state === 'waiting' && dts.waitingOn.size === 0) c.recommend(dts, 'ready');
  }
  for (const client of ts.wantedBy) c.emit({ type: 'client-key', clientId: client, key: ts.key, state: 'finished', nbytes: ts.nbytes });
  c.recommend(ts, 'settle');
};

export const TRANSITIONS: Record<LegalTransition, TransitionFn> = {
  'released->waiting': toWaiting,
  'released->forgotten': toForgotten,
  'released->erred': toErred,
  'released->memory': toMemory,
  'waiting->queued': toQueued,
  'waiting->processing': toProcessing,
  'waiting->no-worker': toNoWorker,
  'waiting->released': activeToReleased,
  'waiting->erred': toErred,
  'waiting->memory': toMemory,
  'queued->processing': toProcessing,
  'queued->no-worker': toNoWorker,
  'queued->released': activeToReleased,
  'queued->erred': toErred,
  'queued->memory': toMemory,
  'no-worker->processing': toProcessing,
  'no-worker->queued': toQueued,
  'no-worker->released': activeToReleased,
  'no-worker->erred': toErred,
  'no-worker->memory': toMemory,
  'processing->memory': toMemory,
  'processing->released': activeToReleased,
  'processing->erred': toErred,
  'memory->released': memoryToReleased,
  'erred->released': erredToReleased,
};

const table: Partial<Record<string, TransitionFn>> = TRANSITIONS;

export function transition(c: Core, ts: TaskRecord, to: TaskState, args: TransitionArgs = {}): void {
  const fn = table[`${ts.state}->${to}`];
  if (!fn) throw new InvalidTransition(ts.key, ts.state, to, c.stimulusId);
  fn(c, ts, args);
}
