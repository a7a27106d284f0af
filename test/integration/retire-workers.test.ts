// Control.RetireWorkers on real scheduler and worker processes: results only the retiring worker
// holds move to another worker before it closes, a running task finishes first, nothing is
// computed twice; a worker with nowhere to put its data, or unknown, is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { LocalCluster } from '../../index.js';
import type { WorkerDef } from '../../scheduler/state/types.js';
import { ControlClient, channelOptions } from '../../protocol/services.js';
import { withCluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/wait.js';

interface RetireReply { retired: string[]; refused: Record<string, string> }

function retire(address: string, names: string[], timeoutSeconds = 0): Promise<RetireReply> {
  const control = new ControlClient(address, grpc.credentials.createInsecure(), channelOptions) as unknown as {
    retireWorkers(req: object, cb: (err: Error | null, reply?: RetireReply) => void): void;
    close(): void;
  };
  return new Promise<RetireReply>((resolve, reject) => control.retireWorkers({ names, timeoutSeconds }, (err, reply) => {
    control.close();
    return err ? reject(err) : resolve({ retired: [...reply!.retired], refused: { ...reply!.refused } });
  }));
}

/** Times the key's value was computed: a recompute (data lost) would make it 2. Counting
 * sends to workers instead would count tasks stolen before they started. */
const runs = (cluster: LocalCluster, key: string): number =>
  cluster.scheduler.core.state.story(key).filter((s) => s.to === 'memory').length;

const idOf = (cluster: LocalCluster, name: string): string => cluster.scheduler.core.workerByName(name)!.def.workerId;

/** Sleeps inside the task (the workload, not the test), then names the process it ran in. */
const slowPid = async (ms: number): Promise<number> => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return process.pid;
};

describe('retire workers', () => {
  it('moves the results only it holds to another worker, closes it, and reruns nothing', async () => {
    await withCluster({ workers: 2, threads: 1 }, async (cluster, client) => {
      const core = cluster.scheduler.core;
      const futures = client.map((i: number) => [process.pid, i * i], [0, 1, 2, 3, 4, 5, 6, 7]);
      const before = await client.gather(futures);
      // The worker holding the most results; some of them it alone holds.
      const holders = futures.map((f) => core.state.whoHas(f.key));
      const [old, next] = [...core.workers.values()]
        .sort((a, b) => holders.filter((h) => h.includes(b.def.workerId)).length - holders.filter((h) => h.includes(a.def.workerId)).length)
        .map((w) => w.def) as [WorkerDef, WorkerDef];
      assert.ok(holders.some((h) => h.length === 1 && h[0] === old.workerId), `${old.name} holds a result alone`);

      assert.deepEqual(await retire(cluster.address, [old.name]), { retired: [old.name], refused: {} });
      await waitUntil(() => !(old.name in cluster.workerPids), 'the retired worker process to exit');
      assert.equal(core.workerByName(old.name), undefined);
      for (const f of futures) {
        assert.deepEqual(core.state.whoHas(f.key), [next.workerId], `${f.key} is on ${next.name} only`);
        assert.equal(runs(cluster, f.key), 1, `${f.key} ran once`);
      }
      // Values name the process that computed them: moved, not recomputed.
      assert.deepEqual(await client.gather(futures), before);
    });
  });

  it('refuses to retire the only worker holding data, which keeps serving', async () => {
    await withCluster({ workers: 1, threads: 1 }, async (cluster, client) => {
      const [only] = Object.keys(cluster.workerPids) as [string];
      const held = client.submit((x: number) => x + 1, 41);
      assert.equal(await held.result(), 42);
      const reply = await retire(cluster.address, [only]);
      assert.deepEqual(reply.retired, []);
      assert.match(reply.refused[only] ?? '', /no other worker .* to take its data/);
      assert.equal(cluster.scheduler.core.state.retiring(idOf(cluster, only)), false);
      assert.equal(await client.submit((x: number) => x * 2, held).result(), 84);
      assert.equal(await held.result(), 42);
    });
  });

  it('lets a running task finish before retiring its worker', async () => {
    await withCluster({ workers: 2, threads: 1 }, async (cluster, client) => {
      const core = cluster.scheduler.core;
      const slow = client.submit(slowPid, 1500);
      await waitUntil(() => [...core.workers.values()].some((w) => w.executing === 1), 'the task to start');
      const busy = [...core.workers.values()].find((w) => w.executing === 1)!.def.name;
      const busyPid = cluster.workerPids[busy];
      assert.deepEqual(await retire(cluster.address, [busy]), { retired: [busy], refused: {} });
      assert.equal(core.state.taskState(slow.key), 'memory', 'finished before the answer');
      assert.equal(await slow.result(), busyPid, 'ran where it had started');
      assert.equal(runs(cluster, slow.key), 1);
    });
  });

  it('refuses a worker whose drain misses the deadline; it serves again', async () => {
    await withCluster({ workers: 2, threads: 1 }, async (cluster, client) => {
      const slow = client.submit(slowPid, 2000);
      const core = cluster.scheduler.core;
      await waitUntil(() => [...core.workers.values()].some((w) => w.executing === 1), 'the task to start');
      const link = [...core.workers.values()].find((w) => w.executing === 1)!;
      const reply = await retire(cluster.address, [link.def.name], 0.2);
      assert.deepEqual(reply.retired, []);
      assert.match(reply.refused[link.def.name] ?? '', /did not finish within 0\.2 s: 1 tasks still processing there/);
      assert.equal(core.state.retiring(link.def.workerId), false);
      assert.equal(await slow.result(), cluster.workerPids[link.def.name]);
      assert.equal(runs(cluster, slow.key), 1);
    });
  });

  it('refuses an unknown name', async () => {
    await withCluster({ workers: 1, threads: 1 }, async (cluster) => {
      assert.deepEqual(await retire(cluster.address, ['no-such-worker']), { retired: [], refused: { 'no-such-worker': 'no such worker' } });
    });
  });
});
