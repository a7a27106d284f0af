// Rebalancing data in the pure scheduler (balance-data): keys move from workers holding more
// than their share to workers holding less, by copy then free; each request ends with
// balance-data-done once its moves have ended, moved or abandoned.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SchedulerMessage } from '../../scheduler/state/types.js';
import { addr, freed, Harness, of, task } from './scheduler-harness.js';

/** "recipient:key<-holders" for each replicate, in order. */
const replicated = (msgs: SchedulerMessage[]): string[] =>
  of(msgs, 'replicate').map((m) => `${m.workerId}:${m.key}<-${m.from.join(',')}`);

const done = (msgs: SchedulerMessage[]) => of(msgs, 'balance-data-done').map(({ requestId, moved, bytes, dropped, abandoned }) => ({ requestId, moved, bytes, dropped, abandoned }));

const balance = (h: Harness, requestId: string, keys: string[] | null = null) => h.ev({ type: 'balance-data', requestId, keys });

const added = (h: Harness, workerId: string, ...keys: string[]): SchedulerMessage[] =>
  h.ev({ type: 'keys-added', workerId, keys, nbytes: keys.map(() => 100) });

/** Workers w1..wn (threads as given); keys p0.. computed where `on` says, `bytes` each. */
function persisted(threads: number[], on: string[], bytes: number[] = on.map(() => 100)): Harness {
  const h = new Harness();
  threads.forEach((n, i) => h.addWorker(`w${i + 1}`, n));
  h.submit(on.map((_, i) => task(`p${i}`)));
  on.forEach((ws, i) => h.finish(ws, `p${i}`, bytes[i]));
  return h;
}

const holders = (h: Harness, n: number) => Array.from({ length: n }, (_, i) => h.s.whoHas(`p${i}`).join('+'));

test('four partitions on one worker and two on the other: one moves, by a copy and then a free', () => {
  const h = persisted([1, 1], ['w1', 'w1', 'w1', 'w1', 'w2', 'w2']);
  const out = balance(h, 'r1');
  assert.equal(of(out, 'replicate').length, 1);
  const [m] = of(out, 'replicate');
  assert.equal(m!.workerId, 'w2');
  assert.deepEqual(m!.from, [addr('w1')]);
  assert.deepEqual(done(out), [], 'not done before the copy arrives');
  assert.deepEqual(freed(out), [], 'nothing freed before the copy arrives');

  const after = added(h, 'w2', m!.key);
  assert.deepEqual(freed(after), [`w1:${m!.key}`]);
  assert.deepEqual(h.s.whoHas(m!.key), ['w2']);
  assert.deepEqual(done(after), [{ requestId: 'r1', moved: 1, bytes: 100, dropped: 0, abandoned: 0 }]);
  assert.equal(holders(h, 6).filter((w) => w === 'w1').length, 3);
  assert.equal(h.s.taskState(m!.key), 'memory');
});

test('an even spread, or one within half a key, is left as it is and the request ends at once', () => {
  const even = persisted([1, 1], ['w1', 'w2', 'w1', 'w2']);
  assert.deepEqual(done(balance(even, 'a')), [{ requestId: 'a', moved: 0, bytes: 0, dropped: 0, abandoned: 0 }]);
  // 3 and 2 keys of 100 bytes: moving one would only swap the sides.
  const odd = persisted([1, 1], ['w1', 'w1', 'w1', 'w2', 'w2']);
  const out = balance(odd, 'b');
  assert.deepEqual(replicated(out), []);
  assert.deepEqual(done(out), [{ requestId: 'b', moved: 0, bytes: 0, dropped: 0, abandoned: 0 }]);
});

test('shares follow threads, and the largest keys move first', () => {
  // w1 (1 thread) holds all 600 bytes; w2 has 2 threads: its share is 400.
  const h = persisted([1, 2], ['w1', 'w1', 'w1', 'w1'], [300, 100, 100, 100]);
  const out = balance(h, 'r');
  assert.deepEqual(replicated(out), [`w2:p0<-${addr('w1')}`, `w2:p1<-${addr('w1')}`]);
  added(h, 'w2', 'p0');
  assert.deepEqual(done(added(h, 'w2', 'p1')), [{ requestId: 'r', moved: 2, bytes: 400, dropped: 0, abandoned: 0 }]);
  assert.deepEqual(holders(h, 4), ['w2', 'w2', 'w1', 'w1']);
});

