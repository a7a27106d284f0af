// LocalCluster.scale: grows by starting workers, shrinks by retiring them through the scheduler
// so that results move rather than being recomputed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubedaskError } from '../../index.js';
import { withCluster } from '../helpers/cluster.js';
import { processAlive, waitUntil } from '../helpers/wait.js';

const PER_TEST = { timeout: 90_000 };

describe('LocalCluster.scale', () => {
  it('grows to n workers, then shrinks to one, keeping every result without recomputing it', PER_TEST, async () => {
    await withCluster({ workers: 1, threads: 1 }, async (cluster, client) => {
      assert.deepEqual(await cluster.scale(3), { workers: 3, refused: {} });
      assert.equal(cluster.scheduler.core.workers.size, 3);
      // Results spread over the three workers, each recording the process that computed it.
      const made = client.map((i: number) => ({ i, pid: process.pid }), Array.from({ length: 30 }, (_, i) => i));
      const before = await client.gather(made);
      const holders = new Set(before.map((r) => r.pid));
      assert.ok(holders.size >= 2, `results on several workers, got ${[...holders].join(',')}`);
      const pids = Object.values(cluster.workerPids);

      const shrunk = await cluster.scale(1);
      assert.deepEqual(shrunk, { workers: 1, refused: {} });
      assert.equal(cluster.scheduler.core.workers.size, 1);
      const gone = pids.filter((pid) => !Object.values(cluster.workerPids).includes(pid));
      assert.equal(gone.length, 2);
      await waitUntil(() => gone.every((pid) => !processAlive(pid)), 'the retired worker processes to exit');
      // Same values, computed by the same processes: moved, not recomputed.
      assert.deepEqual(await client.gather(made), before);
      assert.equal(cluster.scheduler.core.state.counts().memory, 30);
    });
  });

  it('runs concurrent calls one after another, so they do not overshoot', PER_TEST, async () => {
    await withCluster({ workers: 1, threads: 1 }, async (cluster) => {
      const results = await Promise.all([cluster.scale(3), cluster.scale(3)]);
      assert.deepEqual(results, [{ workers: 3, refused: {} }, { workers: 3, refused: {} }]);
      assert.equal(Object.keys(cluster.workerPids).length, 3);
      assert.equal(cluster.scheduler.core.workers.size, 3);
    });
  });

  it('refuses a count that is not a whole number of workers, and does nothing at the same count', PER_TEST, async () => {
    await withCluster({ workers: 1, threads: 1 }, async (cluster) => {
      for (const bad of [-1, 1.5, Number.NaN]) await assert.rejects(cluster.scale(bad), (e: Error) => e instanceof KubedaskError && /integer >= 0/.test(e.message));
      const pids = cluster.workerPids;
      assert.deepEqual(await cluster.scale(1), { workers: 1, refused: {} });
      assert.deepEqual(cluster.workerPids, pids);
    });
  });
});
