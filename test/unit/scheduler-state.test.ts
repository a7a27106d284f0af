// The pure scheduler's main flows: submit, run, release, placement and throughput.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addr, computed, freed, Harness, of, task, told } from './scheduler-harness.js';

test('submit, finish, release: intermediates freed as soon as unneeded, all forgotten at the end', () => {
  const h = new Harness();
  h.addWorker('w1');
  const submitted = h.submit([task('a'), task('b', ['a'])], ['b']);
  assert.deepEqual(computed(submitted), ['w1:a']);
  assert.equal(of(submitted, 'compute')[0]?.reportValue, false, 'no client waits on a: its value stays on the worker');
  // Held, but read by a task: the client holds it to wait on it, not to read it.
  const h2 = new Harness();
  h2.addWorker('w1');
  const both = h2.submit([task('x'), task('y', ['x'])], ['x', 'y']);
  assert.deepEqual(of(both, 'compute').map((m) => [m.key, m.reportValue]), [['x', false]]);
  assert.deepEqual(of(h2.finish('w1', 'x'), 'compute').map((m) => [m.key, m.reportValue]), [['y', true]]);
  assert.equal(h.s.taskState('a'), 'processing');
  assert.equal(h.s.taskState('b'), 'waiting');

  const afterA = h.finish('w1', 'a', 100);
  assert.deepEqual(afterA, [{ type: 'compute', workerId: 'w1', key: 'b', whoHas: { a: [addr('w1')] }, reportValue: true }]);
  assert.deepEqual(h.s.whoHas('a'), ['w1']);

  const afterB = h.finish('w1', 'b', 40);
  assert.deepEqual(afterB, [
    { type: 'client-key', clientId: 'c1', key: 'b', state: 'finished', nbytes: 40 },
    { type: 'free-keys', workerId: 'w1', keys: ['a'] },
  ]);
  assert.equal(h.s.taskState('a'), 'released', 'kept as lineage while b exists');
  assert.deepEqual(h.s.counts(), {
    workers: 1, released: 1, waiting: 0, queued: 0, noWorker: 0, processing: 0, memory: 1, erred: 0, memoryBytes: 40,
  });

  // A second client asking for a key already in memory hears at once.
  assert.deepEqual(told(h.submit([task('b', ['a'])], ['b'], 'c2')), ['c2:b:finished']);
  assert.deepEqual(h.release(['b'], 'c2'), []);

  assert.deepEqual(h.release(['b']), [{ type: 'free-keys', workerId: 'w1', keys: ['b'] }]);
  assert.equal(h.s.taskState('a'), undefined);
  assert.equal(h.s.taskState('b'), undefined);
  assert.equal(h.s.knownKey('a'), false);
  const story = h.s.story('b').map((e) => `${e.from}->${e.to}`);
  assert.deepEqual(story, ['released->waiting', 'waiting->processing', 'processing->memory', 'memory->released', 'released->forgotten']);
  assert.ok(h.s.story('b').every((e) => e.key === 'b' && e.stimulusId.length > 0));
  assert.deepEqual({ ...h.s.counts(), workers: 0 }, {
    workers: 0, released: 0, waiting: 0, queued: 0, noWorker: 0, processing: 0, memory: 0, erred: 0, memoryBytes: 0,
  });
});

test('diamond: both branches run where a is, d runs after both, branches freed after d', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.addWorker('w2');
  const first = h.submit([task('a'), task('b', ['a']), task('c', ['a']), task('d', ['b', 'c'])], ['d']);
  assert.deepEqual(computed(first), ['w1:a']);
  assert.deepEqual(computed(h.finish('w1', 'a', 1e8)), ['w1:b', 'w1:c'], 'locality: 100 MB of a lives on w1');
  assert.deepEqual(h.finish('w1', 'b'), []);
  const afterC = h.finish('w1', 'c');
  assert.deepEqual(computed(afterC), ['w1:d']);
  assert.deepEqual(freed(afterC), ['w1:a']);
  const afterD = h.finish('w1', 'd');
  assert.deepEqual(told(afterD), ['c1:d:finished']);
  assert.deepEqual(freed(afterD).sort(), ['w1:b', 'w1:c']);
  assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => h.s.taskState(k)), ['released', 'released', 'released', 'memory']);
  assert.deepEqual(freed(h.release(['d'])), ['w1:d']);
  assert.equal(h.s.counts().released, 0);
  assert.equal(h.s.knownKey('a'), false);
});

