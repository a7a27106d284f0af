// What the operator and Prometheus read from a scheduler: per-worker figures in
// Control.GetMetrics, and the metrics-only HTTP port of `kubedask scheduler --metrics-port`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { ControlClient, channelOptions } from '../../protocol/services.js';
import { withCluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/wait.js';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));

interface WorkerMetrics {
  name: string; group: string; tasksProcessing: number; keysHeld: number; memoryUsed: number | { toNumber(): number };
  idleSeconds: number; retiring: boolean; resources: Record<string, number>;
}

function getMetrics(address: string): Promise<{ workers: number; workerMetrics: WorkerMetrics[] }> {
  const control = new ControlClient(address, grpc.credentials.createInsecure(), channelOptions) as unknown as {
    getMetrics(req: object, cb: (err: Error | null, reply?: { workers: number; workerMetrics: WorkerMetrics[] }) => void): void;
    close(): void;
  };
  return new Promise((resolve, reject) => control.getMetrics({}, (err, reply) => {
    control.close();
    return err ? reject(err) : resolve(reply!);
  }));
}

describe('scheduler metrics', () => {
  it('GetMetrics lists every connected worker with its load, data and resources', async () => {
    await withCluster({ workers: 2, threads: 1, resources: { GPU: 1 } }, async (cluster, client) => {
      const slow = client.submit(async () => { await new Promise((r) => setTimeout(r, 1000)); return 1; });
      const core = cluster.scheduler.core;
      await waitUntil(() => core.state.counts().processing === 1, 'the task to be sent');
      const busy = [...core.workers.values()].find((w) => core.state.processingOn(w.def.workerId).length === 1)!.def.name;
      const during = await getMetrics(cluster.address);
      assert.equal(during.workers, 2);
      const byName = new Map(during.workerMetrics.map((w) => [w.name, w]));
      assert.deepEqual([...byName.keys()].sort(), Object.keys(cluster.workerPids).sort());
      const b = byName.get(busy)!;
      assert.equal(b.tasksProcessing, 1);
      assert.equal(b.idleSeconds, 0, 'not idle while it has a task');
      assert.equal(b.retiring, false);
      assert.deepEqual({ ...b.resources }, { GPU: 1 });
      assert.equal(b.group, '');

      assert.equal(await slow.result(), 1);
      const now = async () => (await getMetrics(cluster.address)).workerMetrics.find((w) => w.name === busy)!;
      await waitUntil(async () => (await now()).keysHeld === 1, 'the result to be counted');
      assert.equal((await now()).tasksProcessing, 0);
      await waitUntil(async () => (await now()).idleSeconds > 0, 'idle time counted since its task finished');
      await waitUntil(async () => Number((await now()).memoryUsed) > 0, 'a heartbeat with memory');
    });
  });

  it('`scheduler --metrics-port` serves /metrics there, and nothing else', async (t) => {
    const scheduler = spawn(process.execPath, [bin, 'scheduler', '--host', '127.0.0.1', '--port', '0', '--no-dashboard', '--metrics-port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => { scheduler.kill('SIGKILL'); });
    let out = '';
    scheduler.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await waitUntil(() => /metrics at http/.test(out), 'the scheduler to start');
    assert.doesNotMatch(out, /dashboard at/);
    const url = /metrics at (\S+)/.exec(out)![1]!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^kubedask_workers 0$/m);
    assert.match(text, /^kubedask_tasks\{state="processing"\} 0$/m);
    assert.equal((await fetch(new URL('/', url))).status, 404);
    assert.equal((await fetch(new URL('/api/status', url))).status, 404);
  });
});
