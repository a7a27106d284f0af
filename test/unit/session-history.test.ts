// SessionHistory (scheduler/history): entries on their lanes, caps, deltas that continue
// exactly from a cursor and a time, series sampling, and the progress counts the scheduler's
// state keeps per task group through a sequence of transitions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchHistory } from '../../client/history.js';
import { applyDelta } from '../../scheduler/history/merge.js';
import { InvalidHistoryRequest } from '../../scheduler/history/request.js';
import { SessionHistory, type LiveView, type TaskRan } from '../../scheduler/history/session-history.js';
import { ENTRY_KIND, type GroupProgress, type HistorySnapshot } from '../../scheduler/history/types.js';
import { Harness, of, task } from './scheduler-harness.js';

/** A history on a clock the test moves. */
function historyAt(options: { maxEntries?: number; maxSamples?: number; maxDepartedWorkers?: number; progress?: () => GroupProgress[] } = {}) {
  const clock = { now: 1_000_000 };
  const live: LiveView = {
    now: () => clock.now,
    progress: options.progress ?? (() => []),
    load: (name) => (name === 'w1' ? { processing: 3, holds: 2, occupancyMs: 40, retiring: false } : undefined),
  };
  const h = new SessionHistory({
    scheduler: 'sched', startedAt: clock.now, live, maxEntries: options.maxEntries, maxSamples: options.maxSamples,
    maxDepartedWorkers: options.maxDepartedWorkers,
  });
  return { h, clock };
}

const ran = (key: string, extra: Partial<TaskRan> = {}): TaskRan => ({
  worker: 'w1', key, group: 'inc', thread: 0, startMs: 1_000_100, durationMs: 5, nbytes: 8, transfers: [], ...extra,
});

const join = (h: SessionHistory, t: number, name: string, nthreads = 2) =>
  h.workerAdded(t, { name, address: `${name}:1`, group: '', nthreads, memoryLimit: 1000 });

/** Entry i as [lane worker, thread, group, kind, key, bytes]. */
function entry(s: HistorySnapshot, i: number): [string, number, string, number, string, number] {
  const lane = s.lanes[s.stream.lane[i]!]!;
  return [lane.worker, lane.thread, s.groups[s.stream.group[i]!]!, s.stream.kind[i]!, s.stream.key[i]!, s.stream.bytes[i]!];
}

test('a finished task is a compute entry on its thread; its transfers go on the worker\'s -1 lane', () => {
  const { h } = historyAt();
  join(h, 1_000_000, 'w1');
  h.taskFinished(ran('a', { thread: 1, transfers: [{ key: 'x', group: 'load', startMs: 1_000_050, durationMs: 3, nbytes: 400 }] }));
  h.taskFinished(ran('held', { thread: -1, startMs: 0 })); // reported because held: not run
  const s = h.snapshot();
  assert.equal(s.cursor, 2);
  assert.deepEqual(entry(s, 0), ['w1', -1, 'load', ENTRY_KIND.transfer, 'x', 400]);
  assert.deepEqual(entry(s, 1), ['w1', 1, 'inc', ENTRY_KIND.compute, 'a', 8]);
  assert.deepEqual([s.stream.start[1], s.stream.duration[1]], [1_000_100, 5]);
  assert.deepEqual(s.workers.map((w) => [w.name, w.processing, w.holds, w.occupancyMs]), [['w1', 3, 2, 40]]);
});

test('an erred task is an error entry and a failed task with its error', () => {
  const { h } = historyAt();
  join(h, 1_000_000, 'w1');
  h.taskErred(1_000_200, {
    worker: 'w1', key: 'bad', group: 'explode', thread: 1, startMs: 1_000_150, durationMs: 2,
    error: { name: 'TypeError', message: 'boom', stack: 'TypeError: boom\n  at f' },
  });
  const s = h.snapshot();
  assert.deepEqual(entry(s, 0), ['w1', 1, 'explode', ENTRY_KIND.error, 'bad', 0]);
  assert.equal(s.failed.length, 1);
  assert.deepEqual({ ...s.failed[0], t: 0 }, { t: 0, key: 'bad', group: 'explode', worker: 'w1', name: 'TypeError', message: 'boom', stack: 'TypeError: boom\n  at f' });
});

