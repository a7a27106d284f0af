// Work stealing in the pure scheduler: rebalance asks busy workers to give up tasks sent
// ahead, for workers with free threads; the victim's answer (rejected or finished) settles it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SchedulerMessage } from '../../scheduler/state/types.js';
import { addr, computed, Harness, of, task } from './scheduler-harness.js';

/** "victim:key" for each steal, in order. */
const steals = (msgs: SchedulerMessage[]): string[] => of(msgs, 'steal').map((m) => `${m.workerId}:${m.key}`);

const rebalance = (h: Harness): SchedulerMessage[] => h.ev({ type: 'rebalance' });

const reject = (h: Harness, workerId: string, key: string): SchedulerMessage[] =>
  h.ev({ type: 'task-rejected', workerId, key, reason: 'stolen' });

/** w1 (1 thread) holds x and runs `n` tasks depending on it, all sent to it at once. */
function busyWorker(n: number, nbytes = 1000): Harness {
  const h = new Harness();
  h.addWorker('w1', 1);
  h.submit([task('x')]);
  h.finish('w1', 'x', nbytes);
  const out = h.submit(Array.from({ length: n }, (_, i) => task(`m${i}`, ['x'])));
  assert.equal(computed(out).length, n);
  return h;
}

test('pipelined short tasks: a new idle worker steals up to its free threads, the last to run first', () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  const keys = Array.from({ length: 41 }, (_, i) => `tiny-${i}`);
  h.submit(keys.map((k) => task(k, [], { group: 'tiny' })));
  h.finish('w1', 'tiny-0', 8, 0.5);
  assert.equal(h.s.processingOn('w1').length, 40);
  assert.equal(h.s.counts().queued, 0);

  assert.deepEqual(computed(h.addWorker('w2', 4)), []);
  assert.deepEqual(steals(rebalance(h)), ['w1:tiny-40', 'w1:tiny-39', 'w1:tiny-38', 'w1:tiny-37']);
  assert.deepEqual(steals(rebalance(h)), [], 'pending steals count toward the thief and are not asked twice');

  // Given up: it runs on the thief. Already running on the victim: its result is simply taken.
  assert.deepEqual(computed(reject(h, 'w1', 'tiny-40')), ['w2:tiny-40']);
  assert.deepEqual(computed(h.finish('w1', 'tiny-39', 8, 0.5)), []);
  assert.equal(h.s.taskState('tiny-39'), 'memory');
  assert.deepEqual(h.s.whoHas('tiny-39'), ['w1']);
  // The thief still has one thread free (one task there, two steals pending).
  assert.deepEqual(steals(rebalance(h)), ['w1:tiny-36']);

  const out = [...reject(h, 'w1', 'tiny-38'), ...reject(h, 'w1', 'tiny-37'), ...reject(h, 'w1', 'tiny-36')];
  assert.deepEqual(computed(out), ['w2:tiny-38', 'w2:tiny-37', 'w2:tiny-36']);
  for (const k of h.s.processingOn('w2')) h.finish('w2', k, 8, 0.5);
  for (const k of h.s.processingOn('w1')) h.finish('w1', k, 8, 0.5);
  assert.equal(h.s.counts().memory, 41);
  assert.equal(h.s.counts().processing, 0);
});

test('tasks with dependencies: the stolen task computes on the thief, fetching its input', () => {
  const h = busyWorker(10);
  h.addWorker('w2', 2);
  assert.deepEqual(steals(rebalance(h)), ['w1:m9', 'w1:m8']);
  const out = reject(h, 'w1', 'm9');
  assert.deepEqual(of(out, 'compute'), [{ type: 'compute', workerId: 'w2', key: 'm9', whoHas: { x: [addr('w1')] }, reportValue: true }]);
  assert.equal(h.s.counts().processing, 10, 'moved, not duplicated');
  h.finish('w2', 'm9');
  assert.equal(h.s.taskState('m9'), 'memory');
  // m8 had started on w1: it finishes there and the thief's thread is free again.
  h.finish('w1', 'm8');
  assert.deepEqual(h.s.whoHas('m8'), ['w1']);
  assert.deepEqual(steals(rebalance(h)), ['w1:m7', 'w1:m6']);
});

test('nothing is stolen while queued root tasks could go to the idle workers', () => {
  const h = new Harness({ workerSaturation: 0.5 });
  h.addWorker('w1', 1);
  h.submit([task('x')]);
  h.finish('w1', 'x', 1000);
  h.submit(Array.from({ length: 6 }, (_, i) => task(`m${i}`, ['x'])));
  const roots = Array.from({ length: 10 }, (_, i) => `r${i}`);
  h.submit(roots.map((k) => task(k)));
  assert.deepEqual(computed(h.addWorker('w2', 4)), ['w2:r0', 'w2:r1']);
  assert.ok(h.s.counts().queued > 0);
  assert.deepEqual(steals(rebalance(h)), []);
  h.release(roots);
  assert.equal(h.s.counts().queued, 0);
  assert.deepEqual(steals(rebalance(h)), ['w1:m5', 'w1:m4', 'w1:m3', 'w1:m2']);
});

