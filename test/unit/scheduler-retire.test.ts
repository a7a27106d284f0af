// Graceful retirement in the pure scheduler: retiring workers get no new work, give back what
// they have not started, have the keys only they hold copied elsewhere, and are then retired;
// or they are refused and serve again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_RECIPIENT } from '../../scheduler/state/retirement.js';
import type { SchedulerMessage } from '../../scheduler/state/types.js';
import { addr, computed, Harness, of, task } from './scheduler-harness.js';

const retire = (h: Harness, ...workerIds: string[]): SchedulerMessage[] => h.ev({ type: 'retire-workers', workerIds });

/** "recipient:key<-holders" for each replicate, in order. */
const replicated = (msgs: SchedulerMessage[]): string[] =>
  of(msgs, 'replicate').map((m) => `${m.workerId}:${m.key}<-${m.from.join(',')}`);

const retired = (msgs: SchedulerMessage[]): string[] => of(msgs, 'worker-retired').map((m) => m.workerId);

const refused = (msgs: SchedulerMessage[]): Record<string, string> =>
  Object.fromEntries(of(msgs, 'retire-refused').map((m) => [m.workerId, m.reason]));

const added = (h: Harness, workerId: string, ...keys: string[]): SchedulerMessage[] =>
  h.ev({ type: 'keys-added', workerId, keys, nbytes: keys.map(() => 100) });

/** w1 and w2, one thread each; `a` computed on w1 only, `b` on both. */
function twoWorkers(): Harness {
  const h = new Harness();
  h.addWorker('w1');
  h.addWorker('w2');
  h.submit([task('a'), task('b')]);
  h.finish('w1', 'a');
  h.finish('w2', 'b');
  added(h, 'w1', 'b');
  assert.deepEqual(h.s.whoHas('a'), ['w1']);
  assert.deepEqual(h.s.whoHas('b').sort(), ['w1', 'w2']);
  return h;
}

test('only keys no other worker holds are copied; the worker retires once the copy is confirmed', () => {
  const h = twoWorkers();
  const out = retire(h, 'w1');
  assert.deepEqual(replicated(out), [`w2:a<-${addr('w1')}`]);
  assert.deepEqual(retired(out), [], 'not before the recipient has the key');
  assert.equal(h.s.retiring('w1'), true);
  assert.deepEqual(h.s.retirementProgress('w1'), { processing: 0, unsafeKeys: 1 });

  assert.deepEqual(replicated(h.submit([task('c')])), [], 'asked once');
  const done = added(h, 'w2', 'a');
  assert.deepEqual(retired(done), ['w1']);
  assert.equal(h.s.workerSummary('w1'), undefined, 'forgotten once retired');
  assert.deepEqual(h.s.whoHas('a'), ['w2']);
  assert.deepEqual(h.s.whoHas('b'), ['w2']);
  assert.equal(h.s.taskState('a'), 'memory');
  assert.deepEqual(computed(done), [], 'nothing recomputed');
  assert.deepEqual(retired(h.removeWorker('w1', true)), [], 'its hang-up changes nothing');
  assert.equal(h.s.taskState('a'), 'memory');
});

