// What the operator and Prometheus read from a scheduler: per-worker figures in
// Control.GetMetrics, the Prometheus text of the dashboard and of the metrics-only HTTP port of
// `kubedask scheduler --metrics-port` (parsed strictly), and the scheduler's JSON log lines.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { ControlClient, channelOptions } from '../../protocol/services.js';
import { startScheduler } from '../../scheduler/server/scheduler-server.js';
import { withCluster } from '../helpers/cluster.js';
import { parsePrometheus, sampleValue, type Family } from '../helpers/prometheus.js';
import { waitUntil } from '../helpers/wait.js';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));
const schedulerModule = fileURLToPath(new URL('../../scheduler/server/scheduler-server.js', import.meta.url));

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

  it('serves every gauge on /metrics from its own registry, with the process metrics', async (t) => {
    // A second scheduler in the same process: its figures are its own.
    const other = await startScheduler({ host: '127.0.0.1', port: 0, dashboardPort: -1, metricsPort: 0, logLevel: 'silent' });
    t.after(() => other.close());
    await withCluster({ workers: 1, threads: 1, dashboardPort: 0 }, async (cluster, client) => {
      assert.equal(await client.submit((x: number) => x + 1, 1).result(), 2);
      const scrape = async (url: string) => {
        const res = await fetch(url);
        assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
        return parsePrometheus(await res.text());
      };
      const mine = await scrape(`${cluster.dashboardUrl}metrics`);
      const gauges: [string, string, string[]][] = [
        ['kubedask_workers', 'Connected workers.', []],
        ['kubedask_tasks', 'Tasks by state.', ['state']],
        ['kubedask_memory_bytes', 'Bytes of results held by workers.', []],
        ['kubedask_scheduler_group_tasks', 'Ready (queued), waiting-for-resource (no_worker) and processing tasks counted toward each worker group.', ['group', 'state']],
        ['kubedask_scheduler_group_workers', 'Connected workers of each group, not retiring.', ['group']],
        ['kubedask_scheduler_adaptive_target_workers', 'Workers each group needs to finish its work within the target duration and hold its data (scale on this).', ['group']],
        ['kubedask_scheduler_tasks_unplaceable', 'Queued or no-worker tasks no connected worker group can run.', []],
      ];
      const labelsOf = (f: Family) => [...new Set(f.samples.flatMap((s) => Object.keys(s.labels)))];
      for (const [name, help, labels] of gauges) {
        const f = mine.get(name);
        assert.ok(f && f.samples.length > 0, `${name} is served`);
        assert.deepEqual([f.type, f.help, labelsOf(f)], ['gauge', help, labels], name);
      }
      assert.equal(sampleValue(mine, 'kubedask_workers'), 1);
      assert.deepEqual(mine.get('kubedask_tasks')!.samples.map((s) => s.labels.state), ['waiting', 'queued', 'no-worker', 'processing', 'memory', 'erred', 'released']);
      assert.equal(sampleValue(mine, 'kubedask_tasks', { state: 'memory' }), 1);
      assert.ok(sampleValue(mine, 'kubedask_memory_bytes')! > 0);
      assert.equal(sampleValue(mine, 'kubedask_scheduler_group_workers', { group: '' }), 1);
      assert.equal(sampleValue(mine, 'kubedask_scheduler_group_tasks', { group: '', state: 'processing' }), 0);
      assert.ok(sampleValue(mine, 'process_resident_memory_bytes')! > 0);
      assert.equal(mine.get('nodejs_heap_size_used_bytes')?.type, 'gauge');

      const theirs = await scrape(other.metricsUrl);
      assert.equal(sampleValue(theirs, 'kubedask_workers'), 0);
      assert.equal(sampleValue(theirs, 'kubedask_tasks', { state: 'memory' }), 0);
      assert.deepEqual(theirs.get('kubedask_scheduler_group_workers')!.samples, [], 'no groups without workers or a watch');
    });
  });

  it('loads prom-client only at the first scrape, so a LocalCluster nobody scrapes starts without it', () => {
    const script = `
      import { createRequire } from 'node:module';
      const { startScheduler } = await import(${JSON.stringify(schedulerModule)});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('/node_modules/prom-client/'));
      const s = await startScheduler({ host: '127.0.0.1', port: 0, dashboardPort: -1, metricsPort: 0, logLevel: 'silent' });
      const before = loaded();
      const text = await (await fetch(s.metricsUrl)).text();
      console.log(JSON.stringify({ before, after: loaded(), workers: /^kubedask_workers 0$/m.test(text) }));
      await s.close();`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { before: false, after: true, workers: true });
  });

  it('`scheduler --metrics-port` serves /metrics there, and nothing else; its logs are JSON lines', async (t) => {
    const scheduler = spawn(process.execPath, [bin, 'scheduler', '--host', '127.0.0.1', '--port', '0', '--no-dashboard', '--metrics-port', '0', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => { scheduler.kill('SIGKILL'); });
    let out = '';
    let err = '';
    scheduler.stdout.on('data', (b: Buffer) => (out += b.toString()));
    scheduler.stderr.on('data', (b: Buffer) => (err += b.toString()));
    await waitUntil(() => /metrics at http/.test(out) && err.includes('\n'), 'the scheduler to start');
    assert.doesNotMatch(out, /dashboard at/);
    const url = /metrics at (\S+)/.exec(out)![1]!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const families = parsePrometheus(await res.text());
    assert.equal(sampleValue(families, 'kubedask_workers'), 0);
    assert.equal(sampleValue(families, 'kubedask_tasks', { state: 'processing' }), 0);
    assert.equal((await fetch(new URL('/', url))).status, 404);
    assert.equal((await fetch(new URL('/api/status', url))).status, 404);

    const started = JSON.parse(err.split('\n')[0]!) as Record<string, unknown>;
    assert.deepEqual([started.level, started.component, started.msg, started.pid], ['info', 'scheduler', 'scheduler started', scheduler.pid]);
    assert.match(String(started.time), /^\d{4}-\d\d-\d\dT/);
    assert.equal(started.metrics, url);
  });
});