test('resources: a thief only steals what it can run, holding resources for pending steals', () => {
  const h = new Harness();
  h.addWorker('w1', 1, { GPU: 8 });
  h.submit([task('x')]);
  h.finish('w1', 'x', 1000);
  h.submit(Array.from({ length: 6 }, (_, i) => task(`p${i}`, ['x'])));
  h.submit(Array.from({ length: 4 }, (_, i) => task(`g${i}`, ['x'], { resources: { GPU: 1 } })));
  assert.equal(h.s.processingOn('w1').length, 10);
  h.addWorker('cpu', 4);
  h.addWorker('gpu', 2, { GPU: 1 });
  const asked = steals(rebalance(h));
  assert.deepEqual(asked, ['w1:p5', 'w1:p4', 'w1:p3', 'w1:p2', 'w1:g3', 'w1:p1']);
  const out = asked.flatMap((s) => reject(h, 'w1', s.slice(3)));
  assert.deepEqual(computed(out).sort(), ['cpu:p2', 'cpu:p3', 'cpu:p4', 'cpu:p5', 'gpu:g3', 'gpu:p1']);
});

test('cheap moves first; tasks whose input takes longer to move than to wait for stay', () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  h.submit([task('small'), task('big')]);
  h.finish('w1', 'small', 1000);
  h.finish('w1', 'big', 5e6);
  h.submit(Array.from({ length: 3 }, (_, i) => task(`s${i}`, ['small'])));
  h.submit(Array.from({ length: 3 }, (_, i) => task(`b${i}`, ['big'])));
  h.addWorker('w2', 1);
  assert.deepEqual(steals(rebalance(h)), ['w1:s2'], 'the big-input tasks would run last, but cost more to move');

  const huge = busyWorker(3, 1e9);
  huge.addWorker('w2', 1);
  assert.deepEqual(steals(rebalance(huge)), [], '10 s to fetch 1 GB, 1.5 s to wait');
});

test('a victim or thief leaving settles its pending steals', () => {
  const h = busyWorker(6);
  h.addWorker('w2', 1);
  h.addWorker('w3', 1);
  assert.deepEqual(steals(rebalance(h)), ['w1:m5', 'w1:m4']);
  // The thief leaves: the victim's answer still moves the task, to wherever it starts soonest.
  h.removeWorker('w2');
  assert.deepEqual(computed(reject(h, 'w1', 'm5')), ['w3:m5']);
  assert.deepEqual(steals(rebalance(h)), [], 'w3 is busy with m5; m4 is still asked for');
  // The victim leaves: its tasks, stolen or not, are rescheduled (x, only there, recomputed).
  const all = h.runAll([...h.removeWorker('w1'), ...h.finish('w3', 'm5')]);
  assert.ok(computed(all).every((c) => c.startsWith('w3:')));
  assert.equal(h.s.counts().processing, 0);
  assert.equal(h.s.counts().memory, 7);
  assert.deepEqual(steals(rebalance(h)), []);
});

test('tasks that stay with their data: placed where their input is, however busy, and never stolen', () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  h.addWorker('w2', 1);
  h.submit([task('shard-a'), task('shard-b'), task('small')]);
  h.finish('w1', 'shard-a', 1e5);
  h.finish('w1', 'shard-b', 1e5);
  h.finish('w2', 'small', 10);
  // Ordinary tasks on those inputs spread over both workers (fetching them is cheap)...
  const free = Array.from({ length: 6 }, (_, i) => task(`free-${i}`, [i % 2 ? 'shard-b' : 'shard-a']));
  assert.ok(computed(h.submit(free)).some((c) => c.startsWith('w2:')), 'ordinary tasks go to w2 too');
  // ...those that stay with their data all go to the busy w1; one that also reads w2's small
  // value, which no other task reads, stays with that one (shard-a is read by many tasks).
  const runs = Array.from({ length: 6 }, (_, i) => task(`run-${i}`, [i % 2 ? 'shard-b' : 'shard-a'], { stayWithData: true }));
  const mixed = task('mixed', ['small', 'shard-a'], { stayWithData: true });
  assert.deepEqual(computed(h.submit([...runs, mixed])).sort(), [...runs.map((t) => `w1:${t.key}`), 'w2:mixed'].sort());
  for (const key of h.s.processingOn('w2')) h.finish('w2', key);
  const stolen = steals(rebalance(h));
  assert.ok(stolen.length > 0, 'the idle w2 steals');
  assert.ok(stolen.every((s) => s.startsWith('w1:free-')), `only ordinary tasks are stolen: ${stolen.join(', ')}`);
});

test('a task that stays with its data stays with its own input, not with a bigger one every task shares', () => {
  const h = new Harness();
  h.addWorker('w1', 4);
  h.addWorker('w2', 4);
  h.submit([task('model'), task('part-a'), task('part-b')]);
  h.finish('w1', 'model', 1e7); // read by every scoring task below, and the biggest value
  h.finish('w1', 'part-a', 1e5);
  h.finish('w2', 'part-b', 1e5);
  const scoring = [task('score-a', ['part-a', 'model'], { stayWithData: true }), task('score-b', ['part-b', 'model'], { stayWithData: true })];
  assert.deepEqual(computed(h.submit(scoring)).sort(), ['w1:score-a', 'w2:score-b']);
  // A task whose every input others read too stays with its largest.
  h.submit([task('other', ['part-b'])]);
  assert.deepEqual(computed(h.submit([task('both', ['part-b', 'model'], { stayWithData: true })])), ['w1:both']);
});