test('past the cap the oldest entries go and are counted; entry numbers stay', () => {
  const { h } = historyAt({ maxEntries: 8 });
  for (let i = 0; i < 20; i++) h.taskFinished(ran(`k${i}`));
  const s = h.snapshot();
  assert.equal(s.cursor, 20);
  assert.ok(s.stream.key.length <= 8, `kept ${s.stream.key.length}`);
  assert.equal(s.dropped + s.stream.key.length, 20);
  assert.equal(s.stream.key.at(-1), 'k19');
  assert.equal(s.stream.key[0], `k${s.dropped}`);
  const d = h.delta({ cursor: 0, lanes: 0, groups: 0, since: 0 });
  assert.equal(d.from, s.dropped, 'a cursor before the kept entries starts at the first kept');
  assert.deepEqual(h.delta({ cursor: 18, lanes: 0, groups: 0, since: 0 }).stream.key, ['k18', 'k19']);
});

test('deltas continue from a snapshot and from each other: nothing missed, nothing repeated', () => {
  const { h, clock } = historyAt();
  join(h, clock.now, 'w1');
  h.taskFinished(ran('a'));
  const s = h.snapshot();
  // Recorded in the very millisecond the snapshot was served: still new to the next delta.
  join(h, clock.now, 'w2');
  h.taskFinished(ran('b', { worker: 'w2', group: 'dec' }));
  h.recordDecision({ t: clock.now - 5, source: 'operator', group: '', from: 1, to: 2, reason: 'queue' });
  h.taskErred(clock.now, { worker: 'w2', key: 'c', group: 'dec', thread: 0, startMs: clock.now, durationMs: 1, error: { name: 'E', message: 'm', stack: '' } });
  const d1 = h.delta({ cursor: s.cursor, lanes: s.lanes.length, groups: s.groups.length, since: s.now });
  assert.equal(d1.from, 1);
  assert.deepEqual(d1.stream.key, ['b', 'c']);
  assert.deepEqual(d1.lanes, [{ worker: 'w2', thread: 0 }]);
  assert.deepEqual(d1.groups, ['dec']);
  assert.deepEqual(d1.workerEvents.map((e) => `${e.event}:${e.worker}`), ['added:w2']);
  assert.deepEqual(d1.decisions.map((d) => d.reason), ['queue']);
  assert.deepEqual(d1.failed.map((f) => f.key), ['c']);
  assert.ok(d1.now > s.now);
  const d2 = h.delta({ cursor: d1.cursor, lanes: s.lanes.length + d1.lanes.length, groups: 2, since: d1.now });
  assert.deepEqual([d2.stream.key, d2.lanes, d2.groups, d2.workerEvents, d2.decisions, d2.failed], [[], [], [], [], [], []]);
  clock.now += 10;
  h.workerRemoved(clock.now, 'w2', 'stream closed');
  const d3 = h.delta({ cursor: d2.cursor, lanes: 2, groups: 2, since: d2.now });
  assert.deepEqual(d3.workerEvents.map((e) => `${e.event}:${e.worker}:${e.reason}`), ['removed:w2:stream closed']);
  assert.deepEqual(d3.workers.map((w) => w.name), ['w1']);
});

test('a bad delta request is refused with a clear error', () => {
  const { h } = historyAt();
  assert.throws(() => h.delta({ cursor: -1, lanes: 0, groups: 0, since: 0 }), (e: Error) => e instanceof InvalidHistoryRequest && /cursor must be an integer >= 0/.test(e.message));
  assert.throws(() => h.delta({ cursor: 0, lanes: 0, groups: 0, since: Number.NaN }), /since must be a time/);
});

