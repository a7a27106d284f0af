// A shuffle's barrier in the pure scheduler: splits -> barrier -> takes, with P + Q edges. The
// barrier keeps the splits in memory while its receipts stand, lets them go once every take
// is done, and runs again (its takes after it) when a split it points at is lost or moved.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addr, computed, freed, Harness, of, task } from './scheduler-harness.js';
import type { TaskDef } from '../../scheduler/state/types.js';
import { MISSING_INPUTS_LIMIT } from '../../scheduler/state/worker-events.js';

/** s0..s(p-1) -> b -> t0..t(q-1); only the takes wanted. */
function shuffle(p: number, q: number): { tasks: TaskDef[]; takes: string[] } {
  const splits = Array.from({ length: p }, (_, i) => task(`s${i}`));
  const barrier = task('b', splits.map((s) => s.key), { barrier: true });
  const takes = Array.from({ length: q }, (_, j) => task(`t${j}`, ['b']));
  return { tasks: [...splits, barrier, ...takes], takes: takes.map((t) => t.key) };
}

/** Runs the splits on w1/w2 alternately (as placed) and the barrier; returns the barrier's compute. */
function upToBarrier(h: Harness, p: number, q: number) {
  const { tasks, takes } = shuffle(p, q);
  const all = h.submit(tasks, takes);
  const pending = of(all, 'compute');
  for (let i = 0; i < pending.length; i++) {
    const m = pending[i]!;
    if (m.key === 'b') continue;
    const out = h.finish(m.workerId, m.key);
    all.push(...out);
    pending.push(...of(out, 'compute'));
  }
  assert.equal(h.s.taskState('b'), 'processing');
  return { takes, all, b: of(all, 'compute').find((m) => m.key === 'b')! };
}

test('a barrier is sent where its inputs are, and they stay in memory until every take is done', () => {
  const h = new Harness();
  h.addWorker('w1', 2);
  h.addWorker('w2', 2);
  const { tasks, takes } = shuffle(4, 3);
  let msgs = h.submit(tasks, takes);
  const splitsRun = of(msgs, 'compute');
  assert.equal(splitsRun.length, 4);
  const holder = new Map<string, string>();
  for (const m of splitsRun) holder.set(m.key, m.workerId);
  msgs = [];
  for (const m of splitsRun) msgs.push(...h.finish(m.workerId, m.key));
  const b = of(msgs, 'compute').find((m) => m.key === 'b');
  assert.ok(b, 'the barrier runs once every split is in memory');
  assert.deepEqual(Object.keys(b.whoHas).sort(), ['s0', 's1', 's2', 's3']);
  for (const [k, w] of holder) assert.deepEqual(b.whoHas[k], [addr(w)], `receipt of ${k}`);

  const afterBarrier = h.finish(b.workerId, 'b');
  assert.deepEqual(freed(afterBarrier), [], 'the splits stay while the barrier holds them');
  assert.ok(of(afterBarrier, 'compute').length > 0, 'the takes start');
  assert.ok(of(afterBarrier, 'compute').every((m) => takes.includes(m.key) && Object.keys(m.whoHas).join() === 'b'), 'each take reads the barrier only');
  for (const k of ['s0', 's1', 's2', 's3']) assert.equal(h.s.taskState(k), 'memory');

  const rest = h.runAll(afterBarrier);
  for (const k of takes) assert.equal(h.s.taskState(k), 'memory');
  const gone = freed(rest).map((f) => f.split(':')[1]).sort();
  assert.deepEqual(gone, ['b', 's0', 's1', 's2', 's3'], 'barrier and splits freed once the takes are done');
});

test('a split lost after the barrier ran: it is recomputed, the barrier and the unfinished takes run again', () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  h.addWorker('w2', 1);
  const { takes, all } = upToBarrier(h, 2, 2);
  const b = of(all, 'compute').find((m) => m.key === 'b')!;
  const onB = h.finish(b.workerId, 'b');
  const takeComputes = of(onB, 'compute');
  assert.ok(takeComputes.length > 0, 'takes start after the barrier');
  // The worker holding s1 dies (not the barrier's own, if they differ: pick s1's holder).
  const s1Holder = of(all, 'compute').find((m) => m.key === 's1')!.workerId;
  const lost = h.removeWorker(s1Holder);
  assert.equal(h.s.taskState('s1') === 'processing' || h.s.taskState('s1') === 'queued' || h.s.taskState('s1') === 'waiting', true,
    `s1 recomputed (now ${h.s.taskState('s1')})`);
  assert.notEqual(h.s.taskState('b'), 'memory', 'the barrier no longer stands');
  for (const k of takes) assert.notEqual(h.s.taskState(k), 'processing', `${k} is not left running on stale receipts`);
  const rest = h.runAll(lost);
  assert.ok(computed(rest).some((c) => c.endsWith(':b')), 'the barrier ran again');
  for (const k of takes) assert.equal(h.s.taskState(k), 'memory');
  assert.equal(h.s.taskState('s0'), 'released', 's0 was not recomputed and is let go at the end');
  assert.ok(!computed(rest).some((c) => c.endsWith(':s0')), 's0 survived: not recomputed');
});

