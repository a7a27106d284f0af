// The Chrome trace converter and sliceHistory on a known snapshot.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sliceHistory } from '../../scheduler/history/slice.js';
import { SCHEDULER_PID, toChromeTrace, TRANSFER_TID, type TraceEvent } from '../../scheduler/history/trace.js';
import { ENTRY_KIND, type HistorySnapshot } from '../../scheduler/history/types.js';

const T0 = 1_700_000_000_000;

/** Two workers; w1 ran inc on threads 0 and 1 and fetched x; w2 spilled and had dec fail. */
function snapshot(): HistorySnapshot {
  return {
    scheduler: 's1', startedAt: T0 + 500, now: T0 + 5000, cursor: 5, dropped: 0,
    lanes: [{ worker: 'w1', thread: 0 }, { worker: 'w1', thread: 1 }, { worker: 'w1', thread: -1 }, { worker: 'w2', thread: -1 }, { worker: 'w2', thread: 0 }],
    groups: ['inc', 'load', 'spill', 'dec'],
    stream: {
      start: [T0 + 100, T0 + 150, T0 + 90, T0 + 2000, T0 + 3000],
      duration: [10, 20, 5, 1000, 2.5],
      lane: [0, 1, 2, 3, 4],
      group: [0, 0, 1, 2, 3],
      kind: [ENTRY_KIND.compute, ENTRY_KIND.compute, ENTRY_KIND.transfer, ENTRY_KIND.spill, ENTRY_KIND.error],
      key: ['inc-1', 'inc-2', 'x', '', 'dec-1'],
      bytes: [8, 8, 4000, 1e6, 0],
    },
    progress: [{ group: 'inc', total: 2, waiting: 0, queued: 0, processing: 0, done: 2, erred: 0, durationMs: 30 }],
    workers: [],
    cluster: { t: [T0 + 1000, T0 + 4000], workers: [2, 2], processing: [1, 0], queued: [3, 0], memory: [16, 16], targets: { '': [null, 2] } },
    memory: { t: [T0 + 1000, T0 + 4000], workers: { w1: { managed: [10, 20], unmanaged: [5, 5], spilled: [0, 0] }, w2: { managed: [null, 1], unmanaged: [null, 2], spilled: [null, 1e6] } } },
    decisions: [{ t: T0 + 4500, source: 'operator', group: '', from: 2, to: 1, reason: 'idle' }],
    failed: [{ t: T0 + 3003, key: 'dec-1', group: 'dec', worker: 'w2', name: 'TypeError', message: 'boom', stack: '' }],
    workerEvents: [{ t: T0 + 95, worker: 'w1', event: 'added', reason: '' }],
  };
}

const byPh = (events: TraceEvent[], ph: TraceEvent['ph']) => events.filter((e) => e.ph === ph);

test('a snapshot becomes complete events per worker process and thread, with names and counters', () => {
  const trace = toChromeTrace(snapshot());
  const ev = trace.traceEvents;
  assert.equal(trace.otherData.originMs, T0 + 90, 'time 0 is the earliest time (an entry before startedAt)');
  const processNames = byPh(ev, 'M').filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args?.name]);
  assert.deepEqual(processNames, [[SCHEDULER_PID, 'scheduler s1'], [2, 'worker w1'], [3, 'worker w2']]);
  const threadNames = byPh(ev, 'M').filter((e) => e.name === 'thread_name').map((e) => [e.pid, e.tid, e.args?.name]);
  assert.deepEqual(threadNames, [[2, 1, 'thread 0'], [2, 2, 'thread 1'], [2, TRANSFER_TID, 'transfers and spills'], [3, TRANSFER_TID, 'transfers and spills'], [3, 1, 'thread 0']]);
  const complete = byPh(ev, 'X').map((e) => [e.name, e.cat, e.pid, e.tid, e.ts, e.dur, e.args?.key]);
  assert.deepEqual(complete, [
    ['inc', 'compute', 2, 1, 10_000, 10_000, 'inc-1'],
    ['inc', 'compute', 2, 2, 60_000, 20_000, 'inc-2'],
    ['transfer', 'transfer', 2, TRANSFER_TID, 0, 5000, 'x'],
    ['spill', 'spill', 3, TRANSFER_TID, 1_910_000, 1_000_000, ''],
    ['dec (erred)', 'error', 3, 1, 2_910_000, 2500, 'dec-1'],
  ]);
  assert.equal(byPh(ev, 'X')[4]!.args?.error, 'TypeError: boom');
  const memory = byPh(ev, 'C').filter((e) => e.name === 'memory (bytes)').map((e) => [e.pid, e.ts, e.args]);
  assert.deepEqual(memory, [
    [2, 910_000, { managed: 10, unmanaged: 5, spilled: 0 }], [2, 3_910_000, { managed: 20, unmanaged: 5, spilled: 0 }],
    [3, 3_910_000, { managed: 1, unmanaged: 2, spilled: 1e6 }],
  ]);
  const targets = byPh(ev, 'C').filter((e) => e.name === 'adaptive target').map((e) => e.args);
  assert.deepEqual(targets, [{ '(default)': 2 }]);
  const instants = byPh(ev, 'i').map((e) => [e.cat, e.name]);
  assert.deepEqual(instants, [['decision', 'operator: (default) 2 -> 1'], ['worker', 'worker added: w1']]);
  // Every event is what the Trace Event Format requires: a phase, a pid and tid, and a ts unless metadata.
  for (const e of ev) {
    assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), JSON.stringify(e));
    if (e.ph !== 'M') assert.ok(Number.isInteger(e.ts) && e.ts! >= 0, JSON.stringify(e));
  }
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(trace)));
});

test('sliceHistory keeps entries overlapping the window and series within it, and recounts progress', () => {
  const s = sliceHistory(snapshot(), T0 + 155, T0 + 2500);
  assert.deepEqual(s.stream.key, ['inc-2', '']); // inc-2 ends at +170; the spill runs +2000..+3000
  assert.deepEqual(s.lanes.length, 5, 'lanes stay whole: entries index them');
  assert.deepEqual(s.cluster.t, [T0 + 1000]);
  assert.deepEqual(s.cluster.targets, { '': [null] });
  assert.deepEqual(s.memory.workers.w2, { managed: [null], unmanaged: [null], spilled: [null] });
  assert.deepEqual([s.decisions, s.failed, s.workerEvents], [[], [], []]);
  assert.deepEqual(s.progress, [{ group: 'inc', total: 1, waiting: 0, queued: 0, processing: 0, done: 1, erred: 0, durationMs: 20 }]);
  const late = sliceHistory(snapshot(), T0 + 2900, T0 + 5000);
  assert.deepEqual(late.progress.map((p) => [p.group, p.erred]), [['dec', 1]]);
  assert.deepEqual(late.failed.map((f) => f.key), ['dec-1']);
  assert.throws(() => sliceHistory(snapshot(), 10, 5), /fromMs <= toMs/);
});
