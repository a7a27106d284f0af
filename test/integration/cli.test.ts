// The `kubedask` command as a user runs it: exit codes, clean shutdown, no orphans.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeTools } from '../helpers/kube-tools.js';
import { fileURLToPath } from 'node:url';
import { Client } from '../../index.js';
import { processAlive, waitUntil } from '../helpers/wait.js';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));

describe('kubedask CLI', () => {
  it('exits 2 with one clear line on bad usage', () => {
    const unknown = spawnSync(process.execPath, [bin, 'frobnicate'], { encoding: 'utf8' });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const noScheduler = spawnSync(process.execPath, [bin, 'worker'], { encoding: 'utf8' });
    assert.equal(noScheduler.status, 2);
    assert.match(noScheduler.stderr, /--scheduler HOST:PORT is required/);
    const badSize = spawnSync(process.execPath, [bin, 'local', '--memory-limit', 'lots'], { encoding: 'utf8' });
    assert.equal(badSize.status, 2);
    assert.match(badSize.stderr, /--memory-limit must be a size/);
  });

  it('`demo` computes per-airport delays over the 3M flights and exits 0', () => {
    const r = spawnSync(process.execPath, [bin, 'demo', '--rows', '2000000', '--partitions', '4', '--top', '5'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /4 partitions of .*flights-3m\.parquet \(2000000 rows\)/);
    assert.match(r.stdout, /partitions computed \[#+\] 4\/4/);
    const rows = r.stdout.split('\n').filter((line) => /^[A-Z]{3}\s+\d+\s+-?\d+\.\d/.test(line));
    assert.equal(rows.length, 5, r.stdout);
    const means = rows.map((line) => Number(line.trim().split(/\s+/)[2]));
    assert.deepEqual(means, [...means].sort((a, b) => b - a), 'sorted by mean delay, worst first');
  });

  it('exits 1 when the scheduler cannot be reached', () => {
    const r = spawnSync(process.execPath, [bin, 'worker', '--scheduler', '127.0.0.1:1', '--connect-timeout', '1'], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /kubedask worker: /);
  });

  it('`scheduler` and `worker` processes form a cluster and stop cleanly on SIGTERM', async (t) => {
    const scheduler = spawn(process.execPath, [bin, 'scheduler', '--host', '127.0.0.1', '--port', '0', '--dashboard-port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    scheduler.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const schedulerExit = new Promise<number | null>((r) => scheduler.on('exit', (code) => r(code)));
    t.after(() => { scheduler.kill('SIGKILL'); });
    await waitUntil(() => /dashboard at http/.test(out), 'the scheduler to start');
    const address = /grpc:\/\/(\S+)/.exec(out)![1]!;
    const worker = spawn(process.execPath, [bin, 'worker', '--scheduler', address, '--nthreads', '2', '--name', 'cli-w', '--resources', 'GPU=1'], { stdio: 'ignore' });
    const workerExit = new Promise<number | null>((r) => worker.on('exit', (code) => r(code)));
    t.after(() => { worker.kill('SIGKILL'); scheduler.kill('SIGKILL'); });
    const client = await Client.connect(`grpc://${address}`);
    await waitUntil(async () => (await client.clusterInfo()).workers.length === 1, 'the worker to register');
    const [info] = (await client.clusterInfo()).workers;
    assert.equal(info!.name, 'cli-w');
    assert.equal(info!.nthreads, 2);
    assert.deepEqual(info!.resources, { GPU: 1 });
    assert.equal(await client.submitWith({ resources: { GPU: 1 } }, () => 'on the gpu worker').result(), 'on the gpu worker');
    await client.close();
    worker.kill('SIGTERM');
    assert.equal(await workerExit, 0);
    scheduler.kill('SIGTERM');
    assert.equal(await schedulerExit, 0);
  });

  it('`sim` starts an API server and kubelet that kubectl uses through the written kubeconfig', async (t) => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'sim-cli-')), 'config');
    const sim = spawn(process.execPath, [bin, 'sim', '--port', '0', '--kubeconfig', kubeconfig, '--nodes', '2', '--gpus-per-node', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    sim.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => sim.on('exit', (code) => r(code)));
    t.after(() => { sim.kill('SIGKILL'); });
    await waitUntil(() => /press Ctrl-C/.test(out), 'the emulator to start');
    const nodes = await new Promise<string>((resolve, reject) => {
      execFile(kubeTools().kubectl, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.capacity.nvidia\\.com/gpu}{"\\n"}{end}'],
        { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: tmpdir() } }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)));
    });
    assert.deepEqual(nodes.trim().split('\n').sort(), ['sim-node-0=1', 'sim-node-1=1']);
    sim.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  it('`local` serves clients and stops cleanly on SIGTERM, leaving no worker processes', async (t) => {
    const child = spawn(process.execPath, [bin, 'local', '--workers', '2', '--port', '0', '--dashboard-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    t.after(() => { child.kill('SIGKILL'); });
    await waitUntil(() => /press Ctrl-C/.test(out), 'the cluster to start');
    const address = /grpc:\/\/(\S+)/.exec(out)![1]!;
    const client = await Client.connect(address);
    const info = await client.clusterInfo();
    assert.equal(info.workers.length, 2);
    assert.equal(await client.submit((x: number) => x * 2, 21).result(), 42);
    await client.close();
    const pids = (await workerPids(child.pid!));
    assert.equal(pids.length, 2, `two worker processes, got ${pids.join(',')}`);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    await waitUntil(() => pids.every((p) => !processAlive(p)), 'worker processes to exit', 10_000);
  });
});

/** Child processes of pid, from /proc. */
async function workerPids(pid: number): Promise<number[]> {
  const { readFile } = await import('node:fs/promises');
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return children.trim().split(/\s+/).filter(Boolean).map(Number);
}
