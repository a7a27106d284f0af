// The pure scheduler when things go wrong: errors, retries, cancel, lost workers and data,
// stale reports, and the transition table's guard.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Core } from '../../scheduler/state/core.js';
import { InvalidTransition } from '../../scheduler/state/errors.js';
import { transition } from '../../scheduler/state/transitions.js';
import { addr, computed, freed, Harness, of, task, told } from './scheduler-harness.js';

test('retries: the task reruns until its retries are spent, then errs', () => {
  const h = new Harness();
  h.addWorker('w1');
  assert.deepEqual(computed(h.submit([task('r', [], { retries: 2 })])), ['w1:r']);
  assert.deepEqual(computed(h.fail('w1', 'r')), ['w1:r']);
  assert.deepEqual(computed(h.fail('w1', 'r')), ['w1:r']);
  const last = h.fail('w1', 'r', 'third time');
  assert.deepEqual(computed(last), []);
  const [msg] = of(last, 'client-key');
  assert.equal(msg?.state, 'erred');
  assert.equal(msg?.error?.message, 'third time');
  assert.equal(msg?.error?.name, 'TypeError');
  assert.equal(h.s.taskState('r'), 'erred');
});

test('an error reaches every dependent, transitively, naming the failed dependency', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.submit([task('a'), task('b', ['a']), task('c', ['b']), task('d', ['a'])], ['c', 'd']);
  const out = h.fail('w1', 'a', 'boom');
  assert.deepEqual(told(out).sort(), ['c1:c:erred', 'c1:d:erred']);
  for (const m of of(out, 'client-key')) {
    assert.equal(m.error?.name, 'TypeError');
    assert.equal(m.error?.message, 'dependency "a" failed: boom');
    assert.match(m.error?.stack ?? '', /at f \(task\.js/);
  }
  assert.equal(h.s.taskState('c'), 'erred');
  assert.equal(h.s.taskState('a'), 'released', 'nobody wants a itself');
  assert.equal(h.s.counts().processing, 0);
  // New work on top of an erred key errs at once.
  assert.deepEqual(told(h.submit([task('e', ['c'])])), ['c1:e:erred']);
  // Releasing the erred keys forgets everything.
  h.release(['c', 'd', 'e']);
  assert.equal(h.s.knownKey('a'), false);
});

test('cancel: drops this client and downstream keys, stops work nobody else needs', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.submit([task('a'), task('b', ['a'])], ['a', 'b'], 'c1');
  h.submit([task('a')], ['a'], 'c2');
  assert.equal(h.s.taskState('a'), 'processing');

  const c1 = h.ev({ type: 'cancel', clientId: 'c1', keys: ['a'] });
  assert.deepEqual(told(c1).sort(), ['c1:a:cancelled', 'c1:b:cancelled']);
  assert.deepEqual(of(c1, 'cancel-compute'), [], 'c2 still wants a');
  assert.equal(h.s.knownKey('b'), false);
  assert.equal(h.s.taskState('a'), 'processing');

  const c2 = h.ev({ type: 'cancel', clientId: 'c2', keys: ['a'] });
  assert.deepEqual(c2, [
    { type: 'client-key', clientId: 'c2', key: 'a', state: 'cancelled' },
    { type: 'cancel-compute', workerId: 'w1', key: 'a' },
  ]);
  assert.equal(h.s.knownKey('a'), false);
  assert.deepEqual(h.s.processingOn('w1'), []);
  // The worker finished it anyway: told to drop the result.
  assert.deepEqual(h.finish('w1', 'a'), [{ type: 'free-keys', workerId: 'w1', keys: ['a'] }]);

  // Cancelling a key in memory frees its copies.
  h.runAll(h.submit([task('m')]));
  assert.deepEqual(freed(h.ev({ type: 'cancel', clientId: 'c1', keys: ['m'] })), ['w1:m']);
});

test('client-disconnected releases everything the client held', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.submit([task('done'), task('run'), task('wait', ['run']), task('q1'), task('q2')]);
  h.finish('w1', 'done');
  assert.deepEqual([h.s.taskState('run'), h.s.taskState('q1')], ['processing', 'processing']);
  const out = h.ev({ type: 'client-disconnected', clientId: 'c1' });
  assert.deepEqual(of(out, 'cancel-compute').map((m) => m.key).sort(), ['q1', 'run']);
  assert.deepEqual(freed(out), ['w1:done']);
  assert.deepEqual(computed(out), [], 'queued work is dropped, not started');
  const counts = h.s.counts();
  assert.deepEqual(counts, { ...counts, released: 0, waiting: 0, queued: 0, processing: 0, memory: 0, memoryBytes: 0 });
});

