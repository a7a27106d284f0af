// The pure progress query (scheduler/state/progress.ts): what it counts per task group, from
// which tasks, for states the scheduler reaches by ordinary events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computed, Harness, task } from './scheduler-harness.js';

const load = (key: string, extra = {}) => task(key, [], { group: 'load', ...extra });
const step = (key: string, deps: string[]) => task(key, deps, { group: 'step' });

test('a shared dependency is counted once, groups come in submission order', () => {
  const h = new Harness();
  h.addWorker('w1');
  // shared <- x, y; out <- x, y: 'shared' is reached through both x and y.
  h.submit([load('shared'), step('x', ['shared']), step('y', ['shared']), task('out', ['x', 'y'], { group: 'sum' })], ['out']);
  const p = h.s.progress(['out']);
  assert.deepEqual(p.groups, [
    { group: 'load', total: 1, done: 0, erred: 0, processing: 1, queued: 0, waiting: 0 },
    { group: 'step', total: 2, done: 0, erred: 0, processing: 0, queued: 0, waiting: 2 },
    { group: 'sum', total: 1, done: 0, erred: 0, processing: 0, queued: 0, waiting: 1 },
  ]);
  assert.deepEqual({ ...p, groups: undefined }, { groups: undefined, keys: 1, finished: 0, erred: 0, unknown: 0, allDone: false });
  // Asking for the same key twice, and for a dependency too, still counts each task once.
  assert.deepEqual(h.s.progress(['out', 'out', 'x']).groups.map((g) => g.total), [1, 2, 1]);
});

test('released after being computed counts as done; at the end every group is complete', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.runAll(h.submit([load('a'), step('b', ['a']), task('c', ['b'], { group: 'sum' })], ['c']));
  assert.deepEqual(['a', 'b', 'c'].map((k) => h.s.taskState(k)), ['released', 'released', 'memory'], 'a and b kept as lineage');
  const p = h.s.progress(['c']);
  assert.deepEqual(p.groups.map((g) => [g.group, g.done, g.total]), [['load', 1, 1], ['step', 1, 1], ['sum', 1, 1]]);
  assert.equal(p.allDone, true);
  assert.equal(p.finished, 1);
});

test('with no worker to run them: ready tasks are queued, their dependents waiting', () => {
  const h = new Harness(); // no workers: nothing runs
  h.submit([load('a'), step('b', ['a'])], ['b']);
  assert.equal(h.s.taskState('a'), 'no-worker');
  assert.deepEqual(h.s.progress(['b']).groups.map((g) => [g.group, g.queued, g.waiting, g.done]), [['load', 1, 0, 0], ['step', 0, 1, 0]]);
});

test('an erred dependent: counted erred with its group, and the keys are all done', () => {
  const h = new Harness();
  h.addWorker('w1');
  const first = h.submit([load('a1'), load('a2'), step('b1', ['a1']), step('b2', ['a2'])], ['b1', 'b2']);
  assert.deepEqual(computed(first), ['w1:a1', 'w1:a2']);
  h.fail('w1', 'a1');
  assert.deepEqual([h.s.taskState('a1'), h.s.taskState('b1')], ['released', 'erred'], 'a1 released once b1 erred: still counted erred');
  let p = h.s.progress(['b1', 'b2']);
  assert.deepEqual(p.groups, [
    { group: 'load', total: 2, done: 0, erred: 1, processing: 1, queued: 0, waiting: 0 },
    { group: 'step', total: 2, done: 0, erred: 1, processing: 0, queued: 0, waiting: 1 },
  ]);
  assert.deepEqual([p.finished, p.erred, p.allDone], [0, 1, false]);
  h.runAll(h.finish('w1', 'a2'));
  p = h.s.progress(['b1', 'b2']);
  assert.deepEqual(p.groups.map((g) => [g.group, g.done, g.erred, g.total]), [['load', 1, 1, 2], ['step', 1, 1, 2]]);
  assert.deepEqual([p.finished, p.erred, p.allDone], [1, 1, true]);
});

test('keys the scheduler does not know are counted apart and keep allDone false', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.runAll(h.submit([load('a')]));
  const p = h.s.progress(['a', 'never-submitted']);
  assert.deepEqual([p.keys, p.finished, p.unknown, p.allDone], [2, 1, 1, false]);
  assert.deepEqual(p.groups.map((g) => g.total), [1]);
  assert.deepEqual(h.s.progress([]), { groups: [], keys: 0, finished: 0, erred: 0, unknown: 0, allDone: true });
});

test('a lost result being recomputed is no longer done', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.addWorker('w2');
  h.runAll(h.submit([load('a', { resources: {} })], ['a']));
  const holder = h.s.whoHas('a')[0]!;
  h.removeWorker(holder);
  const p = h.s.progress(['a']);
  assert.notEqual(h.s.taskState('a'), 'memory');
  assert.equal(p.groups[0]!.done, 0, `state ${h.s.taskState('a')}`);
  assert.equal(p.allDone, false);
});