test('a take that cannot fetch a split reports it missing: the split is recomputed, nothing errs', () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  h.addWorker('w2', 1);
  const { takes, all } = upToBarrier(h, 2, 1);
  const b = of(all, 'compute').find((m) => m.key === 'b')!;
  const t0 = of(h.finish(b.workerId, 'b'), 'compute').find((m) => m.key === takes[0])!;
  const out = h.ev({ type: 'missing-data', workerId: t0.workerId, key: t0.key, missing: ['s0'] });
  assert.ok(computed(out).some((c) => c.endsWith(':s0')), 's0 recomputed');
  assert.ok(freed(out).some((f) => f.endsWith(':s0')), 'its holder is told to free the copy it could not serve');
  const rest = h.runAll(out);
  assert.ok(computed(rest).some((c) => c.endsWith(':b')), 'barrier again');
  assert.equal(h.s.taskState(takes[0]!), 'memory');
  assert.deepEqual(of(rest, 'client-key').map((m) => `${m.key}:${m.state}`), [`${takes[0]}:finished`]);
});

test('a missing key that is neither a dependency nor behind a barrier is ignored', () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  h.submit([task('x'), task('y'), task('z', ['x'])], ['y', 'z']);
  h.finish('w1', 'x');
  h.finish('w1', 'y');
  const z = h.s.taskState('z');
  assert.equal(z, 'processing');
  h.ev({ type: 'missing-data', workerId: 'w1', key: 'z', missing: ['y'] });
  assert.equal(h.s.taskState('y'), 'memory', 'y is not an input of z: kept');
});

test('a worker holding a replica of a split leaves gracefully: the barrier runs again on the copy left', () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  h.addWorker('w2', 1);
  const { takes, all } = upToBarrier(h, 1, 1);
  const s0 = of(all, 'compute').find((m) => m.key === 's0')!.workerId;
  const other = s0 === 'w1' ? 'w2' : 'w1';
  h.ev({ type: 'keys-added', workerId: other, keys: ['s0'], nbytes: [100] }); // a copy (retirement)
  const b = of(all, 'compute').find((m) => m.key === 'b')!;
  h.finish(b.workerId, 'b');
  const out = h.removeWorker(s0, true);
  assert.equal(h.s.taskState('s0'), 'memory', 'the copy left keeps s0');
  const again = of(out, 'compute').find((m) => m.key === 'b');
  assert.ok(again, 'the barrier runs again');
  assert.deepEqual(again.whoHas.s0, [addr(other)], 'with a receipt for the copy left');
  h.runAll(out);
  assert.equal(h.s.taskState(takes[0]!), 'memory');
});

test('a barrier scales linearly: 200 x 200 is 400 edges, and the takes each wait on one task', () => {
  const { tasks } = shuffle(200, 200);
  const edges = tasks.reduce((n, t) => n + t.dependencies.length, 0);
  assert.equal(edges, 400);
  const h = new Harness({ validateEvery: 1000 });
  h.addWorker('w1', 4);
  const msgs = h.runAll(h.submit(tasks, tasks.filter((t) => t.key.startsWith('t')).map((t) => t.key)));
  h.validate();
  assert.equal(of(msgs, 'compute').length, 401);
});

test('a barrier result that arrives after an input was lost is refused: its receipts name the dead worker', () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  h.addWorker('w2', 1);
  const { all, b } = upToBarrier(h, 2, 1);
  const other = b.workerId === 'w1' ? 'w2' : 'w1';
  assert.ok(of(all, 'compute').some((m) => m.key !== 'b' && m.workerId === other));
  h.removeWorker(other); // a split is lost; the barrier waits for it again
  assert.equal(h.s.taskState('b'), 'waiting');
  const late = h.finish(b.workerId, 'b'); // its finished was already on the way
  assert.notEqual(h.s.taskState('b'), 'memory');
  assert.ok(freed(late).includes(`${b.workerId}:b`), 'the stale result is dropped on its worker');
});

