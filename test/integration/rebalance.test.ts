// Client.rebalance and DataFrame.rebalance: data persisted on one worker spreads over the
// workers added later, moved (not recomputed) and with the same values.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { DataFrameError, fromPolars, KubedaskError } from '../../index.js';
import { withCluster } from '../helpers/cluster.js';

const PER_TEST = { timeout: 90_000 };

describe('rebalance', () => {
  it('spreads a persisted frame over workers added after it, keeping every value', PER_TEST, async () => {
    await withCluster({ workers: 1, threads: 1 }, async (cluster, client) => {
      const rows = 60_000;
      const local = pl.DataFrame({ i: Array.from({ length: rows }, (_, i) => i), x: Array.from({ length: rows }, (_, i) => Math.sin(i)) });
      const kept = fromPolars(local, { partitions: 6 }).withColumns(pl.col('x').mul(2).alias('y')).persist({ client });
      const before = await kept.compute({ client });
      const state = cluster.scheduler.core.state;
      const keys = [...kept.bindings.values()].map((b) => b.future!.key);
      const perWorker = () => state.workerIds().map((w) => keys.filter((k) => state.whoHas(k).includes(w)).length).sort();

      assert.deepEqual(await cluster.scale(3), { workers: 3, refused: {} });
      assert.deepEqual(perWorker(), [0, 0, 6]);
      const computedBefore = state.counts();
      const result = await kept.rebalance({ client });
      assert.equal(result.moved, 4);
      assert.equal(result.abandoned, 0);
      assert.equal(result.dropped, 0);
      assert.ok(result.bytes >= 4 * 10_000 * 3 * 8, `bytes ${result.bytes}`); // 4 partitions of 10,000 rows x 3 numbers of 8 bytes
      assert.deepEqual(perWorker(), [2, 2, 2]);
      assert.equal(state.counts().memory, computedBefore.memory, 'moved, not copied: each key in memory once');
      assert.deepEqual(keys.map((k) => state.whoHas(k).length), [1, 1, 1, 1, 1, 1]);

      const after = await kept.compute({ client });
      assert.ok(after.frameEqual(before), 'the same rows after the move');
      // The compute gathered every partition on one worker: those copies are freed, nothing moves.
      const again = await kept.rebalance({ client });
      assert.deepEqual({ ...again, dropped: 0 }, { moved: 0, bytes: 0, dropped: 0, abandoned: 0 });
      assert.deepEqual(perWorker(), [2, 2, 2]);
      assert.deepEqual(keys.map((k) => state.whoHas(k).length), [1, 1, 1, 1, 1, 1]);
    });
  });

  it('rebalances every key when given none, and refuses what is not on the cluster', PER_TEST, async () => {
    await withCluster({ workers: 1, threads: 1 }, async (cluster, client) => {
      const futures = client.map((i: number) => new Float64Array(10_000).fill(i), [0, 1, 2, 3]);
      await client.gather(futures);
      await cluster.scale(2);
      const moved = await client.rebalance();
      assert.equal(moved.moved, 2);
      const holders = futures.map((f) => cluster.scheduler.core.state.whoHas(f.key)[0]);
      assert.equal(new Set(holders).size, 2);
      const values = await client.gather(futures);
      assert.deepEqual(values.map((v) => v[0]), [0, 1, 2, 3]);
      assert.deepEqual(await client.rebalance([]), { moved: 0, bytes: 0, dropped: 0, abandoned: 0 }, 'an empty list moves nothing');

      const lazy = fromPolars(pl.DataFrame({ a: [1, 2] })).withColumns(pl.col('a').add(1));
      await assert.rejects(lazy.rebalance({ client }), (e: Error) => e instanceof DataFrameError && /rebalance: .*persist it first/.test(e.message));
      for (const timeoutMs of [0, 1.5, 2 ** 31]) {
        await assert.rejects(client.rebalance(undefined, { timeoutMs }), (e: Error) => e instanceof KubedaskError && /timeoutMs must be an integer from 1 to 2147483647/.test(e.message));
      }
      await assert.rejects(client.rebalance(['k'] as never), (e: Error) => e instanceof KubedaskError && /give Futures/.test(e.message));
    });
  });
});
