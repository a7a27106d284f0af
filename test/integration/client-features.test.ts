// Client features on a real cluster: uploaded modules, futures released by the garbage
// collector, client disconnect releasing everything.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Client } from '../../index.js';
import { ControlClient, channelOptions } from '../../protocol/services.js';
import { HealthService, ServingStatus } from '../../protocol/health.js';
import { useCluster, withCluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/wait.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const userModule = fileURLToPath(new URL('../../../test/fixtures/user-tasks.mjs', import.meta.url));

/** esbuild's keepNames helper, which tsx-compiled modules define once at their top. */
const __name = <T extends object>(target: T, value: string): T => Object.defineProperty(target, 'name', { value, configurable: true });

describe('client features', () => {
  const fx = useCluster({ workers: 2, threads: 1 });

  it('runs the exports of an uploaded module, with Arrow results between them', async () => {
    const mod = await fx.client.upload(userModule);
    assert.deepEqual(Object.keys(mod).sort(), ['makeTable', 'square', 'sumColumn']);
    assert.deepEqual(await fx.client.gather(fx.client.map(mod.square!, [1, 2, 3])), [1, 4, 9]);
    const table = fx.client.submit(mod.makeTable!, 1000);
    assert.equal(await fx.client.submit(mod.sumColumn!, table, 'i').result(), (999 * 1000) / 2);
  });

  it('runs task functions as tsx/esbuild compile them, with __name calls for inner names', async () => {
    const task = (xs: number[]): [number[], string] => {
      function double(x: number): number { return x * 2; }
      __name(double, 'double');
      return [xs.map(double), double.name];
    };
    assert.match(task.toString(), /__name\(double/);
    assert.deepEqual(await fx.client.submit(task, [1, 2]).result(), [[2, 4], 'double']);
  });

  it('releases a key once its last Future is garbage collected', async () => {
    const key = await (async () => {
      const f = fx.client.submit((x: number) => x + 1, 1);
      await f.wait();
      return f.key;
    })();
    assert.ok(fx.cluster.scheduler.core.state.knownKey(key));
    await waitUntil(() => {
      gc();
      return !fx.cluster.scheduler.core.state.knownKey(key);
    }, 'the dropped future to release its key', 20_000);
  });

  it('releases all of a client\'s keys when it disconnects', async () => {
    const other = await Client.connect(fx.cluster);
    const futures = other.map((x: number) => x, [1, 2, 3]);
    await Promise.all(futures.map((f) => f.wait()));
    assert.ok(futures.every((f) => fx.cluster.scheduler.core.state.knownKey(f.key)));
    await other.close();
    await waitUntil(() => futures.every((f) => !fx.cluster.scheduler.core.state.knownKey(f.key)), 'keys to be forgotten');
  });
});

describe('a worker busy with a CPU-bound task', () => {
  it('keeps sending heartbeats, so the scheduler does not drop it', async () => {
    await withCluster({ workers: 1, threads: 1, heartbeatTimeoutMs: 1500 }, async (cluster, client) => {
      const [before] = [...cluster.scheduler.core.workers.keys()];
      const spin = client.submit((ms: number) => {
        const end = Date.now() + ms;
        let n = 0;
        while (Date.now() < end) n++;
        return n > 0;
      }, 4000);
      assert.equal(await spin.result(), true);
      assert.deepEqual([...cluster.scheduler.core.workers.keys()], [before]);
    });
  });
});

describe('observability', () => {
  it('answers Control.GetMetrics with the queue and worker counts', async () => {
    await withCluster({ workers: 2, threads: 1 }, async (cluster, client) => {
      const held = client.submit((x: number) => x, 1);
      await held.result();
      const control = new ControlClient(cluster.address, grpc.credentials.createInsecure(), channelOptions) as unknown as {
        getMetrics(req: object, cb: (err: Error | null, reply?: { workers: number; tasksInMemory: number; tasksQueued: number }) => void): void;
        close(): void;
      };
      const metrics = await new Promise<{ workers: number; tasksInMemory: number; tasksQueued: number }>((resolve, reject) =>
        control.getMetrics({}, (err, reply) => (err ? reject(err) : resolve(reply!))));
      control.close();
      assert.equal(metrics.workers, 2);
      assert.equal(metrics.tasksInMemory, 1);
      assert.equal(metrics.tasksQueued, 0);
      held.release(); // and keeps `held` alive until here
    });
  });

  it('answers gRPC health checks on the scheduler and worker ports', async () => {
    await withCluster({ workers: 1, threads: 1 }, async (cluster, client) => {
      const check = (address: string, service: string) => new Promise<number>((resolve, reject) => {
        const raw = new grpc.Client(address, grpc.credentials.createInsecure());
        raw.makeUnaryRequest(HealthService.check.path, (m: { service: string }) => Buffer.concat([Buffer.from([0x0a, m.service.length]), Buffer.from(m.service)]),
          HealthService.check.responseDeserialize, { service }, (err, reply) => { raw.close(); return err ? reject(err) : resolve(reply!.status); });
      });
      assert.equal(await check(cluster.address, ''), ServingStatus.SERVING);
      assert.equal(await check(cluster.address, 'kubedask.v1.Scheduler'), ServingStatus.SERVING);
      assert.equal(await check(cluster.address, 'no.such.Service'), ServingStatus.SERVICE_UNKNOWN);
      const [worker] = (await client.clusterInfo()).workers;
      assert.equal(await check(worker!.address!, 'kubedask.v1.WorkerData'), ServingStatus.SERVING);
    });
  });

  it('serves status JSON and Prometheus metrics', async () => {
    await withCluster({ workers: 1, threads: 1, dashboardPort: 0 }, async (cluster, client) => {
      await client.submit((x: number) => x, 1).result();
      const status = await (await fetch(`${cluster.dashboardUrl}api/status`)).json() as { workers: { name: string }[] };
      assert.deepEqual(status.workers.map((w) => w.name), ['local-0']);
      const metrics = await (await fetch(`${cluster.dashboardUrl}metrics`)).text();
      assert.match(metrics, /^kubedask_workers 1$/m);
      assert.match(metrics, /^kubedask_tasks\{state="memory"\} \d+$/m);
      assert.equal((await fetch(`${cluster.dashboardUrl}nope`)).status, 404);
    });
  });
});