test('series: at most one sample per interval, memory per worker with nulls where absent, unmanaged = RSS - managed', () => {
  const { h, clock } = historyAt();
  join(h, clock.now, 'w1');
  h.heartbeat(clock.now, 'w1', { managed: 300, rss: 1000, spilled: 0, executing: 1 });
  const sample = { workers: 1, processing: 2, queued: 3, memory: 300, targets: { '': 1 } };
  assert.equal(h.sample(clock.now, sample), true);
  assert.equal(h.sample(clock.now + 500, sample), false, 'half a second later: not due');
  join(h, clock.now + 600, 'w2');
  h.heartbeat(clock.now + 700, 'w2', { managed: 50, rss: 20, spilled: 0, executing: 0 });
  assert.equal(h.sample(clock.now + 1000, { ...sample, workers: 2, targets: { '': 2, gpu: 1 } }), true);
  clock.now += 1000;
  const s = h.snapshot();
  assert.equal(s.cluster.t.length, 2);
  assert.deepEqual(s.cluster.workers, [1, 2]);
  assert.deepEqual(s.cluster.targets, { '': [1, 2], gpu: [null, 1] });
  assert.deepEqual(s.memory.workers.w1, { managed: [300, 300], unmanaged: [700, 700], spilled: [0, 0] });
  assert.deepEqual(s.memory.workers.w2, { managed: [null, 50], unmanaged: [null, 0], spilled: [null, 0] });
  const row = s.workers.find((w) => w.name === 'w1')!;
  assert.deepEqual([row.managed, row.unmanaged, row.executing], [300, 700, 1]);
  // A delta since the first sample brings only the second.
  assert.deepEqual(h.delta({ cursor: 0, lanes: 0, groups: 0, since: s.cluster.t[0]! }).cluster.workers, [2]);
});

test('a long session thins its samples: the whole span stays, at a coarser step', () => {
  const { h, clock } = historyAt({ maxSamples: 10 });
  for (let i = 0; i < 40; i++) h.sample(clock.now + i * 1000, { workers: i, processing: 0, queued: 0, memory: 0, targets: {} });
  const s = h.snapshot();
  assert.ok(s.cluster.t.length <= 10, `kept ${s.cluster.t.length}`);
  assert.equal(s.cluster.workers[0], 0, 'the first sample stays');
  assert.ok(s.cluster.workers.at(-1)! >= 30, 'the latest stays close to now');
});

test('spilled bytes growing between heartbeats are a spill entry on the -1 lane', () => {
  const { h } = historyAt();
  join(h, 1_000_000, 'w1');
  h.heartbeat(1_001_000, 'w1', { managed: 10, rss: 100, spilled: 0, executing: 0 });
  h.heartbeat(1_002_000, 'w1', { managed: 10, rss: 100, spilled: 500, executing: 0 });
  h.heartbeat(1_003_000, 'w1', { managed: 10, rss: 100, spilled: 400, executing: 0 }); // read back: no spill
  const s = h.snapshot();
  assert.equal(s.cursor, 1);
  assert.deepEqual(entry(s, 0), ['w1', -1, 'spill', ENTRY_KIND.spill, '', 500]);
  assert.deepEqual([s.stream.start[0], s.stream.duration[0]], [1_001_000, 1000]);
});

/** Progress of one group, less durationMs, as [total, waiting, queued, processing, done, erred]. */
function counts(h: Harness, group: string): number[] {
  const g = h.s.groupProgress().find((p) => p.group === group);
  return g ? [g.total, g.waiting, g.queued, g.processing, g.done, g.erred] : [];
}

