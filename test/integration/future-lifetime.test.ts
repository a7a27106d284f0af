// A Future nobody holds stays alive while its result() or wait() is pending: collecting it would
// release its key and fail the wait with "key ... was released".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { withCluster } from '../helpers/cluster.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('future lifetime', () => {
  it('client.submit(...).result() survives garbage collection while the task runs', async () => {
    await withCluster({ workers: 1, threads: 1 }, async (_cluster, client) => {
      const slow = (ms: number) => { const end = Date.now() + ms; while (Date.now() < end); return ms; };
      let collecting = true;
      // Collect garbage over and over while the results are awaited.
      const pressure = (async () => { while (collecting) { gc(); await new Promise((r) => setImmediate(r)); } })();
      try {
        const results = await Promise.all([client.submit(slow, 300).result(), client.submit(slow, 200).wait().then(() => 'waited')]);
        assert.deepEqual(results, [300, 'waited']);
      } finally {
        collecting = false;
        await pressure;
      }
    });
  });
});
