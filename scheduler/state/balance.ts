// Rebalancing data (Client.rebalance, as dask.distributed's): moves keys in memory from
// workers holding more than their share of them to workers holding less, so that work over
// persisted data spreads over every worker; extra copies of a key are freed. Root tasks go to
// whichever worker frees a slot first, so a persist can land unevenly (a worker slow to
// start), and a worker that joins later holds nothing; tasks that stay with their data
// (scoring) would then keep one worker busy and the other idle. A move is a copy (`replicate`; the recipient answers keys-added) and then
// a free-keys to the sender. Each request ends with `balance-data-done` once its moves have
// ended: done, or abandoned (the key left memory, either worker left, the recipient began
// retiring, the sender no longer holds the key, or the server's deadline passed). A copy is
// never freed while a task is processing that reads the key: it was told the holders when it
// was sent, and one that finds none there reports the key missing (which recomputes it, or
// loses it when it was scattered).
import type { Core, TaskRecord, WorkerRecord } from './core.js';
import type { EventOf } from './types.js';

export interface Move { readonly from: WorkerRecord; readonly to: WorkerRecord; readonly requestId: string }

export interface BalanceTally { pending: number; moved: number; bytes: number; dropped: number; abandoned: number }

export interface BalancePlan {
  /** Extra copies to free at once: the key stays on another worker. */
  drops: Array<[TaskRecord, WorkerRecord]>;
  /** Keys to copy from one worker to another, then free on the first. */
  moves: Array<[TaskRecord, WorkerRecord, WorkerRecord]>;
}

/**
 * How to bring each worker's bytes of these keys near its share (bytes in proportion to its
 * threads). First, a key held by several workers keeps one copy, on the holder with the fewest
 * bytes so far (largest keys first): copies that a task fetched to read (a compute's last step
 * gathers every partition on one worker) would otherwise count as that worker's load, and
 * cost memory for nothing. Then keys move, largest first, only when that leaves both workers
 * nearer their shares (sender over by more than half the key, recipient under by more than
 * half), so a balance within one key's size is left as it is. Every copy of a `pinned` key stays
 * where it is; keys already moving count as moved and are left alone. Pure: the caller applies it.
 */
export function planBalance(
  keys: readonly TaskRecord[], workers: readonly WorkerRecord[], moving: ReadonlyMap<TaskRecord, Move>,
  pinned: (ts: TaskRecord) => boolean,
): BalancePlan {
  const held = new Map<WorkerRecord, number>(workers.map((ws) => [ws, 0]));
  const add = (ws: WorkerRecord, bytes: number) => held.set(ws, (held.get(ws) as number) + bytes);
  const drops: BalancePlan['drops'] = [];
  /** Movable keys (one copy, not pinned) and their holder. */
  const single = new Map<TaskRecord, WorkerRecord>();
  let total = 0;
  const hold = (ts: TaskRecord, ws: WorkerRecord) => {
    add(ws, ts.nbytes);
    total += ts.nbytes;
  };
  const bySize = [...keys].filter((ts) => ts.nbytes > 0).sort((a, b) => b.nbytes - a.nbytes);
  const replicated: Array<[TaskRecord, WorkerRecord[]]> = [];
  for (const ts of bySize) {
    const move = moving.get(ts);
    if (move) { // counted where it is going; left alone
      if (held.has(move.to)) hold(ts, move.to);
      continue;
    }
    const holders = [...ts.whoHas].filter((ws) => held.has(ws));
    if (holders.length === 1) {
      const ws = holders[0] as WorkerRecord;
      hold(ts, ws);
      if (!pinned(ts)) single.set(ts, ws);
    } else if (holders.length > 1) {
      replicated.push([ts, holders]);
    }
  }
  for (const [ts, holders] of replicated) { // after the single copies, so each keeper is the least loaded
    if (pinned(ts)) {
      for (const ws of holders) hold(ts, ws);
      continue;
    }
    let keep = holders[0] as WorkerRecord;
    for (const ws of holders) if ((held.get(ws) as number) < (held.get(keep) as number)) keep = ws;
    for (const ws of holders) {
      if (ws === keep) hold(ts, ws);
      else drops.push([ts, ws]);
    }
    single.set(ts, keep);
  }

  const threads = workers.reduce((n, ws) => n + Math.max(1, ws.def.nthreads), 0);
  const excess = (ws: WorkerRecord) => (held.get(ws) as number) - (total * Math.max(1, ws.def.nthreads)) / threads;
  const moves: BalancePlan['moves'] = [];
  const senders = workers.filter((ws) => excess(ws) > 0).sort((a, b) => excess(b) - excess(a));
  const order = [...single.keys()].sort((a, b) => b.nbytes - a.nbytes);
  for (const from of senders) {
    for (const ts of order) {
      if (single.get(ts) !== from || excess(from) <= ts.nbytes / 2) continue; // a smaller key may still fit
      let to: WorkerRecord | undefined;
      for (const ws of workers) if (-excess(ws) > ts.nbytes / 2 && (!to || excess(ws) < excess(to))) to = ws;
      if (!to) continue;
      moves.push([ts, from, to]);
      single.delete(ts); // moves once
      add(from, -ts.nbytes);
      add(to, ts.nbytes);
    }
  }
  return { drops, moves };
}