test('a worker that joined after the persist gets its share; only the keys asked about move', () => {
  const h = persisted([1, 1], ['w1', 'w2', 'w1', 'w2', 'w1', 'w2']);
  h.addWorker('w3');
  const out = balance(h, 'r', ['p0', 'p1', 'p2', 'p3']);
  const keys = of(out, 'replicate').map((m) => m.key);
  assert.equal(keys.length, 1, '4 keys over 3 workers: one moves to w3');
  assert.ok(['p0', 'p1', 'p2', 'p3'].includes(keys[0]!));
  assert.equal(of(out, 'replicate')[0]!.workerId, 'w3');
  const all = balance(h, 'everything');
  assert.deepEqual(of(all, 'replicate').map((m) => m.workerId), ['w3'], 'every key: w3 gets a second');
});

test('a key a task on the sender is reading stays', () => {
  const h = persisted([1, 1], ['w1', 'w1', 'w1', 'w1']);
  h.submit([task('use1', ['p0'])]); // processing on w1, reading p0 (the first candidate)
  assert.deepEqual(h.s.processingOn('w1'), ['use1']);
  const moved = of(balance(h, 'r'), 'replicate').map((m) => m.key);
  assert.deepEqual(moved.sort(), ['p1', 'p2']);
});

test('no copy of a key is freed while a task on another worker may fetch it from there', () => {
  // w1 holds p0..p3; p0 is also on w2. A task reading p0 and p1 with a big input (p4) on w3
  // runs on w3, told where p0 and p1 are: neither may lose a copy before it has fetched them.
  const h = persisted([1, 1, 1], ['w1', 'w1', 'w1', 'w1', 'w3'], [100, 100, 100, 100, 10_000]);
  added(h, 'w2', 'p0');
  h.submit([task('reader', ['p4', 'p0', 'p1'])]);
  const on = 'w3';
  assert.deepEqual(h.s.processingOn(on), ['reader'], 'with its biggest input');
  const out = balance(h, 'r', ['p0', 'p1', 'p2', 'p3']);
  const touched = [...freed(out), ...of(out, 'replicate').map((m) => `${m.workerId}:${m.key}`)];
  assert.ok(!touched.some((t) => t.endsWith(':p0') || t.endsWith(':p1')), `touched ${touched.join(', ')}`);
  assert.deepEqual(h.s.whoHas('p0').sort(), ['w1', 'w2']);
  // Once the reader is done the pins are gone.
  h.finish(on!, 'reader');
  const later = balance(h, 's', ['p0', 'p1', 'p2', 'p3']);
  assert.ok(freed(later).some((t) => t.endsWith(':p0')), `p0's extra copy is freed now: ${freed(later).join(', ')}`);
});

test('extra copies are freed at once, kept on the holder with the fewest bytes, before anything moves', () => {
  // A compute gathered every partition on w1: p2 and p3 live on w2 and also on w1.
  const h = persisted([1, 1], ['w1', 'w1', 'w2', 'w2']);
  added(h, 'w1', 'p2', 'p3');
  const out = balance(h, 'r');
  assert.deepEqual(freed(out).sort(), ['w1:p2', 'w1:p3']);
  assert.deepEqual(replicated(out), [], 'two keys each: nothing to move');
  assert.deepEqual(done(out), [{ requestId: 'r', moved: 0, bytes: 0, dropped: 2, abandoned: 0 }]);
  assert.deepEqual(holders(h, 4), ['w1', 'w1', 'w2', 'w2']);

  // All four on w1, two of them also on w2: w1 frees those two, and nothing needs to move.
  const g = persisted([1, 1], ['w1', 'w1', 'w1', 'w1']);
  added(g, 'w2', 'p0', 'p1');
  const o2 = balance(g, 'r');
  assert.deepEqual(freed(o2).sort(), ['w1:p0', 'w1:p1']);
  assert.deepEqual(replicated(o2), []);
  // A copy a task is reading stays where it is read.
  const k = persisted([1, 1], ['w1', 'w1', 'w2', 'w2']);
  added(k, 'w1', 'p2');
  k.submit([task('reader', ['p2'])]);
  const reading = k.s.processingOn('w1').includes('reader') ? 'w1' : 'w2';
  const o3 = balance(k, 'r');
  assert.ok(!freed(o3).includes(`${reading}:p2`), `freed ${freed(o3).join(',')}`);
});

