// WorkerState, pure: feed events, assert the instructions that come out. No sockets, no threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerState } from '../../worker/state/worker-state.js';
import type { ComputeRequest, WorkerEvent, WorkerInstruction } from '../../worker/state/types.js';

type Ins = WorkerInstruction<string>;
let sid = 0;

function task(key: string, opts: Partial<ComputeRequest<string>> = {}): WorkerEvent<string> {
  return { type: 'compute-task', stimulusId: `s${++sid}`, task: { key, dependencies: [], whoHas: {}, priority: 0, resources: {}, spec: `spec:${key}`, ...opts } };
}
function done(key: string, nbytes = 8, durationMs = 2): WorkerEvent<string> {
  return { type: 'execute-done', key, nbytes, encoding: 1, startMs: 1, durationMs, thread: 0, transfers: [], stimulusId: `s${++sid}` };
}
const executes = (out: Ins[]): string[] => out.flatMap((i) => (i.type === 'execute' ? [i.key] : []));
const fetches = (out: Ins[]): Array<[string, string[]]> => out.flatMap((i) => (i.type === 'fetch' ? [[i.from, [...i.keys].sort()] as [string, string[]]] : []));
const sent = (out: Ins[]): unknown[] => out.flatMap((i) => (i.type === 'send-to-scheduler' ? [i.message] : []));
const released = (out: Ins[]): string[] => out.flatMap((i) => (i.type === 'release-data' ? i.keys : []));

test('a task without dependencies executes and reports finished', () => {
  const ws = new WorkerState<string>({ nthreads: 1 });
  const out = ws.handle(task('a'));
  assert.deepEqual(out.map((i) => i.type), ['execute']);
  assert.equal((out[0] as Ins & { type: 'execute' }).spec, 'spec:a');
  assert.equal(ws.stateOf('a'), 'executing');
  const fin = ws.handle(done('a', 5));
  assert.deepEqual(sent(fin), [{ type: 'finished', key: 'a', nbytes: 5, encoding: 1, startMs: 1, durationMs: 2, thread: 0, transfers: [] }]);
  assert.equal(ws.stateOf('a'), 'memory');
  assert.deepEqual(ws.counts(), { executing: 0, ready: 0, waiting: 0, fetching: 0, inMemory: 1, erred: 0, memoryBytes: 5 });
});

test('executing is limited to nthreads and ready tasks run by priority', () => {
  const ws = new WorkerState<string>({ nthreads: 2 });
  assert.deepEqual(executes(ws.handle(task('low', { priority: 1 }))), ['low']);
  assert.deepEqual(executes(ws.handle(task('mid', { priority: 5 }))), ['mid']);
  assert.deepEqual(executes(ws.handle(task('x', { priority: 2 }))), []);
  assert.deepEqual(executes(ws.handle(task('high', { priority: 9 }))), []);
  assert.equal(ws.counts().ready, 2);
  assert.deepEqual(executes(ws.handle(done('low'))), ['high']);
  assert.deepEqual(executes(ws.handle(done('mid'))), ['x']);
});

test('keys asked of one peer go in one Fetch; one Fetch in flight per peer', () => {
  const ws = new WorkerState<string>({ nthreads: 4 });
  const out = ws.handle(task('t1', { dependencies: ['a', 'b', 'c'], whoHas: { a: ['p1'], b: ['p1'], c: ['p2'] } }));
  assert.deepEqual(fetches(out).sort(), [['p1', ['a', 'b']], ['p2', ['c']]]);
  assert.equal(ws.stateOf('t1'), 'waiting');
  // p1 is busy: d waits for the next Fetch to p1, together with e.
  assert.deepEqual(fetches(ws.handle(task('t2', { dependencies: ['d'], whoHas: { d: ['p1'] } }))), []);
  assert.deepEqual(fetches(ws.handle(task('t3', { dependencies: ['e'], whoHas: { e: ['p1'] } }))), []);
  const arrived = ws.handle({ type: 'fetch-done', from: 'p1', keys: [{ key: 'a', nbytes: 1, encoding: 1 }, { key: 'b', nbytes: 2, encoding: 1 }], missing: [], stimulusId: 'f1' });
  assert.deepEqual(fetches(arrived), [['p1', ['d', 'e']]]);
  assert.deepEqual(sent(arrived), [{ type: 'added', keys: ['a', 'b'], nbytes: [1, 2] }]);
  assert.deepEqual(executes(arrived), []);
  const last = ws.handle({ type: 'fetch-done', from: 'p2', keys: [{ key: 'c', nbytes: 3, encoding: 1 }], missing: [], stimulusId: 'f2' });
  assert.deepEqual(executes(last), ['t1']);
});

