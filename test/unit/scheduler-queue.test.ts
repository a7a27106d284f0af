// TaskHeap: the first item passing a test, searched best-first; and its self-check. And the
// ready queue in the scheduler: a worker takes the tasks queued behind those it gave back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TaskHeap, type HeapItem } from '../../scheduler/state/queue.js';
import { computed, Harness, of, task } from './scheduler-harness.js';

const item = (priority: number, seq: number): HeapItem & { name: string } => ({ priority, seq, heapIndex: -1, name: `p${priority}s${seq}` });

test('peekWhere finds the first item in run order that passes', () => {
  const heap = new TaskHeap<ReturnType<typeof item>>();
  const items = [item(0, 1), item(5, 2), item(3, 3), item(5, 4), item(1, 5), item(3, 6), item(9, 7)];
  for (const it of items) heap.push(it);
  const order = [...items].sort((a, b) => b.priority - a.priority || a.seq - b.seq).map((i) => i.name);
  for (let skip = 0; skip < order.length; skip++) {
    const passed = heap.peekWhere((it) => !order.slice(0, skip).includes(it.name));
    assert.equal(passed?.name, order[skip], `skipping the first ${skip}`);
  }
  assert.equal(heap.peekWhere(() => false), undefined);
  assert.equal(new TaskHeap().peekWhere(() => true), undefined);
  assert.equal(heap.problem(), undefined);
});

test('problem names a broken slot or order', () => {
  const heap = new TaskHeap<ReturnType<typeof item>>();
  const items = [item(1, 1), item(2, 2), item(3, 3)];
  for (const it of items) heap.push(it);
  (items[0] as { heapIndex: number }).heapIndex = 7;
  assert.match(heap.problem() ?? '', /records slot 7/);
  const sound = new TaskHeap<ReturnType<typeof item>>();
  const more = [item(3, 1), item(2, 2), item(1, 3)];
  for (const it of more) sound.push(it);
  (more[2] as { priority: number }).priority = 10;
  assert.match(sound.problem() ?? '', /should come out before its parent/);
});

test('peekWhere passes over any number of failing items, in run order', () => {
  const heap = new TaskHeap<ReturnType<typeof item>>();
  const n = 5000;
  // Shuffled priorities (a fixed permutation) so the heap is not simply sorted.
  const items = Array.from({ length: n }, (_, i) => item((i * 7919) % n, i));
  for (const it of items) heap.push(it);
  const order = [...items].sort((a, b) => b.priority - a.priority || a.seq - b.seq);
  for (const skip of [0, 1, 64, 65, 1000, n - 1]) {
    const failing = new Set(order.slice(0, skip));
    assert.equal(heap.peekWhere((it) => !failing.has(it)), order[skip], `skipping the first ${skip}`);
  }
});

const GIVEN_BACK = 200;

test(`a worker that gave back ${GIVEN_BACK} queued tasks at the head of a lane takes the tasks behind them`, () => {
  const h = new Harness({ workerSaturation: 1 });
  h.addWorker('w1', GIVEN_BACK); // GIVEN_BACK slots
  const mine = Array.from({ length: GIVEN_BACK }, (_, i) => task(`r${i}`));
  assert.equal(computed(h.submit(mine)).length, GIVEN_BACK);
  h.addWorker('w2', 1); // one slot, taken below, so nobody else can take what w1 gives back
  assert.deepEqual(computed(h.submit([task('busy')])), ['w2:busy']);
  // w1 gives every task back (as to a steal or a recall): each waits at the head of the lane
  // for another worker, so w1 stays empty.
  for (const t of mine) {
    assert.deepEqual(computed(h.ev({ type: 'task-rejected', workerId: 'w1', key: t.key, reason: 'stolen' })), []);
  }
  assert.equal(h.s.counts().queued, GIVEN_BACK);
  assert.deepEqual(h.s.processingOn('w1'), []);
  // New tasks queue behind them: w1 takes them all at once.
  const behind = Array.from({ length: 10 }, (_, i) => task(`n${i}`));
  assert.deepEqual(computed(h.submit(behind)), behind.map((t) => `w1:${t.key}`));
  // What w1 gave back goes to w2, in order, as its slot frees.
  const out = h.finish('w2', 'busy');
  assert.deepEqual(of(out, 'compute').map((m) => `${m.workerId}:${m.key}`), ['w2:r0']);
});