test('progress per group follows the transitions: done, erred with its dependents, a worker loss, forgetting', () => {
  const h = new Harness(); // validates (progress included) after every event
  h.addWorker('w1', 2);
  h.addWorker('w2', 2);
  h.submit([
    task('a1', [], { group: 'load' }), task('a2', [], { group: 'load' }),
    task('b1', ['a1'], { group: 'sum' }), task('b2', ['a2'], { group: 'sum' }), task('c', ['b1', 'b2'], { group: 'total' }),
  ]);
  assert.deepEqual(counts(h, 'load'), [2, 0, 0, 2, 0, 0]);
  assert.deepEqual(counts(h, 'sum'), [2, 2, 0, 0, 0, 0]);
  const onW1 = h.s.processingOn('w1');
  const out = h.finish(onW1.length ? 'w1' : 'w2', 'a1', 100, 20);
  assert.deepEqual(counts(h, 'load'), [2, 0, 0, 1, 1, 0]);
  assert.equal(h.s.groupProgress().find((p) => p.group === 'load')!.durationMs, 20);
  // b1 runs and fails: c errs with it, unrun.
  const b1 = of(out, 'compute').find((m) => m.key === 'b1')!;
  h.fail(b1.workerId, 'b1');
  assert.deepEqual(counts(h, 'sum'), [2, 1, 0, 0, 0, 1]);
  assert.deepEqual(counts(h, 'total'), [1, 0, 0, 0, 0, 1]);
  // The worker running a2 dies: a2 is waiting (or queued, or running elsewhere) again, not done.
  const a2On = ['w1', 'w2'].find((w) => h.s.processingOn(w).includes('a2'))!;
  h.removeWorker(a2On);
  const load = counts(h, 'load');
  assert.equal(load[0], 2);
  assert.equal(load[4], 1, 'a1 stays done');
  assert.equal(load[1]! + load[2]! + load[3]!, 1, 'a2 is pending again');
  // Releasing every key forgets the tasks: the done and the erred stay counted.
  h.release(['a1', 'a2', 'b1', 'b2', 'c']);
  assert.deepEqual(counts(h, 'load'), [1, 0, 0, 0, 1, 0], 'a2 never ran: withdrawn');
  assert.deepEqual(counts(h, 'sum'), [1, 0, 0, 0, 0, 1]);
  assert.deepEqual(counts(h, 'total'), [1, 0, 0, 0, 0, 1]);
  // Submitted again, a key counts again.
  h.submit([task('a1', [], { group: 'load' })]);
  assert.deepEqual(counts(h, 'load').slice(0, 2), [2, 0]);
});

test('progress: a computed result lost with its worker goes back to pending, and to done when recomputed', () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  const first = h.submit([task('x', [], { group: 'g' }), task('y', ['x'], { group: 'h' })]);
  h.finish('w1', 'x');
  assert.deepEqual(counts(h, 'g'), [1, 0, 0, 0, 1, 0]);
  assert.equal(of(first, 'compute').length, 1);
  h.addWorker('w2', 1);
  const resent = h.removeWorker('w1'); // y was running there and x lived only there: both pending again
  assert.deepEqual(counts(h, 'g').slice(4), [0, 0]);
  h.runAll(resent);
  assert.deepEqual(counts(h, 'g'), [1, 0, 0, 0, 1, 0]);
  assert.deepEqual(counts(h, 'h'), [1, 0, 0, 0, 1, 0]);
});

test('the history reads progress from its live view: the state\'s counts', () => {
  const state = new Harness();
  state.addWorker('w1', 1);
  state.runAll(state.submit([task('a', [], { group: 'g' }), task('b', ['a'], { group: 'g' })]));
  const { h } = historyAt({ progress: () => state.s.groupProgress() });
  const p = h.snapshot().progress;
  assert.deepEqual(p.map((g) => [g.group, g.total, g.done]), [['g', 2, 2]]);
  assert.equal(p[0]!.durationMs, 20);
});