/**
 * Every copy of the key stays: a task processing somewhere reads it (it may fetch it from any
 * holder it was told of), or a retiring worker's copy of it is being made from its holders.
 */
function pinnedIn(c: Core): (ts: TaskRecord) => boolean {
  return (ts) => {
    if (c.replicating.has(ts)) return true;
    for (const d of ts.dependents) if (d.state === 'processing') return true;
    return false;
  };
}

export function onBalanceData(c: Core, e: EventOf<'balance-data'>): void {
  const workers = [...c.workers.values()].filter((ws) => !ws.retiring);
  const chosen = e.keys === null ? [...c.tasks.values()] : e.keys.map((k) => c.tasks.get(k)).filter((ts): ts is TaskRecord => ts !== undefined);
  const keys = [...new Set(chosen)].filter((ts) => ts.state === 'memory');
  const tally: BalanceTally = { pending: 0, moved: 0, bytes: 0, dropped: 0, abandoned: 0 };
  c.balances.set(e.requestId, tally);
  const { drops, moves } = planBalance(keys, workers, c.moves, pinnedIn(c));
  for (const [ts, ws] of drops) {
    c.dropReplica(ts, ws);
    c.freeKey(ws, ts.key);
    tally.dropped++;
  }
  for (const [ts, from, to] of moves) {
    c.moves.set(ts, { from, to, requestId: e.requestId });
    tally.pending++;
    c.emit({ type: 'replicate', workerId: to.id, key: ts.key, from: [from.def.address] });
  }
  if (tally.pending === 0) finish(c, e.requestId, tally);
}

/** The deadline passed: what is still moving is abandoned (a copy that arrives later stays a replica). */
export function onBalanceDataExpired(c: Core, e: EventOf<'balance-data-expired'>): void {
  const tally = c.balances.get(e.requestId);
  if (!tally) return;
  for (const [ts, move] of c.moves) {
    if (move.requestId !== e.requestId) continue;
    c.moves.delete(ts);
    tally.abandoned++;
  }
  finish(c, e.requestId, tally);
}

/** After each event while keys move: ends the moves whose copy arrived or that can no longer happen. */
export function advanceMoves(c: Core): void {
  const pinned = pinnedIn(c);
  for (const [ts, move] of c.moves) {
    const tally = c.balances.get(move.requestId) as BalanceTally;
    const { from, to } = move;
    if (ts.state === 'memory' && ts.whoHas.has(to)) {
      // The sender keeps its copy while the key is pinned (a task processing reads it); it is freed with the key.
      if (c.isAlive(from) && ts.whoHas.has(from) && !pinned(ts)) {
        c.dropReplica(ts, from);
        c.freeKey(from, ts.key);
      }
      tally.moved++;
      tally.bytes += ts.nbytes;
    } else if (ts.state !== 'memory' || !c.isAlive(to) || to.retiring || !c.isAlive(from) || !ts.whoHas.has(from)) {
      tally.abandoned++;
    } else {
      continue; // still copying
    }
    c.moves.delete(ts);
    if (--tally.pending === 0) finish(c, move.requestId, tally);
  }
}

function finish(c: Core, requestId: string, tally: BalanceTally): void {
  c.balances.delete(requestId);
  c.emit({ type: 'balance-data-done', requestId, moved: tally.moved, bytes: tally.bytes, dropped: tally.dropped, abandoned: tally.abandoned });
}
