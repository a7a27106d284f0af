// Adaptive figures per worker group (scheduler/state/adaptive.ts), fed through the pure state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GroupShape } from '../../scheduler/state/adaptive.js';
import { Harness, task } from './scheduler-harness.js';

const GiB = 2 ** 30;

function join(h: Harness, workerId: string, group: string, o: { nthreads?: number; resources?: Record<string, number>; memoryLimit?: number } = {}): void {
  h.ev({
    type: 'worker-added',
    worker: { workerId, name: workerId, address: `${workerId}:1`, nthreads: o.nthreads ?? 1, memoryLimit: o.memoryLimit ?? 0, resources: o.resources ?? {}, group },
  });
}

const shape = (name: string, resources: Record<string, number> = {}, threads = 1, memoryLimit = 0): GroupShape => ({ name, resources, threads, memoryLimit });
const tasks = (prefix: string, n: number, extra: Parameters<typeof task>[2] = {}) => Array.from({ length: n }, (_, i) => task(`${prefix}-${i}`, [], extra));

function group(h: Harness, name: string, targetDurationMs = 30_000, groups: GroupShape[] = []) {
  const g = h.s.adaptive({ targetDurationMs, groups }).groups.find((x) => x.name === name);
  assert.ok(g, `group ${name} reported`);
  return g;
}

test('the target scales with the work and is capped by the tasks', () => {
  const h = new Harness();
  join(h, 'w1', 'cpu');
  h.submit(tasks('t', 100)); // unknown duration: 500 ms each
  const g = group(h, 'cpu', 10_000);
  assert.deepEqual([g.workers, g.tasksQueued, g.tasksProcessing, g.workSeconds], [1, 98, 2, 50]);
  assert.equal(g.target, 5, '50 s of work / 10 s at 1 thread');
  assert.equal(g.reason, '100 tasks, 50.0s of work / 10s target at 1 thread: 5 workers');
  assert.equal(group(h, 'cpu', 100_000).target, 1);
  assert.equal(group(h, 'cpu', 100).target, 100, 'never more workers than tasks');
  assert.match(group(h, 'cpu', 100).reason, /no more than the tasks can use/);
  assert.equal(group(h, 'cpu', 10_000, [shape('cpu', {}, 4)]).target, 2, 'four threads a worker');
});

test('GPU tasks count only toward GPU groups, plain ones toward CPU groups while one exists; the rest are unplaceable', () => {
  const h = new Harness();
  h.submit([...tasks('cpu', 4), ...tasks('gpu', 3, { resources: { GPU: 1 } }), ...tasks('tpu', 2, { resources: { TPU: 1 } })]);
  const both = h.s.adaptive({ targetDurationMs: 30_000, groups: [shape('cpu'), shape('gpu', { GPU: 1 })] });
  assert.deepEqual(both.groups.map((g) => [g.name, g.tasksNoWorker, g.target]), [['cpu', 4, 1], ['gpu', 3, 1]]);
  assert.equal(both.tasksUnplaceable, 2);
  const gpuOnly = h.s.adaptive({ targetDurationMs: 30_000, groups: [shape('gpu', { GPU: 1 })] });
  assert.deepEqual(gpuOnly.groups.map((g) => [g.name, g.tasksNoWorker]), [['gpu', 7]]);
  const twoCpu = h.s.adaptive({ targetDurationMs: 30_000, groups: [shape('a'), shape('b'), shape('gpu', { GPU: 2 })] });
  assert.deepEqual(twoCpu.groups.map((g) => [g.name, g.tasksNoWorker]), [['a', 2], ['b', 2], ['gpu', 3]], 'split evenly');
});

test('memory rule: enough workers to hold the data at 75% of their limit', () => {
  const h = new Harness();
  join(h, 'w1', 'm', { memoryLimit: 2 * GiB });
  join(h, 'w2', 'm', { memoryLimit: 2 * GiB });
  h.ev({ type: 'heartbeat', workerId: 'w1', memoryUsed: 3 * GiB });
  h.ev({ type: 'heartbeat', workerId: 'w2', memoryUsed: 0.1 * GiB });
  const g = group(h, 'm');
  assert.deepEqual([g.memoryUsed, g.memoryLimit, g.target], [3.1 * GiB, 4 * GiB, 3]);
  assert.equal(g.reason, 'memory 3.1 GiB held / 75% of 2.0 GiB per worker: 3 workers');
  assert.equal(group(h, 'm', 30_000, [shape('m')]).target, 0, 'no memory rule when the limit is unknown');
});

