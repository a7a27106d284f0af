// test/helpers/wait.ts: the one wait helper returns what the probe found and, at its deadline,
// says what it waited for and what it last saw.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil, within } from '../helpers/wait.js';

describe('waitUntil', () => {
  it('returns the first truthy value of the probe, retrying through falsy values and errors', async () => {
    let calls = 0;
    const found = await waitUntil(() => {
      calls++;
      if (calls === 1) throw new Error('not created yet');
      return calls >= 3 && { calls };
    }, 'the third call');
    assert.deepEqual(found, { calls: 3 });
  });

  it('names what it awaited and the last value at the deadline', async () => {
    await assert.rejects(waitUntil(() => ({ ready: false }).ready, 'the pod to be ready', 30),
      (e: Error) => /timed out after 30 ms waiting for the pod to be ready; last value false$/.test(e.message));
  });

  it('names the last error at the deadline and keeps it as the cause', async () => {
    const gone = new Error('HTTP 404: pods "web" not found');
    await assert.rejects(waitUntil(() => { throw gone; }, 'pod web', 30),
      (e: Error) => e.message.endsWith('last error Error: HTTP 404: pods "web" not found') && e.cause === gone);
  });

  it('fails at once on a failed assertion in the probe: a verdict, not a state to wait out', async () => {
    let calls = 0;
    await assert.rejects(waitUntil(() => {
      calls++;
      assert.equal(calls, 0, 'the probe\'s own check');
      return true;
    }, 'a probe that asserts', 60_000), (e: Error) => e instanceof assert.AssertionError && /the probe's own check/.test(e.message));
    assert.equal(calls, 1, 'not retried');
  });

  it('within: the promise\'s value, or at the deadline what was awaited and why it may not have come', async () => {
    assert.equal(await within(Promise.resolve(7), 'seven', 1_000), 7);
    await assert.rejects(within(new Promise(() => undefined), 'the sum', 30, () => 'counts {"processing":1}'),
      /^Error: timed out after 30 ms waiting for the sum; counts \{"processing":1\}$/);
  });
});