test('a retiring worker gets no new work; tasks it has not started are recalled, a running one finishes', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.submit([task('x')]);
  h.finish('w1', 'x');
  // Tasks with dependencies go out at once: w1 (holding x) gets all three.
  assert.deepEqual(computed(h.submit([task('m0', ['x']), task('m1', ['x']), task('m2', ['x'])])), ['w1:m0', 'w1:m1', 'w1:m2']);
  h.addWorker('w2', 2);
  h.ev({ type: 'rebalance' }); // w2 steals two of them
  assert.deepEqual(h.s.processingOn('w1').length, 3);

  const out = retire(h, 'w1');
  const steals = of(out, 'steal').map((m) => `${m.workerId}:${m.key}`);
  assert.deepEqual(steals, ['w1:m0'], 'the one not asked back yet');
  assert.deepEqual(replicated(out), [`w2:x<-${addr('w1')}`]);

  // m2 and m1 were not started: rescheduled on w2. m0 had started: it finishes on w1.
  const back = [
    ...h.ev({ type: 'task-rejected', workerId: 'w1', key: 'm2', reason: 'stolen' }),
    ...h.ev({ type: 'task-rejected', workerId: 'w1', key: 'm1', reason: 'stolen' }),
  ];
  assert.deepEqual(computed(back), ['w2:m2', 'w2:m1']);
  assert.deepEqual(computed(h.submit([task('y')])), ['w2:y'], 'new work goes to w2 only');
  assert.deepEqual(retired(added(h, 'w2', 'x')), [], 'm0 still runs there');
  const finished = h.finish('w1', 'm0');
  assert.deepEqual(replicated(finished), [`w2:m0<-${addr('w1')}`], 'its result is copied too');
  assert.deepEqual(retired(finished), []);
  assert.deepEqual(retired(added(h, 'w2', 'm0')), ['w1']);
  assert.deepEqual(h.s.story('m0').filter((s) => s.to === 'processing').length, 1, 'm0 ran once');
});

test('tasks that stay with their data are recalled from a retiring worker too, and follow the data', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.addWorker('w2');
  h.submit([task('shard')]);
  h.finish('w1', 'shard', 1e5);
  const runs = ['k0', 'k1', 'k2'].map((k) => task(k, ['shard'], { stayWithData: true }));
  assert.deepEqual(computed(h.submit(runs)), ['w1:k0', 'w1:k1', 'w1:k2']);
  const out = retire(h, 'w1');
  assert.deepEqual(of(out, 'steal').map((m) => `${m.workerId}:${m.key}`), ['w1:k0', 'w1:k1', 'w1:k2']);
  assert.deepEqual(replicated(out), [`w2:shard<-${addr('w1')}`]);
  assert.deepEqual(of(retire(h, 'w1'), 'steal'), [], 'asked again: not recalled twice');
  // k0 had started and finishes on w1; k1 and k2 go where the shard is not retiring.
  added(h, 'w2', 'shard');
  const back = [
    ...h.ev({ type: 'task-rejected', workerId: 'w1', key: 'k1', reason: 'stolen' }),
    ...h.ev({ type: 'task-rejected', workerId: 'w1', key: 'k2', reason: 'stolen' }),
  ];
  assert.deepEqual(computed(back), ['w2:k1', 'w2:k2']);
});

test('no other worker to take its data: refused, and it serves again', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.submit([task('a')]);
  h.finish('w1', 'a');
  const out = retire(h, 'w1');
  assert.deepEqual(refused(out), { w1: NO_RECIPIENT });
  assert.deepEqual(of(out, 'steal'), []);
  assert.equal(h.s.retiring('w1'), false);
  assert.deepEqual(computed(h.submit([task('b')])), ['w1:b']);
});

test('retiring every worker: those holding data are refused, an empty one retires (scale to zero)', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.addWorker('w2');
  h.submit([task('a')]);
  h.finish('w1', 'a');
  const out = retire(h, 'w1', 'w2');
  assert.deepEqual(refused(out), { w1: NO_RECIPIENT });
  assert.deepEqual(retired(out), ['w2']);
  assert.deepEqual(h.s.workerIds(), ['w1']);
});

test('an unknown worker is refused', () => {
  const h = new Harness();
  assert.deepEqual(refused(retire(h, 'nope')), { nope: 'no such worker' });
});

test('cancel-retirement (deadline) refuses with its reason and the worker takes work again', () => {
  const h = twoWorkers();
  retire(h, 'w1');
  const out = h.ev({ type: 'cancel-retirement', workerIds: ['w1'], reason: 'too slow' });
  assert.deepEqual(refused(out), { w1: 'too slow' });
  assert.equal(h.s.retiring('w1'), false);
  assert.deepEqual(retired(added(h, 'w2', 'a')), [], 'a late copy is just a replica');
  assert.deepEqual(h.s.whoHas('a').sort(), ['w1', 'w2']);
});