test('idle: target 0; remove_first puts idle before busy, then least data, then longest idle, then name', () => {
  const h = new Harness();
  join(h, 'a', 'g');
  let g = group(h, 'g');
  assert.deepEqual([g.target, g.reason, g.tasksQueued], [0, 'no queued or running work', 0]);
  h.submit([task('busy')]);
  assert.deepEqual(h.s.processingOn('a'), ['busy']);
  for (const id of ['b', 'c', 'd', 'e', 'f']) join(h, id, 'g');
  h.ev({ type: 'heartbeat', workerId: 'b', memoryUsed: 500 });
  h.ev({ type: 'heartbeat', workerId: 'c', memoryUsed: 100 });
  h.ev({ type: 'scattered', clientId: 'c1', workerId: 'd', keys: ['x'], nbytes: [1] });
  const idle: Record<string, number> = { b: 1, c: 1, d: 1, e: 1, f: 9 };
  g = h.s.adaptive({ targetDurationMs: 30_000, groups: [], idleSeconds: (id) => idle[id] ?? 0 }).groups[0]!;
  assert.deepEqual(g.removeFirst, ['f', 'e', 'd', 'c', 'b', 'a']);
  assert.equal(g.idleSeconds, 0, 'a worker is busy');
  h.finish('a', 'busy');
  idle.a = 3;
  g = h.s.adaptive({ targetDurationMs: 30_000, groups: [], idleSeconds: (id) => idle[id] ?? 0 }).groups[0]!;
  assert.equal(g.idleSeconds, 1, 'since the most recently busy worker');
});

test('the counts follow tasks finishing, erring, cancelled, and workers leaving', () => {
  const h = new Harness();
  join(h, 'w1', 'cpu');
  h.submit(tasks('t', 6));
  assert.deepEqual([group(h, 'cpu').tasksQueued, group(h, 'cpu').tasksProcessing], [4, 2]);
  h.finish('w1', 't-0');
  h.fail('w1', 't-1');
  assert.deepEqual([group(h, 'cpu').tasksQueued, group(h, 'cpu').tasksProcessing], [2, 2]);
  h.ev({ type: 'cancel', clientId: 'c1', keys: ['t-4', 't-5'] });
  assert.deepEqual([group(h, 'cpu').tasksQueued, group(h, 'cpu').tasksProcessing], [0, 2]);
  h.removeWorker('w1');
  const left = h.s.adaptive({ targetDurationMs: 30_000, groups: [shape('cpu')] });
  // t-2 and t-3 were running there, and t-0's result was lost with it: all wait for a worker.
  assert.deepEqual(left.groups.map((g) => [g.workers, g.tasksNoWorker, g.tasksQueued, g.tasksProcessing]), [[0, 3, 0, 0]]);
  join(h, 'w2', 'cpu');
  for (const k of h.s.processingOn('w2')) h.finish('w2', k);
  for (const k of h.s.processingOn('w2')) h.finish('w2', k);
  const done = group(h, 'cpu');
  assert.deepEqual([done.tasksQueued, done.tasksNoWorker, done.tasksProcessing, done.target], [0, 0, 0, 0]);
});

test('tasks that stay with their data and wait for their worker ask for no new workers', () => {
  const h = new Harness();
  join(h, 'w1', 'cpu');
  h.submit([task('shard')]);
  h.finish('w1', 'shard', 1e5);
  h.submit(Array.from({ length: 10 }, (_, i) => task(`run-${i}`, ['shard'], { stayWithData: true })));
  const pinned = group(h, 'cpu', 20);
  assert.equal(pinned.tasksProcessing, 10, 'all ten wait on w1, which holds the shard');
  assert.equal(pinned.target, 1, 'new workers could take none of them');
  assert.match(pinned.reason, /^1 task, /, 'only the one running counts as work more workers could share');
  h.submit(Array.from({ length: 10 }, (_, i) => task(`free-${i}`, ['shard'])));
  assert.ok(group(h, 'cpu', 20).target > 1, 'ordinary tasks on the same data do ask for workers');
  h.s.validate();
});
