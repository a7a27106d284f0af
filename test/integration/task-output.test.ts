// A task thread's console output (worker/runtime/task-output.ts) through a real TaskPool: lines
// carry their task's key, and a task printing far more than may be in flight loses lines only
// as counted drops, never silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeValue } from '../../protocol/values.js';
import type { ThreadLogLine } from '../../worker/runtime/pool-protocol.js';
import { TaskPool } from '../../worker/runtime/task-pool.js';

test('every printed line arrives with its key or is counted as dropped', { timeout: 120_000 }, async () => {
  const received: ThreadLogLine[] = [];
  let dropped = 0;
  const pool = new TaskPool({ nthreads: 1, onOutput: (_thread, lines, d) => { received.push(...lines); dropped += d; } });
  try {
    const count = 300_000; // about 20 MB of output with its per-line cost: more than may be in flight (4 MB)
    const fn = { id: 'chatty', name: 'chatty', source: '(n) => { for (let i = 0; i < n; i++) console.log("line " + i); return n; }' };
    const outcome = await pool.run({ key: 'chatty-1', fn, args: [encodeValue(count)], deps: [] });
    assert.ok(outcome.ok);
    assert.equal(received.length + dropped, count);
    assert.ok(received.every((l) => l.key === 'chatty-1' && l.level === 'info'));
    const numbers = received.map((l) => Number(l.message.slice('line '.length)));
    assert.ok(numbers.every((n, i) => i === 0 || n > numbers[i - 1]!), 'lines arrive in order');
    const quiet = { id: 'quiet', name: 'quiet', source: '() => { console.info("after"); }' };
    await pool.run({ key: 'quiet-1', fn: quiet, args: [], deps: [] });
    assert.deepEqual(received.at(-1), { level: 'info', message: 'after', key: 'quiet-1' }, 'a burst leaves nothing blocked behind it');
  } finally {
    await pool.close();
  }
});