test('a snapshot and deltas page through the stream: the pages applied give the whole', async () => {
  const { h, clock } = historyAt();
  join(h, clock.now, 'w1');
  for (let i = 0; i < 23; i++) {
    if (i === 12) join(h, clock.now, 'w2');
    h.taskFinished(ran(`k${i}`, { worker: i < 12 ? 'w1' : 'w2', group: `g${i % 3}`, thread: i % 2 }));
    if (i % 5 === 0) {
      clock.now += 1000;
      h.sample(clock.now, { workers: 2, processing: i, queued: 0, memory: 0, targets: { [`t${i}`]: i } });
    }
  }
  h.recordDecision({ t: clock.now, source: 'local', group: '', from: 1, to: 2, reason: 'more' });
  // Over the wire: JSON both ways, as Scheduler.History serves it.
  const rpc = {
    history: async (r: { maxEntries?: number } | Parameters<SessionHistory['delta']>[0]): Promise<unknown> =>
      JSON.parse(JSON.stringify('cursor' in r ? h.delta(r) : h.snapshot(r))) as unknown,
  };
  const paged = await fetchHistory(rpc, undefined, 5);
  assert.deepEqual(paged, h.snapshot());
  const first = h.snapshot({ maxEntries: 4 });
  assert.deepEqual([first.cursor, first.stream.key], [4, ['k0', 'k1', 'k2', 'k3']]);
  const request = { cursor: 7, lanes: 1, groups: 1, since: 0 };
  assert.deepEqual(await fetchHistory(rpc, request, 4), h.delta(request));
  const limited = await fetchHistory(rpc, { ...request, maxEntries: 6 }, 4);
  assert.deepEqual([limited.from, limited.cursor, limited.stream.key], [7, 13, ['k7', 'k8', 'k9', 'k10', 'k11', 'k12']]);
  assert.throws(() => h.snapshot({ maxEntries: 0 }), /maxEntries must be an integer >= 1/);
});

test('applyDelta: a snapshot with the delta after it equals the later snapshot', () => {
  const { h, clock } = historyAt();
  join(h, clock.now, 'w1');
  h.heartbeat(clock.now, 'w1', { managed: 1, rss: 5, spilled: 0, executing: 0 });
  h.sample(clock.now, { workers: 1, processing: 0, queued: 0, memory: 1, targets: {} });
  h.taskFinished(ran('a'));
  const s1 = h.snapshot();
  clock.now += 2000;
  join(h, clock.now, 'w2');
  h.heartbeat(clock.now, 'w2', { managed: 2, rss: 9, spilled: 0, executing: 0 });
  h.sample(clock.now, { workers: 2, processing: 1, queued: 0, memory: 3, targets: { gpu: 1 } });
  h.taskFinished(ran('b', { worker: 'w2', group: 'dec' }));
  h.taskErred(clock.now, { worker: 'w2', key: 'c', group: 'dec', thread: 0, startMs: clock.now, durationMs: 1, error: { name: 'E', message: 'm', stack: '' } });
  const d = h.delta({ cursor: s1.cursor, lanes: s1.lanes.length, groups: s1.groups.length, since: s1.now });
  assert.deepEqual(applyDelta(s1, d), h.snapshot());
  assert.throws(() => applyDelta(h.snapshot(), d), /before the 3 already held/);
});

test('a decision from a clock far ahead (or with no sane time) is shown at its arrival and cannot hide later records', () => {
  const { h, clock } = historyAt();
  const start = h.snapshot();
  h.recordDecision({ t: clock.now + 600_000, source: 'operator', group: '', from: 1, to: 2, reason: 'ahead' });
  h.recordDecision({ t: Infinity, source: 'operator', group: '', from: 2, to: 3, reason: 'bogus' });
  h.recordDecision({ t: clock.now - 30_000, source: 'operator', group: '', from: 3, to: 4, reason: 'late but sane' });
  clock.now += 1000;
  join(h, clock.now, 'w1');
  const d = h.delta({ cursor: start.cursor, lanes: 0, groups: 0, since: start.now });
  assert.deepEqual(d.decisions.map((x) => [x.reason, x.t]), [['ahead', clock.now - 1000], ['bogus', clock.now - 1000], ['late but sane', clock.now - 31_000]]);
  assert.deepEqual(d.workerEvents.map((e) => e.worker), ['w1'], 'a record after them still reaches the next delta');
  assert.ok(Number.isFinite(d.now) && d.now <= clock.now + 1);
  assert.equal(h.wantsSample(clock.now + 1000), true, 'samples go on');
});

