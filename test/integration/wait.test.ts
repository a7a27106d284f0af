// wait(futures, { returnWhen, timeoutMs }) against a real cluster. Slow tasks block on a file
// the test creates, so which futures are done when wait() returns is certain.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WaitTimeoutError, wait } from '../../index.js';
import { useCluster } from '../helpers/cluster.js';

const PER_TEST = { timeout: 60_000 };

/** Returns x once `gate` exists (the test creates it), polling every 10 ms. */
const gated = async (a: { x: number; gate: string }): Promise<number> => {
  const fs = await import('node:fs');
  while (!fs.existsSync(a.gate)) await new Promise((r) => setTimeout(r, 10));
  return a.x;
};

describe('wait', () => {
  const fixture = useCluster({ workers: 2, threads: 2 });
  const gate = () => join(mkdtempSync(join(tmpdir(), 'wait-gate-')), 'open');

  it('ALL_COMPLETED (the default) returns when every future is done, failed ones included', PER_TEST, async () => {
    const { client } = fixture;
    const ok = client.map((x: number) => x * 2, [1, 2, 3]);
    const bad = client.submit(() => { throw new Error('nope'); });
    const { done, notDone } = await wait([...ok, bad]);
    assert.deepEqual([done.length, notDone.length], [4, 0]);
    assert.deepEqual(done.map((f) => f.status), ['finished', 'finished', 'finished', 'error']);
  });

  it('FIRST_COMPLETED returns once one is done; the others stay pending', PER_TEST, async () => {
    const { client } = fixture;
    const g = gate();
    const slow = client.submit(gated, { x: 1, gate: g });
    const fast = client.submit((x: number) => x, 2);
    const { done, notDone } = await wait([slow, fast], { returnWhen: 'FIRST_COMPLETED' });
    assert.deepEqual([done, notDone], [[fast], [slow]]);
    writeFileSync(g, '');
    assert.equal(await slow.result(), 1);
  });

  it('FIRST_EXCEPTION returns at the first failure, else when all are done', PER_TEST, async () => {
    const { client } = fixture;
    const g = gate();
    const slow = client.submit(gated, { x: 1, gate: g });
    const bad = client.submit(() => { throw new Error('nope'); });
    const first = await wait([slow, bad], { returnWhen: 'FIRST_EXCEPTION' });
    assert.deepEqual([first.done, first.notDone], [[bad], [slow]]);
    writeFileSync(g, '');
    const ok = client.map((x: number) => x, [1, 2]);
    const all = await wait(ok, { returnWhen: 'FIRST_EXCEPTION' });
    assert.deepEqual([all.done.length, all.notDone.length], [2, 0]);
  });

  it('rejects with WaitTimeoutError at its timeout, saying how many are pending; the futures go on', PER_TEST, async () => {
    const { client } = fixture;
    const g = gate();
    const slow = client.submit(gated, { x: 7, gate: g });
    await assert.rejects(wait(slow, { timeoutMs: 50 }), (e: unknown) =>
      e instanceof WaitTimeoutError && e.pending === 1 && e.total === 1 && /1 of 1 futures still pending after 50 ms/.test(e.message));
    writeFileSync(g, '');
    assert.equal(await slow.result(), 7);
  });

  it('returns at once for no futures, and refuses an unknown returnWhen', PER_TEST, async () => {
    assert.deepEqual(await wait([]), { done: [], notDone: [] });
    // @ts-expect-error: not a ReturnWhen
    await assert.rejects(wait([], { returnWhen: 'SOME' }), /returnWhen must be ALL_COMPLETED, FIRST_COMPLETED or FIRST_EXCEPTION/);
  });
});
