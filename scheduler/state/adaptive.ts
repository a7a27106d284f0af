// Adaptive scaling figures per worker group: the queued and running work each group could
// run, and the workers it needs to finish that work within a target duration. Read-only over
// Core; it walks Core.pending's buckets and the workers, never the tasks, so it is cheap
// enough to run every 100 ms with a long queue.
import type { Core, WorkerRecord } from './core.js';

/** A worker group as the caller manages it: what each of its workers offers. */
export interface GroupShape {
  name: string;
  resources: Readonly<Record<string, number>>;
  /** Per worker; 0 means 1. */
  threads: number;
  /** Bytes per worker; 0 means unknown (no memory rule). */
  memoryLimit: number;
}

export interface AdaptiveRequest {
  /** Finish queued and running work within this long; 0 means DEFAULT_TARGET_DURATION_MS. */
  targetDurationMs: number;
  /** Groups to report even with no worker yet; groups of connected workers are added. */
  groups: readonly GroupShape[];
  /** Seconds since the worker last had a task (0 while busy): the server keeps that clock. */
  idleSeconds?: (workerId: string) => number;
}

export interface GroupMetrics {
  name: string;
  /** Connected, not retiring. */
  workers: number;
  tasksQueued: number;
  tasksNoWorker: number;
  tasksProcessing: number;
  memoryUsed: number;
  memoryLimit: number;
  workSeconds: number;
  target: number;
  reason: string;
  /** Worker names, the best to retire first. */
  removeFirst: string[];
  idleSeconds: number;
}

export interface AdaptiveMetrics {
  groups: GroupMetrics[];
  /** Queued or no-worker tasks that no group can run. */
  tasksUnplaceable: number;
}

export const DEFAULT_TARGET_DURATION_MS = 30_000;
/** Keep enough workers that what they hold fills at most this share of their memory. */
const MEMORY_FILL = 0.75;

interface Tally {
  shape: GroupShape;
  members: WorkerRecord[];
  queued: number;
  noWorker: number;
  pendingMs: number;
}

export function adaptiveMetrics(c: Core, req: AdaptiveRequest): AdaptiveMetrics {
  const targetMs = req.targetDurationMs > 0 ? req.targetDurationMs : DEFAULT_TARGET_DURATION_MS;
  const idle = req.idleSeconds ?? (() => 0);
  const tallies = groupTallies(c, req.groups);
  let unplaceable = 0;
  let turn = 0; // rotates the remainder of uneven splits, so no group always gets it
  for (const byRes of c.pending.values()) {
    const takers = cheapestCapable([...tallies.values()], byRes.resources);
    for (const [fn, n] of byRes.groups) {
      if (takers.length === 0) {
        unplaceable += n.queued + n.noWorker;
        continue;
      }
      const ms = c.expectedMs(fn);
      turn = spread(n.queued, takers, turn, (t, k) => { t.queued += k; t.pendingMs += k * ms; });
      turn = spread(n.noWorker, takers, turn, (t, k) => { t.noWorker += k; t.pendingMs += k * ms; });
    }
  }
  const groups = [...tallies.values()].map((t) => groupMetrics(t, targetMs, idle));
  return { groups, tasksUnplaceable: unplaceable };
}

/** Requested groups in request order, then groups only connected workers name, by name. */
function groupTallies(c: Core, requested: readonly GroupShape[]): Map<string, Tally> {
  const tallies = new Map<string, Tally>();
  const add = (shape: GroupShape) => tallies.set(shape.name, { shape, members: [], queued: 0, noWorker: 0, pendingMs: 0 });
  for (const shape of requested) if (!tallies.has(shape.name)) add(shape);
  const unlisted = new Map<string, GroupShape>();
  for (const ws of c.workers.values()) {
    const name = ws.def.group;
    if (!tallies.has(name) && !unlisted.has(name)) {
      unlisted.set(name, { name, resources: ws.def.resources, threads: ws.def.nthreads, memoryLimit: ws.def.memoryLimit });
    }
  }
  for (const name of [...unlisted.keys()].sort()) add(unlisted.get(name) as GroupShape);
  for (const ws of c.workers.values()) if (!ws.retiring) tallies.get(ws.def.group)?.members.push(ws);
  return tallies;
}

/**
 * Groups whose workers have every resource asked, keeping those advertising the fewest kinds
 * of resource the task does not ask for (plain tasks go to CPU groups, not to GPU groups).
 */
