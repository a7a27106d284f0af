// A worker's Prometheus metrics (`kubedask worker --metrics-port`), scraped and parsed strictly:
// counters by task group move as tasks finish and err, a dependency fetched from a peer counts
// as a transfer, values past the memory limit count as spills; and prom-client loads only in a
// worker that serves metrics.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client } from '../../index.js';
import { startScheduler } from '../../scheduler/server/scheduler-server.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';
import { waitUntil } from '../helpers/wait.js';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));
const workerModule = fileURLToPath(new URL('../../worker/runtime/worker.js', import.meta.url));

interface WorkerChild { child: ChildProcess; out: () => string }

function spawnWorker(scheduler: string, args: string[]): WorkerChild {
  const child = spawn(process.execPath, [bin, 'worker', '--scheduler', scheduler, '--nthreads', '1', '--log-level', 'warn', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return { child, out: () => out };
}

async function scrape(url: string) {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheus(await res.text());
}

describe('worker metrics', () => {
  it('count tasks by group and outcome, durations, transfers from peers, spills and memory', async (t) => {
    const scheduler = await startScheduler({ host: '127.0.0.1', port: 0, dashboardPort: -1, logLevel: 'silent' });
    t.after(() => scheduler.close());
    const MEMORY_LIMIT = 2_000_000; // values spill past 60 %: 1.2 MB
    const measured = spawnWorker(scheduler.address, ['--name', 'measured', '--metrics-port', '0', '--memory-limit', String(MEMORY_LIMIT), '--resources', 'HERE=1']);
    const peer = spawnWorker(scheduler.address, ['--name', 'peer', '--resources', 'THERE=1']);
    t.after(() => { measured.child.kill('SIGKILL'); peer.child.kill('SIGKILL'); });
    const url = (await waitUntil(() => /metrics at (\S+)/.exec(measured.out())?.[1], 'the worker to print its metrics URL'))!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.doesNotMatch(peer.out(), /metrics at/, 'no metrics without --metrics-port');
    await waitUntil(() => scheduler.core.workers.size === 2, 'both workers to register');

    const before = await scrape(url);
    assert.deepEqual(before.get('kubedask_worker_tasks_total')?.samples, [], 'no task has run');
    assert.equal(sampleValue(before, 'kubedask_worker_transfers_total'), 0);
    assert.equal(sampleValue(before, 'kubedask_worker_memory_limit_bytes'), MEMORY_LIMIT);
    assert.equal(sampleValue(before, 'kubedask_worker_threads'), 1);
    assert.equal(sampleValue(before, 'kubedask_worker_info', { worker: 'measured', group: '' }), 1);
    assert.ok(sampleValue(before, 'process_resident_memory_bytes')! > 0, 'the process\'s RSS comes along');

    const client = await Client.connect(scheduler.address);
    t.after(() => client.close());
    // Made on the peer, used here: its result is fetched.
    const made = client.submitWith({ resources: { THERE: 1 }, group: 'make' }, () => 'x'.repeat(300_000));
    const used = client.submitWith({ resources: { HERE: 1 }, group: 'use' }, (s: string) => s.length, made);
    assert.equal(await used.result(), 300_000);
    const failing = client.submitWith({ resources: { HERE: 1 }, group: 'boom' }, () => { throw new Error('boom'); });
    await assert.rejects(failing.result(), /boom/);
    // 4 x 400 kB held here: past 1.2 MB the oldest go to disk.
    const big = [1, 2, 3, 4].map((i) => client.submitWith({ resources: { HERE: 1 }, group: 'big' }, (n: number) => String(n).repeat(400_000), i));
    await client.gather(big);

    // Spills are written in the background: wait until they have brought memory under the threshold.
    const after = await waitUntil(async () => {
      const f = await scrape(url);
      return (sampleValue(f, 'kubedask_worker_spills_total') ?? 0) > 0 && sampleValue(f, 'kubedask_worker_memory_bytes')! <= MEMORY_LIMIT * 0.6 && f;
    }, 'values to be spilled until memory is under 60 % of the limit');
    assert.equal(sampleValue(after, 'kubedask_worker_tasks_total', { task_group: 'use', outcome: 'finished' }), 1);
    assert.equal(sampleValue(after, 'kubedask_worker_tasks_total', { task_group: 'boom', outcome: 'erred' }), 1);
    assert.equal(sampleValue(after, 'kubedask_worker_tasks_total', { task_group: 'big', outcome: 'finished' }), 4);
    assert.equal(sampleValue(after, 'kubedask_worker_tasks_total', { task_group: 'make', outcome: 'finished' }), undefined, 'ran on the peer');
    assert.equal(after.get('kubedask_worker_task_duration_seconds')!.type, 'histogram');
    assert.equal(sampleValue(after, 'kubedask_worker_task_duration_seconds_count', { task_group: 'big' }), 4);
    assert.equal(sampleValue(after, 'kubedask_worker_task_duration_seconds_bucket', { task_group: 'big', le: '+Inf' }), 4);
    assert.equal(sampleValue(after, 'kubedask_worker_transfers_total'), 1);
    assert.ok(sampleValue(after, 'kubedask_worker_transfer_bytes_total')! >= 300_000, 'the fetched value\'s bytes');
    assert.ok(sampleValue(after, 'kubedask_worker_transfer_seconds_total')! > 0);
    assert.ok(sampleValue(after, 'kubedask_worker_spilled_bytes_total')! >= 400_000);
    assert.ok(sampleValue(after, 'kubedask_worker_spilled_bytes')! >= 400_000, 'bytes on disk now');
    assert.ok(sampleValue(after, 'kubedask_worker_memory_bytes')! > 0, 'results in memory');
    assert.equal(sampleValue(after, 'kubedask_worker_tasks_executing'), 0);
    assert.equal((await fetch(new URL('/', url))).status, 404, 'only /metrics is served');
  });

  it('load prom-client only in a worker that serves metrics', () => {
    const script = `
      import { createRequire } from 'node:module';
      const { startWorker } = await import(${JSON.stringify(workerModule)});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('/node_modules/prom-client/'));
      const options = { scheduler: '127.0.0.1:1', nthreads: 1, memoryLimit: 0, resources: {}, logLevel: 'silent', reconnectTimeoutMs: 60000 };
      const plain = await startWorker(options);
      const without = loaded();
      await plain.close();
      const served = await startWorker({ ...options, metricsPort: 0 });
      const text = await (await fetch(served.metricsUrl)).text();
      console.log(JSON.stringify({ without, url: plain.metricsUrl, with: loaded(), threads: /^kubedask_worker_threads 1$/m.test(text) }));
      await served.close();`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { without: false, url: '', with: true, threads: true });
  });

  it('reject a bad metrics port with a clear error', () => {
    const r = spawnSync(process.execPath, [bin, 'worker', '--scheduler', '127.0.0.1:1', '--metrics-port', '70000'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--metrics-port must be a port number 0-65535, got "70000"/);
  });
});