/** Workers w0..w199 join one after another, each leaving 3 steps later, with a sample per step. */
function churn(h: SessionHistory, clock: { now: number }, onStep: (step: number, connected: number) => void): void {
  const workers = 200;
  const stay = 3;
  for (let step = 0; step < workers + stay; step++) {
    clock.now += 1000;
    if (step < workers) join(h, clock.now, `w${step}`);
    if (step >= stay) h.workerRemoved(clock.now, `w${step - stay}`, 'scaled down');
    for (let i = Math.max(0, step - stay + 1); i <= Math.min(step, workers - 1); i++) {
      h.heartbeat(clock.now, `w${i}`, { managed: step, rss: 2 * step, spilled: 0, executing: 0 });
    }
    h.sample(clock.now, { workers: 1, processing: 0, queued: 0, memory: 0, targets: {} });
    onStep(step, Math.min(step, workers - 1) - Math.max(0, step - stay + 1) + 1);
  }
}

test('memory series: the connected workers and the latest departed ones only, so a sample stays bounded', () => {
  const { h, clock } = historyAt();
  let most = 0;
  churn(h, clock, (step, connected) => {
    // The snapshot's series are every column the history samples: the work of each sample.
    const kept = Object.keys(h.snapshot().memory.workers).length;
    assert.ok(kept <= connected + 32, `step ${step}: ${kept} workers' memory kept, ${connected} connected`);
    most = Math.max(most, kept);
  });
  assert.equal(most, 32 + 3);
  const s = h.snapshot();
  // All gone: the 32 that left last, each with a value for every sample kept.
  assert.deepEqual(Object.keys(s.memory.workers).sort(), Array.from({ length: 32 }, (_, i) => `w${168 + i}`).sort());
  for (const w of Object.values(s.memory.workers)) assert.equal(w.managed.length, s.memory.t.length);
  assert.deepEqual(s.memory.workers.w199!.managed.slice(-4), [199, 200, 201, null]);
  assert.deepEqual(s.memory.workers.w199!.unmanaged.slice(-4), [199, 200, 201, null]);
  assert.equal(s.workerEvents.length, 400);
});

test('memory series: a departed worker still kept that comes back goes on in its columns; the bound is an option', () => {
  const { h, clock } = historyAt({ maxDepartedWorkers: 1 });
  join(h, clock.now, 'a');
  h.heartbeat(clock.now, 'a', { managed: 1, rss: 1, spilled: 0, executing: 0 });
  h.sample(clock.now, { workers: 1, processing: 0, queued: 0, memory: 0, targets: {} });
  h.workerRemoved(clock.now, 'a', 'lost');
  clock.now += 1000;
  h.sample(clock.now, { workers: 0, processing: 0, queued: 0, memory: 0, targets: {} });
  join(h, clock.now, 'a');
  h.heartbeat(clock.now, 'a', { managed: 3, rss: 3, spilled: 0, executing: 0 });
  join(h, clock.now, 'b');
  clock.now += 1000;
  h.sample(clock.now, { workers: 2, processing: 0, queued: 0, memory: 0, targets: {} });
  assert.deepEqual(h.snapshot().memory.workers.a!.managed, [1, null, 3]);
  h.workerRemoved(clock.now, 'a', 'lost');
  h.workerRemoved(clock.now, 'b', 'lost');
  assert.deepEqual(Object.keys(h.snapshot().memory.workers), ['b']);
  assert.throws(() => historyAt({ maxDepartedWorkers: -1 }), /maxDepartedWorkers must be an integer >= 0, got -1/);
});

test('memory series: deltas applied to a snapshot equal a fresh snapshot as workers come and go, at any pace', () => {
  const { h, clock } = historyAt();
  let every = h.snapshot();
  let third = h.snapshot();
  const next = (s: HistorySnapshot) => applyDelta(s, h.delta({ cursor: s.cursor, lanes: s.lanes.length, groups: s.groups.length, since: s.now }));
  churn(h, clock, (step) => {
    every = next(every);
    assert.deepEqual(every, h.snapshot(), `step ${step}`);
    if (step % 37 === 0) {
      third = next(third);
      assert.deepEqual(third, h.snapshot(), `step ${step}, read every 37`);
    }
  });
});