test('worker lost mid-graph: its work is rescheduled and its data recomputed from lineage', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.addWorker('w2');
  h.submit([task('a'), task('b'), task('c', ['a', 'b']), task('d', ['c'])], ['d']);
  h.finish('w1', 'a', 10);
  assert.deepEqual(computed(h.finish('w2', 'b', 100)), ['w2:c']);
  const afterC = h.finish('w2', 'c', 100);
  assert.deepEqual(computed(afterC), ['w2:d']);
  assert.deepEqual(freed(afterC).sort(), ['w1:a', 'w2:b']);

  const lost = h.removeWorker('w2');
  assert.deepEqual(computed(lost), ['w1:a', 'w1:b'], 'c is recomputed from a and b, which are recomputed too');
  assert.equal(h.s.taskState('c'), 'waiting');
  assert.equal(h.s.taskState('d'), 'waiting');
  assert.ok(h.s.story('c').some((e) => e.from === 'memory' && e.to === 'released'));
  const rest = h.runAll(lost);
  assert.deepEqual(told(rest), ['c1:d:finished']);
  assert.deepEqual(h.s.whoHas('d'), ['w1']);
});

test('with no worker left, work waits as no-worker and resumes when one joins', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.submit([task('a'), task('b', ['a'])], ['b']);
  h.finish('w1', 'a');
  h.removeWorker('w1', true);
  assert.equal(h.s.counts().noWorker, 1);
  assert.equal(h.s.taskState('b'), 'waiting');
  assert.deepEqual(told(h.runAll(h.addWorker('w2'))), ['c1:b:finished']);
});

test('KilledWorker after the task was on 3 workers that died; graceful exits do not count', () => {
  const h = new Harness();
  h.submit([task('k')]);
  const removals: string[][] = [];
  for (const [w, graceful] of [['w1', false], ['w2', true], ['w3', false], ['w4', false]] as const) {
    assert.deepEqual(computed(h.addWorker(w)), [`${w}:k`]);
    removals.push(told(h.removeWorker(w, graceful)));
  }
  assert.deepEqual(removals, [[], [], [], ['c1:k:erred']]);
  assert.equal(h.s.taskState('k'), 'erred');
  assert.deepEqual(computed(h.addWorker('w5')), [], 'an erred task is not retried on new workers');
  const err = h.s.taskError('k');
  assert.equal(err?.name, 'KilledWorker');
  assert.equal(err?.message, 'task "k" was running on 3 workers that died (last: w4-name); it may be crashing them');
});

test('missing-data: holders dropped, the dependency recomputed, the task rescheduled', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.addWorker('w2');
  h.submit([task('a'), task('big', [], { priority: 1 }), task('b', ['a', 'big'])], ['b']);
  h.finish('w1', 'big', 1000);
  const [b] = of(h.finish('w2', 'a', 10), 'compute');
  assert.deepEqual(b, { type: 'compute', workerId: 'w1', key: 'b', whoHas: { a: [addr('w2')], big: [addr('w1')] }, reportValue: true });
  const out = h.ev({ type: 'missing-data', workerId: 'w1', key: 'b', missing: ['a'] });
  assert.deepEqual(freed(out), ['w2:a'], 'the named holder is told to drop its copy');
  assert.equal(computed(out).length, 1);
  assert.equal(of(out, 'compute')[0]?.key, 'a');
  assert.equal(h.s.taskState('b'), 'waiting');
  assert.deepEqual(told(h.runAll(out)), ['c1:b:finished']);
  // A stale report about a task no longer running there changes nothing.
  assert.deepEqual(h.ev({ type: 'missing-data', workerId: 'w2', key: 'b', missing: ['a'] }), []);
});

test('task-rejected: rescheduled on another worker; the stale finish from the first still counts', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.addWorker('w2');
  h.submit([task('x'), task('y', ['x'])], ['y']);
  assert.deepEqual(computed(h.finish('w1', 'x', 10)), ['w1:y']);
  const rejected = h.ev({ type: 'task-rejected', workerId: 'w1', key: 'y', reason: 'closing' });
  assert.deepEqual(rejected, [{ type: 'compute', workerId: 'w2', key: 'y', whoHas: { x: [addr('w1')] }, reportValue: true }],
    'x is kept (no free-keys, no recompute): the rescheduled y still needs it');
  // w1 ran it after all: accepted as the result, w2 told to stop, x no longer needed.
  const out = h.finish('w1', 'y');
  assert.deepEqual(of(out, 'cancel-compute'), [{ type: 'cancel-compute', workerId: 'w2', key: 'y' }]);
  assert.deepEqual(told(out), ['c1:y:finished']);
  assert.deepEqual(freed(out), ['w1:x']);
  assert.deepEqual(h.s.processingOn('w2'), []);
  // And w2's late result becomes a replica.
  assert.deepEqual(h.finish('w2', 'y'), []);
  assert.deepEqual(h.s.whoHas('y').sort(), ['w1', 'w2']);
});