test('a key missing at one holder is fetched from another; with none left the task is reported missing', () => {
  const ws = new WorkerState<string>({ nthreads: 1 });
  ws.handle(task('t', { dependencies: ['a'], whoHas: { a: ['p1', 'p2'] } }));
  const retry = ws.handle({ type: 'fetch-done', from: 'p1', keys: [], missing: ['a'], stimulusId: 'm1' });
  assert.deepEqual(fetches(retry), [['p2', ['a']]]);
  const gone = ws.handle({ type: 'fetch-failed', from: 'p2', keys: ['a'], reason: 'unreachable', stimulusId: 'm2' });
  assert.deepEqual(sent(gone), [{ type: 'missing', key: 't', missing: ['a'] }]);
  assert.equal(ws.stateOf('t'), undefined);
  assert.equal(ws.stateOf('a'), undefined);
  // A dependency with no holder at all fails at once.
  const none = ws.handle(task('u', { dependencies: ['z'] }));
  assert.deepEqual(sent(none), [{ type: 'missing', key: 'u', missing: ['z'] }]);
  assert.deepEqual(executes(none), []);
});

test('local results feed local dependents without a fetch', () => {
  const ws = new WorkerState<string>({ nthreads: 2 });
  ws.handle(task('a'));
  const out = ws.handle(task('b', { dependencies: ['a'], whoHas: { a: ['elsewhere'] } }));
  assert.deepEqual(fetches(out), []);
  assert.equal(ws.stateOf('b'), 'waiting');
  assert.deepEqual(executes(ws.handle(done('a'))), ['b']);
});

const interrupts = (out: Ins[]): string[] => out.flatMap((i) => (i.type === 'interrupt' ? [i.key] : []));

test('cancelling a running task interrupts it and frees its slot at once', () => {
  const ws = new WorkerState<string>({ nthreads: 1 });
  ws.handle(task('a'));
  ws.handle(task('b'));
  const cancel = ws.handle({ type: 'cancel-task', key: 'a', stimulusId: 'c1' });
  // The runtime stops a's run (even one that never returns), so b starts now, not when a returns.
  assert.deepEqual(cancel.map((i) => i.type), ['interrupt', 'execute']);
  assert.deepEqual(interrupts(cancel), ['a']);
  assert.deepEqual(executes(cancel), ['b']);
  assert.deepEqual(sent(cancel), []);
  assert.equal(ws.stateOf('a'), undefined);
  assert.equal(ws.counts().executing, 1);
  // Scheduler free-keys of a running task interrupts it the same way.
  const freed = ws.handle({ type: 'free-keys', keys: ['b'], stimulusId: 'f1' });
  assert.deepEqual(interrupts(freed), ['b']);
  assert.equal(ws.counts().executing, 0);
});

test('a cancelled task asked for again runs anew', () => {
  const ws = new WorkerState<string>({ nthreads: 1 });
  ws.handle(task('a'));
  ws.handle({ type: 'cancel-task', key: 'a', stimulusId: 'c' });
  assert.deepEqual(executes(ws.handle(task('a'))), ['a']);
  assert.deepEqual(sent(ws.handle(done('a'))), [{ type: 'finished', key: 'a', nbytes: 8, encoding: 1, startMs: 1, durationMs: 2, thread: 0, transfers: [] }]);
});