test('the recipient leaving before confirming: the key is copied to another', () => {
  const h = twoWorkers();
  h.addWorker('w3');
  added(h, 'w3', 'b'); // w2 and w3 hold one key each: w2, registered first, is picked
  const out = retire(h, 'w1');
  assert.deepEqual(replicated(out), [`w2:a<-${addr('w1')}`]);
  assert.deepEqual(replicated(h.removeWorker('w2')), [`w3:a<-${addr('w1')}`]);
  assert.deepEqual(retired(added(h, 'w3', 'a')), ['w1']);
});

test('the retiring worker dying: refused, and its data recomputed from lineage', () => {
  const h = twoWorkers();
  retire(h, 'w1');
  const out = h.removeWorker('w1');
  assert.match(refused(out).w1 ?? '', /left before its retirement finished/);
  assert.deepEqual(computed(out), ['w2:a']);
});

test('tasks only a retiring worker could run wait as no-worker, and return when it is refused', () => {
  const h = new Harness();
  h.addWorker('gpu', 1, { GPU: 1 });
  h.addWorker('cpu');
  h.submit([task('a')]);
  h.finish('gpu', 'a');
  retire(h, 'gpu');
  assert.deepEqual(computed(h.submit([task('g', [], { resources: { GPU: 1 } })])), []);
  assert.equal(h.s.taskState('g'), 'no-worker');
  const out = h.ev({ type: 'cancel-retirement', workerIds: ['gpu'], reason: 'deadline' });
  assert.deepEqual(computed(out), ['gpu:g']);
});

test('a key held only by workers retiring together is copied once, to a worker staying', () => {
  const h = twoWorkers(); // b is on w1 and w2
  h.addWorker('w3');
  const out = retire(h, 'w1', 'w2');
  assert.deepEqual(replicated(out).sort(), [`w3:a<-${addr('w1')}`, `w3:b<-${addr('w2')},${addr('w1')}`]); // b: holders in the order they got it
  added(h, 'w3', 'a');
  assert.deepEqual(retired(added(h, 'w3', 'b')).sort(), ['w1', 'w2']);
  assert.deepEqual(h.s.workerIds(), ['w3']);
});

test('a retiring worker with free threads steals nothing', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.submit([task('x')]);
  h.finish('w1', 'x');
  h.submit([task('m0', ['x']), task('m1', ['x']), task('m2', ['x'])]); // all sent to w1
  h.addWorker('w2', 4);
  h.ev({ type: 'scattered', clientId: 'c1', workerId: 'w2', keys: ['d'], nbytes: [10] }); // only w2 holds d
  assert.deepEqual(replicated(retire(h, 'w2')), [`w1:d<-${addr('w2')}`]);
  assert.deepEqual(of(h.ev({ type: 'rebalance' }), 'steal'), []);
  assert.deepEqual(retired(added(h, 'w1', 'd')), ['w2']);
});

test('a worker serving again after a refused retirement takes queued tasks behind the one it gave back', () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  h.addWorker('w2', 1);
  const roots = Array.from({ length: 6 }, (_, i) => task(`r${i}`));
  assert.deepEqual(computed(h.submit(roots)), ['w1:r0', 'w2:r1', 'w1:r2', 'w2:r3']);
  assert.deepEqual(of(retire(h, 'w1'), 'steal').map((m) => m.key), ['r0', 'r2']);
  h.finish('w1', 'r0'); // it had started
  h.ev({ type: 'task-rejected', workerId: 'w1', key: 'r2', reason: 'stolen' });
  assert.equal(h.s.taskState('r2'), 'queued', 'w2 is full');
  // Back in service and idle: r2 waits for another worker, but r4 and r5 behind it need not.
  const out = h.ev({ type: 'cancel-retirement', workerIds: ['w1'], reason: 'deadline passed' });
  assert.deepEqual(computed(out), ['w1:r4', 'w1:r5']);
  assert.deepEqual(computed(h.finish('w2', 'r1')), ['w2:r2']);
});