test('stale and odd reports never throw', () => {
  const h = new Harness();
  h.addWorker('w1');
  assert.deepEqual(h.finish('w1', 'never-seen'), [{ type: 'free-keys', workerId: 'w1', keys: ['never-seen'] }]);
  assert.deepEqual(h.finish('ghost', 'never-seen'), []);
  assert.deepEqual(h.fail('w1', 'never-seen'), []);
  assert.deepEqual(h.ev({ type: 'task-rejected', workerId: 'w1', key: 'zzz', reason: '' }), []);
  assert.deepEqual(h.removeWorker('ghost'), []);
  assert.deepEqual(h.release(['zzz'], 'nobody'), []);
  assert.deepEqual(h.ev({ type: 'keys-added', workerId: 'w1', keys: ['zzz'], nbytes: [1] }), [
    { type: 'free-keys', workerId: 'w1', keys: ['zzz'] },
  ]);
  // A task erred by a worker it was not sent to is ignored.
  h.addWorker('w2');
  h.submit([task('t')]);
  const on = h.s.processingOn('w1').includes('t') ? 'w2' : 'w1';
  assert.deepEqual(h.fail(on, 't'), []);
  assert.equal(h.s.taskState('t'), 'processing');
});

test('keys-added records replicas', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.addWorker('w2');
  h.runAll(h.submit([task('a')]));
  assert.deepEqual(h.ev({ type: 'keys-added', workerId: 'w2', keys: ['a'], nbytes: [100] }), []);
  assert.deepEqual(h.s.whoHas('a'), ['w1', 'w2']);
  assert.deepEqual(h.s.heldBy('w2'), ['a']);
  assert.deepEqual(h.removeWorker('w1'), [], 'a replica survives: nothing to recompute');
  assert.equal(h.s.taskState('a'), 'memory');
});

test('scattered data: finished at once, used by tasks, reported lost when its only holder dies', () => {
  const h = new Harness();
  h.addWorker('w1');
  const sc = h.ev({ type: 'scattered', clientId: 'c1', workerId: 'w1', keys: ['x'], nbytes: [64] });
  assert.deepEqual(sc, [{ type: 'client-key', clientId: 'c1', key: 'x', state: 'finished', nbytes: 64 }]);
  assert.equal(h.s.taskState('x'), 'memory');
  assert.deepEqual(of(h.submit([task('y', ['x'])]), 'compute'), [{ type: 'compute', workerId: 'w1', key: 'y', whoHas: { x: [addr('w1')] }, reportValue: true }]);
  const lost = h.removeWorker('w1');
  assert.deepEqual(told(lost).sort(), ['c1:x:lost', 'c1:y:erred']);
  const err = of(lost, 'client-key').find((m) => m.key === 'y')?.error;
  assert.equal(err?.name, 'DataLost');
  assert.match(err?.message ?? '', /^dependency "x" failed: key "x" was lost: .*no lineage/);
  assert.equal(h.s.taskState('y'), 'erred');
});

test('the transition table refuses what it does not list', () => {
  const c = new Core({ workerSaturation: 1.5, maxStory: 50, lostWorkerLimit: 3 });
  const ts = c.newTask(task('a'));
  c.begin('s-1');
  assert.throws(() => transition(c, ts, 'processing'), (e: unknown) =>
    e instanceof InvalidTransition && e.key === 'a' && e.from === 'released' && e.to === 'processing' && e.stimulusId === 's-1');
  assert.throws(() => transition(c, ts, 'queued'), InvalidTransition);
});

test('stories are bounded', () => {
  const h = new Harness({ maxStory: 3 });
  h.addWorker('w1');
  h.runAll(h.submit([task('a')]));
  h.release(['a']);
  const story = h.s.story('a');
  assert.equal(story.length, 3);
  assert.equal(story[2]?.to, 'forgotten');
  assert.throws(() => new Harness({ workerSaturation: 0 }), /workerSaturation/);
});