function cheapestCapable(tallies: Tally[], resources: Readonly<Record<string, number>>): Tally[] {
  let best: Tally[] = [];
  let bestExtra = Infinity;
  for (const t of tallies) {
    const offered = t.shape.resources;
    if (!Object.entries(resources).every(([r, n]) => (offered[r] ?? 0) >= n)) continue;
    const extra = Object.entries(offered).filter(([r, n]) => n > 0 && !(r in resources)).length;
    if (extra < bestExtra) {
      best = [t];
      bestExtra = extra;
    } else if (extra === bestExtra) best.push(t);
  }
  return best;
}

/** Splits n tasks evenly over the takers; the remainder goes one each, starting at `turn`. */
function spread(n: number, takers: Tally[], turn: number, add: (t: Tally, k: number) => void): number {
  if (n === 0) return turn;
  const k = takers.length;
  const base = Math.floor(n / k);
  const extra = n % k;
  takers.forEach((t, i) => {
    const share = base + ((i - (turn % k) + k) % k < extra ? 1 : 0);
    if (share > 0) add(t, share);
  });
  return turn + extra;
}

function groupMetrics(t: Tally, targetMs: number, idle: (workerId: string) => number): GroupMetrics {
  const threads = Math.max(1, t.shape.threads);
  let processing = 0;
  let runningMs = 0;
  let memoryUsed = 0;
  let memoryLimit = 0;
  let waitingHere = 0;
  let waitingHereMs = 0;
  for (const ws of t.members) {
    processing += ws.processing.size;
    runningMs += ws.workMs;
    memoryUsed += ws.memoryUsed;
    memoryLimit += ws.def.memoryLimit;
    // Stay-with-data tasks past the worker's threads wait for it: a new worker cannot take them.
    const waiting = Math.max(0, ws.staying - Math.max(1, ws.def.nthreads));
    waitingHere += waiting;
    waitingHereMs += waiting > 0 ? (ws.stayingMs * waiting) / ws.staying : 0;
  }
  const tasks = t.queued + t.noWorker + processing - waitingHere;
  const workMs = t.pendingMs + runningMs - waitingHereMs;
  // At least one worker for any task (estimates may be 0 ms), never more than tasks can use.
  const byWork = Math.max(1, Math.ceil(workMs / (targetMs * threads)));
  const cap = Math.ceil(tasks / threads);
  const cpu = tasks > 0 ? Math.min(byWork, cap) : 0;
  const perWorker = t.shape.memoryLimit;
  const mem = perWorker > 0 ? Math.ceil(memoryUsed / (MEMORY_FILL * perWorker)) : 0;
  const target = Math.max(cpu, mem);
  let reason: string;
  if (mem > cpu) {
    reason = `memory ${gib(memoryUsed)} GiB held / ${MEMORY_FILL * 100}% of ${gib(perWorker)} GiB per worker: ${plural(mem, 'worker')}`;
  } else if (tasks > 0) {
    const capped = byWork > cap ? ' (no more than the tasks can use)' : '';
    reason = `${plural(tasks, 'task')}, ${(workMs / 1000).toFixed(1)}s of work / ${targetMs / 1000}s target at ${plural(threads, 'thread')}: ${plural(cpu, 'worker')}${capped}`;
  } else {
    reason = 'no queued or running work';
  }
  const idleOf = new Map(t.members.map((ws) => [ws, ws.processing.size > 0 ? 0 : idle(ws.id)]));
  const removeFirst = [...t.members].sort((a, b) =>
    Number(a.processing.size > 0) - Number(b.processing.size > 0)
    || a.memoryUsed - b.memoryUsed
    || a.hasWhat.size - b.hasWhat.size
    || (idleOf.get(b) as number) - (idleOf.get(a) as number)
    || (a.def.name < b.def.name ? -1 : a.def.name > b.def.name ? 1 : 0));
  return {
    name: t.shape.name, workers: t.members.length, tasksQueued: t.queued, tasksNoWorker: t.noWorker, tasksProcessing: processing,
    memoryUsed, memoryLimit, workSeconds: workMs / 1000, target, reason, removeFirst: removeFirst.map((ws) => ws.def.name),
    // Since the group's most recently busy worker last had a task: 0 while any is busy.
    idleSeconds: t.members.length === 0 ? 0 : Math.min(...idleOf.values()),
  };
}

const gib = (bytes: number): string => (bytes / 2 ** 30).toFixed(1);
const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
