// Work stealing. Tasks with dependencies go to a worker as soon as they are ready, and short
// tasks are sent ahead several per thread, so a worker can hold a backlog (tasks beyond its
// threads, not started) while another has free threads, e.g. one that just joined. Rebalance
// asks the busy worker (victim) to give such tasks up for the idle one (thief). The victim
// answers rejected, and the usual path reschedules the task, onto the thief if it can run it
// there (see decideReady). Or it had started, and finishes it. Until the answer the task is
// marked, so it is not stolen twice and is counted once: out of the victim's backlog and
// toward the thief's threads.
import type { Core, StealBucket, TaskRecord, WorkerRecord } from './core.js';
import { BANDWIDTH_BYTES_PER_MS, capable } from './placement.js';
import { runsBefore } from './queue.js';
import type { EventOf } from './types.js';

const threads = (ws: WorkerRecord): number => Math.max(1, ws.def.nthreads);

/** Threads with nothing processing there and nothing being stolen for them. */
const freeThreads = (ws: WorkerRecord): number => threads(ws) - ws.processing.size - ws.stealsIn.size;

/** Tasks beyond the worker's threads (sent ahead, presumably not started) not yet asked back. */
const backlog = (ws: WorkerRecord): number => ws.processing.size - ws.stealsOut - threads(ws);

const load = (ws: WorkerRecord): number => backlog(ws) / threads(ws);

/**
 * Linear in workers plus stolen tasks (plus a sort of the victims): each steal takes the top
 * of one of the victim's few buckets, and no task list is scanned.
 */
export function onRebalance(c: Core, _e: EventOf<'rebalance'>): void {
  const thieves: WorkerRecord[] = [];
  const victims: WorkerRecord[] = [];
  for (const ws of c.workers.values()) {
    if (ws.retiring) continue; // takes no new work, and its tasks not started are recalled
    if (freeThreads(ws) > 0) thieves.push(ws);
    else if (backlog(ws) > 0) victims.push(ws);
  }
  if (thieves.length === 0 || victims.length === 0 || rootWorkQueued(c, thieves)) return;
  victims.sort((a, b) => load(b) - load(a));
  for (const thief of thieves) {
    while (freeThreads(thief) > 0 && stealOne(c, thief, victims)) { /* one per free thread */ }
  }
}

/** Idle workers will be sent queued root tasks as slots free: stealing would only compete. */
function rootWorkQueued(c: Core, thieves: readonly WorkerRecord[]): boolean {
  for (const lane of c.queues.lanes()) {
    if (lane.root && lane.size > 0 && thieves.some((ws) => capable(ws, lane.resources))) return true;
  }
  return false;
}

/** Steals for the thief from the most loaded victim that has a task for it; false if none. */
function stealOne(c: Core, thief: WorkerRecord, victims: WorkerRecord[]): boolean {
  for (let i = 0; i < victims.length; i++) {
    const victim = victims[i] as WorkerRecord;
    const ts = pick(victim, thief);
    if (!ts) continue;
    c.markStolen(ts, thief);
    c.emit({ type: 'steal', workerId: victim.id, key: ts.key });
    // Keep the victims ordered by load: this one lost one task of backlog.
    if (backlog(victim) <= 0) {
      victims.splice(i, 1);
    } else {
      for (let j = i; j + 1 < victims.length && load(victims[j + 1] as WorkerRecord) > load(victim); j++) {
        victims[j] = victims[j + 1] as WorkerRecord;
        victims[j + 1] = victim;
      }
    }
    return true;
  }
  return false;
}

/**
 * The victim's task the thief can run that is cheapest to move (fewest dependency bytes),
 * among those the victim would start last; only if it would start sooner on the thief.
 * Buckets are few (resource signatures times cost levels).
 */
function pick(victim: WorkerRecord, thief: WorkerRecord): TaskRecord | undefined {
  const buckets: StealBucket[] = [];
  for (const b of victim.stealable.values()) {
    if (b.heap.size > 0 && capable(thief, b.resources) && fitsWithIncoming(thief, b.resources)) buckets.push(b);
  }
  // Cheapest to move first; among equals, what the victim would start last.
  buckets.sort((a, b) => a.level - b.level || (runsBefore(a.heap.peek() as TaskRecord, b.heap.peek() as TaskRecord) ? 1 : -1));
  const waitThere = victim.workMs / threads(victim);
  for (const b of buckets) {
    const ts = b.heap.peek() as TaskRecord;
    if (startOn(thief, ts) < waitThere) return ts;
  }
  return undefined;
}

/** When the task could start on the worker: its work per thread plus fetching what it lacks. */
function startOn(ws: WorkerRecord, ts: TaskRecord): number {
  let workMs = ws.workMs;
  for (const incoming of ws.stealsIn) workMs += incoming.estMs;
  let lacking = 0;
  for (const dep of ts.dependencies) if (!dep.whoHas.has(ws)) lacking += dep.nbytes;
  return workMs / threads(ws) + lacking / BANDWIDTH_BYTES_PER_MS;
}

/** Like fits, also holding the resources of the tasks being stolen for the worker. */
function fitsWithIncoming(ws: WorkerRecord, resources: Readonly<Record<string, number>>): boolean {
  for (const r in resources) {
    let free = (ws.def.resources[r] ?? 0) - (ws.used[r] ?? 0);
    for (const ts of ws.stealsIn) free -= ts.resources[r] ?? 0;
    if (free < (resources[r] as number)) return false;
  }
  return true;
}
