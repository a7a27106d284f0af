// TaskHeap: the first item passing a test, searched best-first; and its self-check.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TaskHeap, type HeapItem } from '../../scheduler/state/queue.js';

const item = (priority: number, seq: number): HeapItem & { name: string } => ({ priority, seq, heapIndex: -1, name: `p${priority}s${seq}` });

test('peekWhere finds the first item in run order that passes, within its limit', () => {
  const heap = new TaskHeap<ReturnType<typeof item>>();
  const items = [item(0, 1), item(5, 2), item(3, 3), item(5, 4), item(1, 5), item(3, 6), item(9, 7)];
  for (const it of items) heap.push(it);
  const order = [...items].sort((a, b) => b.priority - a.priority || a.seq - b.seq).map((i) => i.name);
  for (let skip = 0; skip < order.length; skip++) {
    const passed = heap.peekWhere((it) => !order.slice(0, skip).includes(it.name), 100);
    assert.equal(passed?.name, order[skip], `skipping the first ${skip}`);
  }
  assert.equal(heap.peekWhere(() => false, 100), undefined);
  assert.equal(heap.peekWhere((it) => it.name === order[3], 2), undefined, 'three fail before it: past a limit of 2');
  assert.equal(heap.peekWhere((it) => it.name === order[3], 3)?.name, order[3]);
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
