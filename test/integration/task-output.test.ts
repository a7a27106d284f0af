// A task thread's console output (worker/runtime/task-output.ts) through a real TaskPool, kept
// as a worker keeps it (task-output-log.ts): lines carry their task's key, and a task printing
// far more than may be in flight while the worker is busy loses lines only as counted drops,
// which the worker reports, never silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../protocol/log.js';
import { encodeValue } from '../../protocol/values.js';
import { LogBuffer, MAX_LOG_LINES } from '../../worker/runtime/log-buffer.js';
import type { ThreadLogLine } from '../../worker/runtime/pool-protocol.js';
import { TaskPool } from '../../worker/runtime/task-pool.js';
import { DROPPED_WARNING, keepTaskOutput } from '../../worker/runtime/task-output-log.js';

/** Blocks this thread until `done()` holds, as a worker busy with something else would be. */
function blockUntil(done: () => boolean, what: string, timeoutMs = 60_000): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    Atomics.wait(pause, 0, 0, 5);
  }
}

test('every printed line arrives with its key or is counted as dropped, and drops are reported', { timeout: 120_000 }, async () => {
  const marker = join(mkdtempSync(join(tmpdir(), 'task-output-')), 'printed');
  const received: ThreadLogLine[] = [];
  let dropped = 0;
  let busy = true;
  // The worker's log at 'warn': task lines are below it, yet kept for getWorkerLogs.
  const written: Array<{ msg: string; dropped?: number }> = [];
  const log = createLogger({ component: 'worker', level: 'warn', destination: { write: (s: string) => void written.push(JSON.parse(s) as { msg: string }) } });
  const recent = new LogBuffer(MAX_LOG_LINES, 64 * 1024 * 1024);
  const pool = new TaskPool({
    nthreads: 1,
    onOutput: (thread, lines, d) => {
      // A slow consumer: the first batch holds the main thread until the task has printed everything.
      if (busy) { busy = false; blockUntil(() => existsSync(marker), 'the task to finish printing'); }
      received.push(...lines);
      dropped += d;
      keepTaskOutput(recent, log, thread, lines, d);
    },
  });
  try {
    const count = 300_000; // about 20 MB of output with its per-line cost: more than may be in flight (4 MB)
    const source = `async (n, marker) => {
      for (let i = 0; i < n; i++) console.log("line " + i);
      (await import("node:fs")).writeFileSync(marker, "");
      return n;
    }`;
    const fn = { id: 'chatty', name: 'chatty', source };
    const outcome = await pool.run({ key: 'chatty-1', fn, args: [encodeValue(count), encodeValue(marker)], deps: [] });
    assert.ok(outcome.ok);
    assert.ok(dropped > 0, 'the slow consumer made the task drop lines');
    assert.equal(received.length + dropped, count);
    assert.ok(received.every((l) => l.key === 'chatty-1' && l.level === 'info'));
    const numbers = received.map((l) => Number(l.message.slice('line '.length)));
    assert.ok(numbers.every((n, i) => i === 0 || n > numbers[i - 1]!), 'lines arrive in order');
    const warnings = written.filter((w) => w.msg === DROPPED_WARNING);
    assert.equal(warnings.reduce((n, w) => n + w.dropped!, 0), dropped, 'the worker logs every drop');
    const kept = recent.recent();
    assert.equal(kept.filter((l) => l.key === 'chatty-1').length, received.length, 'task lines below the log level are kept');
    const shown = kept.filter((l) => l.level === 'warn' && l.message.startsWith(DROPPED_WARNING));
    assert.equal(shown.reduce((n, l) => n + Number(/ dropped=(\d+)$/.exec(l.message)?.[1]), 0), dropped, 'getWorkerLogs would show every drop');
    const quiet = { id: 'quiet', name: 'quiet', source: '() => { console.info("after"); }' };
    await pool.run({ key: 'quiet-1', fn: quiet, args: [], deps: [] });
    assert.deepEqual(received.at(-1), { level: 'info', message: 'after', key: 'quiet-1' }, 'a burst leaves nothing blocked behind it');
  } finally {
    await pool.close();
  }
});