test('an interrupted task that local tasks need is fetched from its holders instead', () => {
  const ws = new WorkerState<string>({ nthreads: 2 });
  ws.handle(task('a'));
  ws.handle(task('t', { dependencies: ['a'], whoHas: { a: ['p1'] } }));
  assert.equal(ws.stateOf('t'), 'waiting');
  const cancel = ws.handle({ type: 'cancel-task', key: 'a', stimulusId: 'c' });
  assert.deepEqual(interrupts(cancel), ['a']);
  assert.deepEqual(fetches(cancel), [['p1', ['a']]]);
  const arrived = ws.handle({ type: 'fetch-done', from: 'p1', keys: [{ key: 'a', nbytes: 1, encoding: 1 }], missing: [], stimulusId: 'f' });
  assert.deepEqual(executes(arrived), ['t']);
});

test('cancelling a waiting task drops it and its fetch', () => {
  const ws = new WorkerState<string>({ nthreads: 1 });
  ws.handle(task('busy'));
  ws.handle(task('t', { dependencies: ['a'], whoHas: { a: ['p1'] } }));
  ws.handle(task('u'));
  ws.handle({ type: 'cancel-task', key: 'u', stimulusId: 'c' });
  ws.handle({ type: 'cancel-task', key: 't', stimulusId: 'c' });
  assert.equal(ws.stateOf('u'), undefined);
  // The value arriving for nobody is released, not reported.
  const late = ws.handle({ type: 'fetch-done', from: 'p1', keys: [{ key: 'a', nbytes: 1, encoding: 1 }], missing: [], stimulusId: 'f' });
  assert.deepEqual(released(late), ['a']);
  assert.deepEqual(sent(late), []);
  assert.deepEqual(executes(ws.handle(done('busy'))), []);
});

test('a stolen task not yet started is rejected and dropped with what only it needed', () => {
  const ws = new WorkerState<string>({ nthreads: 1 });
  ws.handle(task('busy'));
  ws.handle(task('t', { dependencies: ['a'], whoHas: { a: ['p1'] } }));
  ws.handle(task('u'));
  const stolen = ws.handle({ type: 'steal-task', key: 'u', stimulusId: 'st1' });
  assert.deepEqual(sent(stolen), [{ type: 'rejected', key: 'u', reason: 'stolen' }]);
  assert.equal(ws.stateOf('u'), undefined);
  // Waiting on a fetch counts as not started: dropped, and the value arriving is released.
  assert.deepEqual(sent(ws.handle({ type: 'steal-task', key: 't', stimulusId: 'st2' })), [{ type: 'rejected', key: 't', reason: 'stolen' }]);
  assert.equal(ws.stateOf('t'), undefined);
  const late = ws.handle({ type: 'fetch-done', from: 'p1', keys: [{ key: 'a', nbytes: 1, encoding: 1 }], missing: [], stimulusId: 'f' });
  assert.deepEqual(released(late), ['a']);
  assert.deepEqual(sent(late), []);
  assert.deepEqual(executes(ws.handle(done('busy'))), []);
  // Asked again later (the scheduler sent it back), it runs.
  assert.deepEqual(executes(ws.handle(task('u'))), ['u']);
});

test('a steal of an executing, finished or unknown task is ignored; its outcome is reported as usual', () => {
  const ws = new WorkerState<string>({ nthreads: 1 });
  ws.handle(task('a'));
  assert.deepEqual(ws.handle({ type: 'steal-task', key: 'a', stimulusId: 'st1' }), []);
  assert.equal(ws.stateOf('a'), 'executing');
  assert.deepEqual(sent(ws.handle(done('a', 3))), [{ type: 'finished', key: 'a', nbytes: 3, encoding: 1, startMs: 1, durationMs: 2, thread: 0, transfers: [] }]);
  assert.deepEqual(ws.handle({ type: 'steal-task', key: 'a', stimulusId: 'st2' }), []);
  assert.equal(ws.stateOf('a'), 'memory');
  assert.deepEqual(ws.handle({ type: 'steal-task', key: 'nope', stimulusId: 'st3' }), []);
  // A dependency being fetched (not a task asked of this worker) is not a task to give up.
  ws.handle(task('b'));
  ws.handle(task('c', { dependencies: ['d'], whoHas: { d: ['p1'] } }));
  assert.deepEqual(ws.handle({ type: 'steal-task', key: 'd', stimulusId: 'st4' }), []);
  assert.equal(ws.stateOf('d'), 'flight');
});

