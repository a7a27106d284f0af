// The cap on a WorkerLogs reply (scheduler/server/worker-logs.ts): past it, the workers with the
// most lines lose their oldest ones and say how many; a small worker keeps all of its lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capWorkerLogs } from '../../scheduler/server/worker-logs.js';

const entry = (address: string, count: number, message = 'x'.repeat(76)) => ({
  address, name: address, lines: Array.from({ length: count }, (_, i) => ({ timeMs: i, level: 'info', message: `${i}`.padStart(4, '0') + message, key: '' })),
});
/** Each test line costs 80 message bytes, 4 level bytes and 24 of framing. */
const LINE = 80 + 4 + 24;
const numbers = (e: ReturnType<typeof entry>) => e.lines.map((l) => Number(l.message.slice(0, 4)));

describe('capWorkerLogs', () => {
  it('leaves a reply within the cap as it is', () => {
    const entries = [entry('a', 10), entry('b', 3)];
    assert.equal(capWorkerLogs(entries, 13 * LINE), entries);
  });

  it('trims the oldest lines of the biggest workers, shares what small ones leave, and says so', () => {
    const small = entry('small', 2);
    const failed = { address: 'gone', name: 'gone', lines: [], error: 'the worker did not answer within 500 ms' };
    const capped = capWorkerLogs([entry('a', 100), small, failed, entry('b', 50)], 22 * LINE);
    assert.equal(capped[1], small, 'under its share: untouched');
    assert.equal(capped[2], failed);
    const [a, , , b] = capped as Array<ReturnType<typeof entry> & { linesLeftOut?: number }>;
    assert.deepEqual(numbers(a!), Array.from({ length: 10 }, (_, i) => 90 + i), 'the most recent lines, in order');
    assert.equal(a!.linesLeftOut, 90);
    assert.deepEqual(numbers(b!), Array.from({ length: 10 }, (_, i) => 40 + i));
    assert.equal(b!.linesLeftOut, 40);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const [wide] = capWorkerLogs([entry('wide', 10, 'é'.repeat(38))], 5 * LINE) as Array<{ lines: unknown[]; linesLeftOut?: number }>;
    assert.deepEqual([wide!.lines.length, wide!.linesLeftOut], [5, 5]);
  });
});