test('the sender keeps its copy when a task there started reading the key during the copy', () => {
  const h = persisted([1, 1], ['w1', 'w1', 'w1', 'w2']);
  const moves = of(balance(h, 'r'), 'replicate');
  assert.equal(moves.length, 1);
  const key = moves[0]!.key;
  h.submit([task('late-reader', [key])]);
  assert.deepEqual(h.s.processingOn('w1'), ['late-reader'], 'placed where its input is');
  const out = added(h, 'w2', key);
  assert.deepEqual(done(out), [{ requestId: 'r', moved: 1, bytes: 100, dropped: 0, abandoned: 0 }]);
  assert.deepEqual(freed(out), []);
  assert.deepEqual(h.s.whoHas(key).sort(), ['w1', 'w2']);
});

test('moves end abandoned when the recipient leaves, the key is released, or the deadline passes', () => {
  const h = persisted([1, 1, 1], ['w1', 'w1', 'w1', 'w1', 'w1', 'w1']);
  const out = balance(h, 'r');
  const moves = of(out, 'replicate');
  assert.equal(moves.length, 4);
  const toW2 = moves.filter((m) => m.workerId === 'w2').map((m) => m.key);
  const toW3 = moves.filter((m) => m.workerId === 'w3').map((m) => m.key);
  assert.deepEqual([toW2.length, toW3.length], [2, 2]);

  added(h, 'w3', toW3[0]!); // one arrives
  h.release([toW3[1]!]); // one is dropped by its client
  assert.equal(h.s.taskState(toW3[1]!), undefined);
  const gone = h.removeWorker('w2'); // the recipient of two leaves
  assert.deepEqual(done(gone), [{ requestId: 'r', moved: 1, bytes: 100, dropped: 0, abandoned: 3 }]);
  assert.equal(h.s.taskState(toW2[0]!), 'memory', 'its data is still on w1');
  assert.deepEqual(h.s.whoHas(toW2[0]!), ['w1']);

  const again = balance(h, 's');
  const pending = of(again, 'replicate');
  assert.ok(pending.length > 0);
  const expired = h.ev({ type: 'balance-data-expired', requestId: 's' });
  assert.deepEqual(done(expired), [{ requestId: 's', moved: 0, bytes: 0, dropped: 0, abandoned: pending.length }]);
  // A copy arriving after the deadline stays a replica; nothing is freed.
  const late = added(h, pending[0]!.workerId, pending[0]!.key);
  assert.deepEqual(freed(late), []);
  assert.equal(h.s.whoHas(pending[0]!.key).length, 2);
  assert.deepEqual(done(h.ev({ type: 'balance-data-expired', requestId: 's' })), [], 'an ended request stays ended');
});

test('retiring workers neither send nor receive; keys already moving are not planned twice', () => {
  const h = persisted([1, 1, 1], ['w1', 'w1', 'w1', 'w1', 'w2', 'w2']);
  h.ev({ type: 'retire-workers', workerIds: ['w3'] });
  const first = of(balance(h, 'a'), 'replicate');
  assert.deepEqual(first.map((m) => m.workerId), ['w2']);
  const second = balance(h, 'b');
  assert.deepEqual(replicated(second), [], 'the one key to move is moving already');
  assert.deepEqual(done(second), [{ requestId: 'b', moved: 0, bytes: 0, dropped: 0, abandoned: 0 }]);
  assert.deepEqual(done(added(h, 'w2', first[0]!.key)), [{ requestId: 'a', moved: 1, bytes: 100, dropped: 0, abandoned: 0 }]);
});