test('errors are reported, kept until freed, and a retry runs again', () => {
  const ws = new WorkerState<string>({ nthreads: 1 });
  ws.handle(task('a'));
  const err = { name: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at f' };
  const out = ws.handle({ type: 'execute-failed', key: 'a', error: err, startMs: 5, durationMs: 3, thread: 0, stimulusId: 'e' });
  assert.deepEqual(sent(out), [{ type: 'erred', key: 'a', error: err, startMs: 5, durationMs: 3, thread: 0 }]);
  assert.equal(ws.stateOf('a'), 'error');
  assert.deepEqual(executes(ws.handle(task('a'))), ['a']);
  ws.handle({ type: 'execute-failed', key: 'a', error: err, startMs: 5, durationMs: 3, thread: 0, stimulusId: 'e2' });
  ws.handle({ type: 'free-keys', keys: ['a'], stimulusId: 'free' });
  assert.equal(ws.stateOf('a'), undefined);
});

test('a run that could not read its inputs is reported missing, not erred; its slot and the task are let go', () => {
  const ws = new WorkerState<string>({ nthreads: 1 });
  ws.handle(task('t'));
  ws.handle(task('next'));
  const out = ws.handle({ type: 'execute-missing', key: 't', missing: ['s0', 's1'], durationMs: 4, stimulusId: 'm' });
  assert.deepEqual(sent(out), [{ type: 'missing', key: 't', missing: ['s0', 's1'] }]);
  assert.deepEqual(executes(out), ['next'], 'the slot is free at once');
  assert.equal(ws.stateOf('t'), undefined, 'forgotten: the scheduler sends it again');
  assert.deepEqual(executes(ws.handle(task('t'))), [], 'queued behind next when sent again');
  // A stale report (the run was interrupted by a cancel meanwhile) is dropped.
  ws.handle(done('next'));
  assert.equal(ws.stateOf('t'), 'executing');
  ws.handle({ type: 'cancel-task', key: 't', stimulusId: 'c' });
  const stale = ws.handle({ type: 'execute-missing', key: 't', missing: ['s0'], durationMs: 1, stimulusId: 'm2' });
  assert.deepEqual(sent(stale), []);
});

test('free-keys releases data unless a local task still needs it', () => {
  const ws = new WorkerState<string>({ nthreads: 1 });
  ws.handle(task('a'));
  ws.handle(done('a'));
  ws.handle(task('busy'));
  ws.handle(task('b', { dependencies: ['a'] }));
  assert.deepEqual(released(ws.handle({ type: 'free-keys', keys: ['a'], stimulusId: 'f1' })), []);
  assert.equal(ws.stateOf('a'), 'memory');
  assert.deepEqual(executes(ws.handle(done('busy'))), ['b']);
  assert.deepEqual(released(ws.handle(done('b'))), ['a']);
  assert.equal(ws.stateOf('a'), undefined);
});

test('tasks with resources hold them while running and do not block plain tasks', () => {
  const ws = new WorkerState<string>({ nthreads: 4, resources: { GPU: 1 } });
  assert.deepEqual(executes(ws.handle(task('g1', { resources: { GPU: 1 } }))), ['g1']);
  assert.deepEqual(executes(ws.handle(task('g2', { resources: { GPU: 1 }, priority: 10 }))), []);
  assert.deepEqual(executes(ws.handle(task('plain'))), ['plain']);
  assert.deepEqual(executes(ws.handle(done('g1'))), ['g2']);
});

test('a task needing resources the worker lacks is rejected', () => {
  const ws = new WorkerState<string>({ nthreads: 2, resources: { GPU: 1 } });
  const out = ws.handle(task('g', { resources: { GPU: 2 } }));
  assert.deepEqual(sent(out), [{ type: 'rejected', key: 'g', reason: 'worker has 1 of resource GPU, task needs 2' }]);
  assert.equal(ws.stateOf('g'), undefined);
});

test('tiny task groups are handed out beyond nthreads; slow ones and unknown ones are not', () => {
  const ws = new WorkerState<string>({ nthreads: 2, pipeline: { depth: 4, belowMs: 1 } });
  const run = (key: string, group: string): string[] => executes(ws.handle(task(key, { group })));
  const finish = (key: string, ms: number): string[] => executes(ws.handle(done(key, 8, ms)));
  // Nothing is known about a group yet: strictly nthreads.
  assert.deepEqual([run('t1', 'tiny'), run('t2', 'tiny'), run('t3', 'tiny')], [['t1'], ['t2'], []]);
  assert.deepEqual(finish('t1', 0.05), ['t3']);
  // 'tiny' is known now: t2 (started before that) holds one thread, the other takes 4.
  assert.deepEqual(Array.from({ length: 10 }, (_, i) => run(`m${i}`, 'tiny')).flat(), ['m0', 'm1', 'm2']);
  assert.equal(ws.counts().executing, 5);
  assert.deepEqual(finish('t2', 0.05), ['m3', 'm4', 'm5', 'm6']);
  assert.equal(ws.counts().executing, 8);

  const slow = new WorkerState<string>({ nthreads: 2, pipeline: { depth: 4, belowMs: 1 } });
  const run2 = (key: string, group: string): string[] => executes(slow.handle(task(key, { group })));
  const finish2 = (key: string, ms: number): string[] => executes(slow.handle(done(key, 8, ms)));
  run2('a', 'tiny');
  run2('b', 'slow');
  finish2('a', 0.05);
  finish2('b', 500);
  assert.deepEqual([run2('s1', 'slow'), run2('s2', 'slow'), run2('s3', 'slow')], [['s1'], ['s2'], []]);
  assert.deepEqual(finish2('s1', 500), ['s3']);
  assert.deepEqual(Array.from({ length: 6 }, (_, i) => run2(`x${i}`, 'tiny')).flat(), []);
  assert.deepEqual(finish2('s2', 500), ['x0', 'x1', 'x2', 'x3']);
});

test('replicas are fetched and reported with added; put values are held but not reported', () => {
  const ws = new WorkerState<string>({ nthreads: 1 });
  assert.deepEqual(fetches(ws.handle({ type: 'acquire-replicas', whoHas: { r: ['p9'] }, stimulusId: 'r' })), [['p9', ['r']]]);
  const out = ws.handle({ type: 'fetch-done', from: 'p9', keys: [{ key: 'r', nbytes: 7, encoding: 3 }], missing: [], stimulusId: 'f' });
  assert.deepEqual(sent(out), [{ type: 'added', keys: ['r'], nbytes: [7] }]);
  const put = ws.handle({ type: 'data-put', keys: [{ key: 's', nbytes: 4, encoding: 2 }], stimulusId: 'p' });
  assert.deepEqual(sent(put), []);
  assert.equal(ws.stateOf('s'), 'memory');
  assert.equal(ws.counts().memoryBytes, 11);
});

test('a task already in memory is reported finished at once', () => {
  const ws = new WorkerState<string>({ nthreads: 1 });
  ws.handle({ type: 'data-put', keys: [{ key: 'k', nbytes: 4, encoding: 2 }], stimulusId: 'p' });
  const out = ws.handle(task('k'));
  assert.deepEqual(executes(out), []);
  assert.equal((sent(out)[0] as { type: string }).type, 'finished');
});

test('close rejects queued tasks and every later one', () => {
  const ws = new WorkerState<string>({ nthreads: 1 });
  ws.handle(task('run'));
  ws.handle(task('queued'));
  const out = ws.handle({ type: 'close', reason: 'retiring', stimulusId: 'x' });
  assert.deepEqual(sent(out), [{ type: 'rejected', key: 'queued', reason: 'worker closing: retiring' }]);
  assert.deepEqual(sent(ws.handle(task('late'))), [{ type: 'rejected', key: 'late', reason: 'worker closing' }]);
  assert.deepEqual(executes(ws.handle(done('run'))), []);
});

test('each key keeps a bounded story of transitions with their stimulus ids', () => {
  const ws = new WorkerState<string>({ nthreads: 1, storyLength: 3 });
  ws.handle({ ...task('a'), stimulusId: 'first' });
  ws.handle({ ...done('a'), stimulusId: 'second' });
  assert.deepEqual(ws.story('a').map((s) => [s.from, s.to, s.stimulusId]), [['new', 'ready', 'first'], ['ready', 'executing', 'first'], ['executing', 'memory', 'second']]);
  ws.handle({ type: 'free-keys', keys: ['a'], stimulusId: 'third' });
  assert.deepEqual(ws.story('a').map((s) => s.to), ['executing', 'memory', 'forgotten']);
});

test('random event sequences keep the invariants (no invalid transition, executing <= nthreads)', () => {
  let seed = 42;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >>> 8) % n;
  };
  const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
  const peers = ['p0', 'p1', 'p2'];
  for (let round = 0; round < 200; round++) {
    const piped = round % 2 === 1;
    const ws = new WorkerState<string>({ nthreads: 2, resources: { GPU: 1 }, pipeline: piped ? { depth: 3, belowMs: 1 } : undefined });
    const running = new Set<string>();
    const flights = new Map<string, string[]>();
    const stored = new Set<string>(); // what the runtime's data store would hold
    for (let step = 0; step < 60; step++) {
      const k = keys[rnd(keys.length)]!;
      const r = rnd(8);
      let ev: WorkerEvent<string>;
      if (r <= 2) {
        const deps = keys.filter((d) => d < k && rnd(4) === 0);
        ev = task(k, { dependencies: deps, priority: rnd(3), group: `g${rnd(2)}`, resources: rnd(5) === 0 ? { GPU: 1 } : {},
          whoHas: Object.fromEntries(deps.map((d) => [d, peers.filter(() => rnd(2) === 0)])) });
      } else if (r === 3 && running.size > 0) {
        const key = [...running][rnd(running.size)]!;
        ev = rnd(3) === 0 ? { type: 'execute-failed', key, error: { name: 'E', message: 'm', stack: '' }, startMs: 1, durationMs: 1, thread: 0, stimulusId: 'x' } : done(key, 1, rnd(2) === 0 ? 0.1 : 5);
      } else if (r === 4 && flights.size > 0) {
        const [from, asked] = [...flights][rnd(flights.size)]!;
        const got = asked.filter(() => rnd(3) > 0);
        ev = rnd(4) === 0
          ? { type: 'fetch-failed', from, keys: asked, reason: 'x', stimulusId: 'x' }
          : { type: 'fetch-done', from, keys: got.map((key) => ({ key, nbytes: 1, encoding: 1 })), missing: asked.filter((a) => !got.includes(a)), stimulusId: 'x' };
        flights.delete(from);
      } else if (r === 5) {
        ev = rnd(2) === 0 ? { type: 'cancel-task', key: k, stimulusId: 'x' } : { type: 'steal-task', key: k, stimulusId: 'x' };
      } else if (r === 6) {
        ev = { type: 'free-keys', keys: [k], stimulusId: 'x' };
      } else {
        ev = { type: 'acquire-replicas', whoHas: { [k]: [peers[rnd(3)]!] }, stimulusId: 'x' };
      }
      if (ev.type === 'execute-done' || ev.type === 'execute-failed') running.delete(ev.key);
      if (ev.type === 'execute-done') stored.add(ev.key);
      if (ev.type === 'fetch-done') for (const f of ev.keys) stored.add(f.key);
      for (const ins of ws.handle(ev)) {
        if (ins.type === 'release-data') for (const key of ins.keys) stored.delete(key);
        if (ins.type === 'execute') running.add(ins.key);
        if (ins.type === 'interrupt') running.delete(ins.key);
        if (ins.type === 'fetch') {
          assert.equal(flights.has(ins.from), false, 'two Fetches in flight to one peer');
          flights.set(ins.from, ins.keys);
        }
      }
      assert.ok(ws.counts().executing <= (piped ? 6 : 2));
      assert.equal(ws.counts().executing, running.size);
      for (const key of keys) assert.equal(ws.stateOf(key) === 'memory', stored.has(key), `${key} in memory <=> stored`);
    }
  }
});
