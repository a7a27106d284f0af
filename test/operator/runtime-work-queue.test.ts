// WorkQueue semantics (client-go's): serialisation per key, dedup, backoff, requeue, shutdown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue, type WorkQueueResult } from '../../operator/runtime/work-queue.js';
import { waitUntil } from '../helpers/wait.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('collapses duplicates that wait, and counts depth without in-flight keys', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.depth, 2);
    const gate = deferred();
    const handled: string[] = [];
    q.run(1, async (key) => {
      handled.push(key);
      await gate.promise;
    });
    await waitUntil(() => handled.length === 1, 'the first key handed out', 2000);
    assert.equal(q.depth, 1, 'a is in flight, b waits');
    gate.resolve();
    await waitUntil(() => handled.length === 2, 'both handled', 2000);
    assert.deepEqual(handled, ['a', 'b']);
    await q.shutdown();
  });

  it('never gives one key to two workers; a key added while in flight runs again after', async () => {
    const q = new WorkQueue();
    let active = 0;
    let maxActive = 0;
    const gates: Array<() => void> = [];
    let runs = 0;
    q.run(4, async () => {
      runs++;
      maxActive = Math.max(maxActive, ++active);
      await new Promise<void>((r) => gates.push(r));
      active--;
    });
    q.add('k');
    await waitUntil(() => gates.length === 1, 'k in flight', 2000);
    q.add('k');
    q.add('k');
    assert.equal(q.depth, 0, 'held back while in flight');
    gates.shift()!();
    await waitUntil(() => gates.length === 1 && runs === 2, 'k again', 2000);
    gates.shift()!();
    await waitUntil(() => active === 0, 'idle', 2000);
    assert.equal(runs, 2, 'the two adds during the first run collapsed into one');
    assert.equal(maxActive, 1);
    await q.shutdown();
  });

  it('backs off a failing key exponentially and forgets its failures on success', async () => {
    const results: WorkQueueResult[] = [];
    const q = new WorkQueue({ baseDelayMs: 20, maxDelayMs: 50, onResult: (r) => results.push(r) });
    const times: number[] = [];
    q.run(2, async (key) => {
      times.push(performance.now());
      if (times.length <= 4) throw new Error(`fail ${key} ${times.length}`);
    });
    q.add('x');
    await waitUntil(() => results.length === 5, 'four failures then a success', 5000);
    assert.deepEqual(results.map((r) => r.outcome), ['error', 'error', 'error', 'error', 'success']);
    assert.match(String((results[0].error as Error).message), /fail x 1/);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // 20, 40, then capped at 50 (timers never fire early; allow 1 ms of rounding).
    [20, 40, 50, 50].forEach((min, i) => assert.ok(gaps[i] >= min - 1, `retry ${i + 1} waited ${gaps[i]} >= ${min}`));
    assert.equal(q.retries('x'), 0);
    await q.shutdown();
  });

  it('requeues after the delay a handler asks for, with its reason', async () => {
    const results: WorkQueueResult[] = [];
    const q = new WorkQueue({ onResult: (r) => results.push(r) });
    let n = 0;
    q.run(1, async () => (++n === 1 ? { requeueAfterMs: 30, reason: 'waiting for pods' } : undefined));
    q.add('r');
    await waitUntil(() => results.length === 2, 'the requeued run', 2000);
    assert.deepEqual(results.map((r) => [r.outcome, r.reason]), [['requeue', 'waiting for pods'], ['success', undefined]]);
    await q.shutdown();
  });

  it('addAfter keeps the earliest of several delays', async () => {
    const q = new WorkQueue();
    const handled: string[] = [];
    q.run(1, async (k) => void handled.push(k));
    q.addAfter('late', 60_000);
    q.addAfter('late', 10);
    q.addAfter('late', 30_000);
    await waitUntil(() => handled.length === 1, 'the earliest delay', 2000);
    await q.shutdown(); // clears the later timers, so the test ends at once
    assert.deepEqual(handled, ['late']);
  });

  it('shutdown stops handing out keys and waits for the handlers in flight', async () => {
    const q = new WorkQueue();
    const gate = deferred();
    const handled: string[] = [];
    let finished = false;
    q.run(1, async (k) => {
      handled.push(k);
      await gate.promise;
      finished = true;
    });
    q.add('first');
    q.add('second');
    await waitUntil(() => handled.length === 1, 'first in flight', 2000);
    const done = q.shutdown();
    q.add('third');
    let resolved = false;
    void done.then(() => (resolved = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(resolved, false, 'waits for the handler');
    gate.resolve();
    await done;
    assert.equal(finished, true);
    assert.deepEqual(handled, ['first'], 'nothing handed out after shutdown');
  });
});
