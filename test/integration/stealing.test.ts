// Work stealing end to end on real processes: tasks already sent to a busy worker (ready tasks
// with dependencies go out at once, not queued) move to a worker that joins later.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withCluster } from '../helpers/cluster.js';

describe('work stealing', () => {
  it('a worker that joins takes over tasks sent ahead to the busy one', async () => {
    await withCluster({ workers: 1, threads: 1 }, async (cluster, client) => {
      const input = client.submit((n: number) => n, 1000);
      await input.result();
      // 80 x 100 ms: 8 s on one thread, so the second worker joins well before the end even on
      // a loaded machine. Sleeping, not spinning, so the test itself adds no CPU load.
      const n = 80;
      const futures = Array.from({ length: n }, (_, i) =>
        client.submit(async (x: number, j: number) => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return [process.pid, x + j];
        }, input, i));
      await cluster.addWorker();
      const results = await client.gather(futures);
      assert.deepEqual(results.map(([, v]) => v), Array.from({ length: n }, (_, i) => 1000 + i));
      const pids = new Set(results.map(([pid]) => pid));
      assert.ok(pids.size >= 2, `every task ran on one worker (pids ${[...pids].join(', ')})`);
    });
  });
});
