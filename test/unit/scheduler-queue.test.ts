// Lanes of the ready queue: the first task in run order, or the first a worker did not give
// back; the heap's self-check; and in the scheduler, a worker takes the tasks queued behind
// any number it gave back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lane, TaskHeap, type HeapItem } from '../../scheduler/state/queue.js';
import { computed, Harness, of, task } from './scheduler-harness.js';

const item = (priority: number, seq: number): HeapItem & { name: string } => ({ priority, seq, heapIndex: -1, name: `p${priority}s${seq}` });

test('a lane: the first in run order, or the first a worker did not give back, however many it gave back', () => {
  const lane = new Lane<ReturnType<typeof item>>('|root', {}, true);
  const n = 5000;
  // Shuffled priorities (a fixed permutation), so no heap is simply sorted.
  const items = Array.from({ length: n }, (_, i) => item((i * 7919) % n, i));
  const byW1 = new Set(['w1']);
  const byBoth = new Set(['w2', 'w1']);
  const order = [...items].sort((a, b) => b.priority - a.priority || a.seq - b.seq);
  // The first 3000 in run order: given back by w1, every tenth by w1 and w2 too.
  const gaveBack = new Map(order.slice(0, 3000).map((it, i) => [it, i % 10 === 0 ? byBoth : byW1]));
  for (const it of items) lane.push(it, gaveBack.get(it));
  assert.equal(lane.size, n);
  assert.equal(lane.peek(), order[0]);
  assert.equal(lane.peekFor('w3'), order[0]);
  assert.equal(lane.peekFor('w2'), order[1], 'w2 passes over those it gave back with w1');
  assert.equal(lane.peekFor('w1'), order[3000], 'w1 passes over all 3000 it gave back');
  assert.equal(lane.problem((it) => gaveBack.get(it)), undefined);
  assert.match(lane.problem(() => undefined) ?? '', /given back by \[\] is filed as given back by \["w1"(,"w2")?\]/);
  // Removing the last of a group drops it; what is left is still found in order.
  for (const it of order.slice(0, 3000)) assert.ok(lane.remove(it));
  assert.equal(lane.remove(order[0] as ReturnType<typeof item>), false);
  assert.equal(lane.size, n - 3000);
  assert.equal(lane.peekFor('w1'), order[3000]);
  assert.equal(lane.problem(() => undefined), undefined);
  assert.equal(new Lane('|root', {}, true).peekFor('w1'), undefined);
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
