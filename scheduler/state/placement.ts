// Worker choice: which workers can run a task, which can run it now, and which is best.
import type { TaskRecord, WorkerRecord } from './core.js';

/** The worker advertises at least the resources the task asks for. */
export function capable(ws: WorkerRecord, resources: Readonly<Record<string, number>>): boolean {
  for (const r in resources) if ((ws.def.resources[r] ?? 0) < (resources[r] as number)) return false;
  return true;
}

/** The worker has those resources free right now (tasks processing there hold theirs). */
export function fits(ws: WorkerRecord, resources: Readonly<Record<string, number>>): boolean {
  for (const r in resources) {
    if ((ws.def.resources[r] ?? 0) - (ws.used[r] ?? 0) < (resources[r] as number)) return false;
  }
  return true;
}

export function occupancy(ws: WorkerRecord): number {
  return ws.processing.size / Math.max(1, ws.def.nthreads);
}

/**
 * Capable workers not retiring, leaving out those that rejected the task unless that leaves
 * none (a task must not be stranded because the only worker once refused it).
 */
export function capableWorkers(ts: TaskRecord, workers: Iterable<WorkerRecord>): WorkerRecord[] {
  const all: WorkerRecord[] = [];
  const preferred: WorkerRecord[] = [];
  for (const ws of workers) {
    if (ws.retiring || !capable(ws, ts.resources)) continue;
    all.push(ws);
    if (!ts.rejectedBy?.has(ws.id)) preferred.push(ws);
  }
  return preferred.length > 0 ? preferred : all;
}

/** Assumed transfer rate between workers, as in Dask's default (100 MB/s). */
export const BANDWIDTH_BYTES_PER_MS = 100e6 / 1000;

/**
 * The worker where the task is expected to start soonest: the work already queued there per
 * thread plus the time to fetch the dependency bytes it lacks. With equally busy workers this
 * is plain data locality (most dependency bytes already there); it only moves work off the
 * data's holder when that worker is busy enough that fetching elsewhere is faster, so many
 * tasks sharing one input do not all pile onto its holder. Exact ties go to the least
 * occupied, then the earliest registered worker.
 */
export function pickWorker(ts: TaskRecord, candidates: readonly WorkerRecord[]): WorkerRecord | undefined {
  const local = new Map<WorkerRecord, number>();
  let total = 0;
  for (const dep of ts.dependencies) {
    total += dep.nbytes;
    for (const ws of dep.whoHas) local.set(ws, (local.get(ws) ?? 0) + dep.nbytes);
  }
  let best: WorkerRecord | undefined;
  let bestStart = Infinity;
  let bestOcc = Infinity;
  for (const ws of candidates) {
    const start = ws.workMs / Math.max(1, ws.def.nthreads) + (total - (local.get(ws) ?? 0)) / BANDWIDTH_BYTES_PER_MS;
    const occ = occupancy(ws);
    if (start < bestStart || (start === bestStart && occ < bestOcc)) {
      best = ws;
      bestStart = start;
      bestOcc = occ;
    }
  }
  return best;
}