test('retirement that moves the splits elsewhere runs the barrier again: its receipts named the retired worker', () => {
  const h = new Harness();
  h.addWorker('w1', 2);
  h.submit([task('s0'), task('s1'), task('b', ['s0', 's1'], { barrier: true }), task('t0', ['b'])], ['t0']);
  h.finish('w1', 's0');
  h.finish('w1', 's1');
  h.finish('w1', 'b');
  h.addWorker('w2', 1);
  h.addWorker('w3', 1);
  const msgs = h.ev({ type: 'retire-workers', workerIds: ['w1'] });
  msgs.push(...h.ev({ type: 'task-rejected', workerId: 'w1', key: 't0', reason: 'stolen' }));
  for (const r of of(msgs, 'replicate')) msgs.push(...h.ev({ type: 'keys-added', workerId: r.workerId, keys: [r.key], nbytes: [100] }));
  assert.equal(of(msgs, 'worker-retired').length, 1);
  assert.equal(h.s.taskState('s0'), 'memory', 'moved, not recomputed');
  assert.equal(h.s.taskState('s1'), 'memory');
  const again = of(msgs, 'compute').find((m) => m.key === 'b');
  assert.ok(again, 'the barrier runs again');
  assert.ok(!Object.values(again.whoHas).flat().includes(addr('w1')), 'with receipts for the moved copies');
});

test('a barrier still running when a split holder leaves with a copy kept elsewhere runs again, not on stale receipts', () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  h.addWorker('w2', 1);
  h.addWorker('w3', 1);
  const all = h.submit([task('s0'), task('s1'), task('b', ['s0', 's1'], { barrier: true }), task('t0', ['b'])], ['t0']);
  const where = new Map(of(all, 'compute').map((m) => [m.key, m.workerId]));
  for (const [k, w] of [...where]) all.push(...h.finish(w, k));
  const b = of(all, 'compute').find((m) => m.key === 'b')!;
  const victim = ['s0', 's1'].map((k) => where.get(k)!).find((w) => w !== b.workerId)!;
  const key = where.get('s0') === victim ? 's0' : 's1';
  const spare = ['w1', 'w2', 'w3'].find((w) => w !== victim && w !== b.workerId) ?? b.workerId;
  assert.deepEqual(b.whoHas[key], [addr(victim)]);
  h.ev({ type: 'keys-added', workerId: spare, keys: [key], nbytes: [100] });
  const removed = h.removeWorker(victim, true);
  assert.ok(freed(removed).includes(`${b.workerId}:b`), 'a result it may already hold there is dropped, not served again');
  const finished = h.finish(b.workerId, 'b'); // that run's receipts name the worker gone
  const rerun = of([...removed, ...finished], 'compute').find((m) => m.key === 'b');
  assert.ok(rerun, `the barrier runs again; sent instead: ${of(finished, 'compute').map((m) => m.key).join()}`);
  assert.deepEqual(rerun.whoHas[key], [addr(spare)]);
});

test(`a take that keeps failing to read a split errs after ${MISSING_INPUTS_LIMIT} recomputes instead of looping`, () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  const { takes, b } = upToBarrier(h, 1, 1);
  let out = h.finish(b.workerId, 'b');
  for (let i = 0; i <= MISSING_INPUTS_LIMIT; i++) {
    const t = of(out, 'compute').find((m) => m.key === takes[0]);
    assert.ok(t, `round ${i}: the take runs again`);
    out = h.ev({ type: 'missing-data', workerId: t.workerId, key: t.key, missing: ['s0'] });
    if (i === MISSING_INPUTS_LIMIT) break;
    // Play the recompute up to the take's next run.
    const pending = of(out, 'compute');
    const seen = [...out];
    for (let k = 0; k < pending.length; k++) {
      const m = pending[k]!;
      if (m.key === takes[0]) continue;
      const more = h.finish(m.workerId, m.key);
      seen.push(...more);
      pending.push(...of(more, 'compute'));
    }
    out = seen;
  }
  assert.equal(h.s.taskState(takes[0]!), 'erred');
  const told = of(out, 'client-key').find((m) => m.key === takes[0]);
  assert.equal(told?.state, 'erred');
  assert.match(told!.error!.message, new RegExp(`could not read its inputs from their holders ${MISSING_INPUTS_LIMIT + 1} times`));
});