test('10,000 root tasks on 2 one-thread workers: only the slots go out, one more per finish', (t) => {
  const h = new Harness({ validateEvery: 1000 });
  h.addWorker('w1');
  h.addWorker('w2');
  const n = 10_000;
  const keys = Array.from({ length: n }, (_, i) => `inc-${i}`);
  const started = performance.now();
  const first = h.submit(keys.map((k) => task(k, [], { group: 'inc' })));
  // slots = max(1, ceil(1 thread * 1.5)) = 2 per worker
  assert.deepEqual(computed(first), ['w1:inc-0', 'w2:inc-1', 'w1:inc-2', 'w2:inc-3']);
  assert.equal(h.s.counts().queued, n - 4);

  const inFlight = of(first, 'compute');
  const order: string[] = inFlight.map((m) => m.key);
  let finished = 0;
  for (let i = 0; i < inFlight.length; i++) {
    const m = inFlight[i]!;
    const out = h.finish(m.workerId, m.key, 8, 10);
    finished += told(out).length;
    const more = of(out, 'compute');
    assert.ok(more.length <= 1, 'a finish frees exactly one slot');
    if (i + 4 < n) assert.deepEqual(more.map((c) => c.workerId), [m.workerId]);
    assert.ok(h.s.processingOn(m.workerId).length <= 2);
    inFlight.push(...more);
    order.push(...more.map((c) => c.key));
  }
  t.diagnostic(`10,000 tasks, ${n + 1} events: ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(finished, n);
  assert.deepEqual(order, keys, 'first in, first out at equal priority');
  const counts = h.s.counts();
  assert.equal(counts.memory, n);
  assert.equal(counts.queued + counts.processing + counts.waiting, 0);
  assert.equal(counts.memoryBytes, 8 * n);
  h.validate();
});

test('higher priority root tasks leave the queue first', () => {
  const h = new Harness();
  h.submit([task('low', [], { priority: 0 }), task('high', [], { priority: 5 }), task('mid', [], { priority: 1 })]);
  assert.equal(h.s.counts().noWorker, 3, 'no workers yet: demand shows as no-worker');
  assert.deepEqual(computed(h.addWorker('w1', 1)), ['w1:high', 'w1:mid']);
  assert.deepEqual(computed(h.finish('w1', 'high')), ['w1:low']);
});

test('tree reduction: everything runs, only the result stays in memory', () => {
  const h = new Harness();
  h.addWorker('w1', 2);
  h.addWorker('w2', 2);
  const tasks = Array.from({ length: 8 }, (_, i) => task(`leaf-${i}`));
  let level = tasks.map((t) => t.key);
  for (let depth = 1; level.length > 1; depth++) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const key = `sum-${depth}-${i / 2}`;
      tasks.push(task(key, [level[i]!, level[i + 1]!]));
      next.push(key);
    }
    level = next;
  }
  const all = h.runAll(h.submit(tasks, ['sum-3-0']));
  assert.deepEqual(told(all), ['c1:sum-3-0:finished']);
  assert.equal(computed(all).length, 15);
  assert.equal(freed(all).length, 14, 'every intermediate freed once');
  const counts = h.s.counts();
  assert.equal(counts.memory, 1);
  assert.equal(counts.released, 14);
  h.release(['sum-3-0']);
  assert.equal(h.s.counts().released, 0);
});

test('placement: most dependency bytes wins among idle workers, then least occupied', () => {
  const h = new Harness();
  h.addWorker('w1');
  h.addWorker('w2');
  assert.deepEqual(computed(h.submit([task('x'), task('y')])), ['w1:x', 'w2:y']);
  h.finish('w1', 'x', 10);
  h.finish('w2', 'y', 1000);
  const z = of(h.submit([task('z', ['x', 'y'])]), 'compute');
  assert.deepEqual(z, [{ type: 'compute', workerId: 'w2', key: 'z', whoHas: { x: [addr('w1')], y: [addr('w2')] }, reportValue: true }]);
  // Equal bytes on both: the idle worker gets it.
  h.submit([task('p'), task('q')]);
  const [p, q] = [h.s.processingOn('w1')[0]!, h.s.processingOn('w2').find((k) => k !== 'z')!];
  h.finish('w1', p, 50);
  h.finish('w2', q, 50);
  assert.deepEqual(computed(h.submit([task('r', [p, q])])), ['w1:r']);
});

test('many tasks sharing a small input spread out; sharing a huge one, they stay with it', () => {
  for (const [nbytes, expected] of [[1000, [5, 5]], [1e9, [10, 0]]] as const) {
    const h = new Harness();
    h.addWorker('w1');
    h.addWorker('w2');
    h.submit([task('x')]);
    h.finish('w1', 'x', nbytes, 10);
    const out = h.submit(Array.from({ length: 10 }, (_, i) => task(`m${i}`, ['x'])));
    assert.equal(computed(out).length, 10);
    assert.deepEqual([h.s.processingOn('w1').length, h.s.processingOn('w2').length], expected, `x of ${nbytes} bytes`);
  }
});

test('short tasks are pipelined: more in flight once the group is seen to be tiny', () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  const keys = Array.from({ length: 1000 }, (_, i) => `tiny-${i}`);
  assert.equal(computed(h.submit(keys.map((k) => task(k, [], { group: 'tiny' })))).length, 2);
  const out = h.finish('w1', 'tiny-0', 8, 0.5);
  // mean 0.5 ms: enough for 20 ms per thread = 40 in flight
  assert.equal(computed(out).length, 39);
  assert.equal(h.s.processingOn('w1').length, 40);

  const slow = new Harness();
  slow.addWorker('w1', 1);
  slow.submit(keys.map((k) => task(k, [], { group: 'slow' })));
  assert.equal(computed(slow.finish('w1', 'tiny-0', 8, 50)).length, 1);
  assert.equal(slow.s.processingOn('w1').length, 2);
});

test('GPU tasks wait for a GPU worker, run there one at a time, never on the CPU worker', () => {
  const h = new Harness();
  const seen = [...h.addWorker('cpu', 4)];
  seen.push(...h.submit([task('g1', [], { resources: { GPU: 1 } }), task('g2', [], { resources: { GPU: 1 } }), task('n')]));
  assert.deepEqual(computed(seen), ['cpu:n']);
  assert.equal(h.s.taskState('g1'), 'no-worker');
  assert.equal(h.s.counts().noWorker, 2);

  const added = h.addWorker('gpu', 4, { GPU: 1 });
  seen.push(...added);
  assert.deepEqual(computed(added), ['gpu:g1']);
  assert.equal(h.s.taskState('g2'), 'queued', 'a capable worker exists but its GPU is in use');
  const afterG1 = h.finish('gpu', 'g1');
  seen.push(...afterG1);
  assert.deepEqual(computed(afterG1), ['gpu:g2']);
  // A GPU task with a dependency also waits for the GPU, not for a slot.
  seen.push(...h.submit([task('g3', ['n'], { resources: { GPU: 1 } })]));
  seen.push(...h.finish('cpu', 'n', 10));
  assert.equal(h.s.taskState('g3'), 'queued');
  seen.push(...h.finish('gpu', 'g2'));
  assert.equal(h.s.taskState('g3'), 'processing');
  assert.ok(computed(seen).filter((c) => c.includes(':g')).every((c) => c.startsWith('gpu:')));
  // Losing the only GPU worker sends GPU work back to no-worker.
  h.submit([task('g4', [], { resources: { GPU: 1 } })]);
  h.removeWorker('gpu', true);
  assert.equal(h.s.taskState('g3'), 'no-worker');
  assert.equal(h.s.taskState('g4'), 'no-worker');
  assert.deepEqual(h.s.workerIds(), ['cpu']);
});

test('worker summary and heartbeat', () => {
  const h = new Harness();
  h.addWorker('w1', 2);
  h.submit([task('a')]);
  assert.deepEqual(h.ev({ type: 'heartbeat', workerId: 'w1', memoryUsed: 123 }), []);
  assert.deepEqual(h.s.workerSummary('w1'), { workerId: 'w1', name: 'w1-name', address: addr('w1'), processing: 1, inMemory: 0, memoryUsed: 123 });
  assert.deepEqual(h.s.taskSpec('a'), { key: 'a' });
});

test('a 10,000-long chain runs and is released without deep recursion', () => {
  const h = new Harness({ validateEvery: 1000 });
  h.addWorker('w1');
  const tasks = Array.from({ length: 10_000 }, (_, i) => task(`c${i}`, i === 0 ? [] : [`c${i - 1}`]));
  const all = h.runAll(h.submit(tasks, ['c9999']));
  assert.deepEqual(told(all), ['c1:c9999:finished']);
  assert.equal(h.s.counts().released, 9999);
  h.release(['c9999']);
  assert.equal(h.s.knownKey('c0'), false);
  assert.equal(h.s.counts().released, 0);
  h.validate();
});
