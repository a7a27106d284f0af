// Graceful retirement (Control.RetireWorkers). A retiring worker gets no new work (placement
// skips it), gives back the tasks it has not started (a steal with no thief: a started one
// finishes there), and every key that no non-retiring worker holds is copied to one that is
// (`replicate`; the recipient answers keys-added). Once it runs nothing and holds nothing that
// only retiring workers hold, it is forgotten here and the server closes it (`worker-retired`).
// It is refused (and serves again) when no other worker is left to take its data, when the
// server's deadline passes (cancel-retirement), or when it leaves first (worker-removed; then
// the usual lineage recompute applies).
import type { Core, TaskRecord, WorkerRecord } from './core.js';
import type { EventOf } from './types.js';
import { resetBarriers, strandQueued, wakeFor } from './worker-events.js';

export const NO_RECIPIENT = 'no other worker that is not retiring is connected to take its data';

export function onRetireWorkers(c: Core, e: EventOf<'retire-workers'>): void {
  const marked: WorkerRecord[] = [];
  for (const id of e.workerIds) {
    const ws = c.workers.get(id);
    if (!ws) c.emit({ type: 'retire-refused', workerId: id, reason: 'no such worker' });
    else if (!ws.retiring) { // asked again while retiring: the first request's course stands
      c.setRetiring(ws, true);
      marked.push(ws);
    }
  }
  const recipients = c.workers.size > c.retiring.size;
  for (const ws of marked) {
    // Refused at once, before its tasks are recalled only to come back to it.
    if (!recipients && (ws.processing.size > 0 || ws.hasWhat.size > 0)) refuse(c, ws, NO_RECIPIENT);
    else for (const ts of ws.processing) c.recall(ts);
  }
  strandQueued(c); // work only retiring workers could run now waits for a new worker
}

export function onCancelRetirement(c: Core, e: EventOf<'cancel-retirement'>): void {
  for (const id of e.workerIds) {
    const ws = c.workers.get(id);
    if (ws?.retiring) refuse(c, ws, e.reason);
  }
}

/** Some worker not retiring holds the key. */
function safe(ts: TaskRecord): boolean {
  for (const ws of ts.whoHas) if (!ws.retiring) return true;
  return false;
}

/**
 * After each event while workers retire: copies what needs copying (once per key, again only
 * if its recipient left or began retiring), and retires or refuses the workers that are done.
 */
export function advanceRetirements(c: Core): void {
  for (const [ts, to] of c.replicating) {
    if (ts.state !== 'memory' || !c.isAlive(to) || to.retiring || safe(ts)) c.replicating.delete(ts);
  }
  const recipients = [...c.workers.values()].filter((ws) => !ws.retiring);
  const incoming = new Map<WorkerRecord, number>();
  for (const to of c.replicating.values()) incoming.set(to, (incoming.get(to) ?? 0) + 1);
  for (const ws of [...c.retiring]) {
    if (recipients.length === 0) {
      if (ws.processing.size > 0 || ws.hasWhat.size > 0) refuse(c, ws, NO_RECIPIENT);
      else retire(c, ws); // nothing to lose: the last worker may go (scale to zero)
      continue;
    }
    let unsafe = 0;
    for (const ts of ws.hasWhat) {
      if (safe(ts)) continue;
      unsafe++;
      if (c.replicating.has(ts)) continue;
      const to = leastLoaded(recipients, incoming);
      incoming.set(to, (incoming.get(to) ?? 0) + 1);
      c.replicating.set(ts, to);
      c.emit({ type: 'replicate', workerId: to.id, key: ts.key, from: [...ts.whoHas].map((h) => h.def.address) });
    }
    if (unsafe === 0 && ws.processing.size === 0) retire(c, ws);
  }
}

/** The recipient holding the fewest keys, counting those already on their way to it. */
function leastLoaded(recipients: readonly WorkerRecord[], incoming: ReadonlyMap<WorkerRecord, number>): WorkerRecord {
  let best = recipients[0] as WorkerRecord;
  let bestLoad = Infinity;
  for (const ws of recipients) {
    const load = ws.hasWhat.size + (incoming.get(ws) ?? 0);
    if (load < bestLoad) { best = ws; bestLoad = load; }
  }
  return best;
}

/** Every key it holds is safe elsewhere and it runs nothing: forget it, the server closes it. */
function retire(c: Core, ws: WorkerRecord): void {
  for (const ts of [...ws.hasWhat]) {
    c.dropReplica(ts, ws);
    resetBarriers(c, ts);
  }
  c.removeWorker(ws);
  c.emit({ type: 'worker-retired', workerId: ws.id });
}

function refuse(c: Core, ws: WorkerRecord, reason: string): void {
  c.setRetiring(ws, false);
  wakeFor(c, ws);
  c.emit({ type: 'retire-refused', workerId: ws.id, reason });
}

/** What still keeps a retiring worker, for a refusal's reason. */
export function retirementProgress(c: Core, workerId: string): { processing: number; unsafeKeys: number } | undefined {
  const ws = c.workers.get(workerId);
  if (!ws?.retiring) return undefined;
  let unsafeKeys = 0;
  for (const ts of ws.hasWhat) if (!safe(ts)) unsafeKeys++;
  return { processing: ws.processing.size, unsafeKeys };
}
