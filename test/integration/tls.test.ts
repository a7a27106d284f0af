// Mutual TLS end to end: scheduler and worker processes started with --tls-* flags, a client
// with the cluster's certificates, and refusals for clients without them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pl from 'nodejs-polars';
import { Client, ConnectionLostError, SchedulerUnreachableError, fromPolars, ml, startScheduler, startWorker } from '../../index.js';
import type { Tls } from '../../protocol/tls.js';
import { loadCerts as load, makeCerts } from '../helpers/certs.js';
import { waitUntil, within } from '../helpers/wait.js';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));

describe('mutual TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubedask-tls-'));
  const files = makeCerts(dir, 'cluster');
  const stranger = makeCerts(dir, 'stranger');
  const flags = ['--tls-ca', files.ca, '--tls-cert', files.cert, '--tls-key', files.key];
  const children: ChildProcess[] = [];
  let address = '';

  before(async () => {
    const scheduler = spawn(process.execPath, [bin, 'scheduler', '--host', '127.0.0.1', '--port', '0', '--no-dashboard', '--log-level', 'warn', ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(scheduler);
    let out = '';
    scheduler.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    await waitUntil(() => /tls:\/\/(\S+)/.test(out), 'the scheduler to start');
    address = /tls:\/\/(\S+)/.exec(out)![1]!;
    for (const r of ['A', 'B']) {
      children.push(spawn(process.execPath, [bin, 'worker', '--scheduler', address, '--name', `w${r}`, '--nthreads', '1', '--resources', `${r}=1`, ...flags], { stdio: 'ignore' }));
    }
  });
  after(() => { for (const c of children) c.kill('SIGKILL'); });

  it('runs work across two workers, dependencies fetched over TLS', async () => {
    const client = await Client.connect(address, { tls: load(files) });
    try {
      await waitUntil(async () => (await client.clusterInfo()).workers.length === 2, 'both workers to register over TLS');
      const made = client.submitWith({ resources: { A: 1 } }, (n: number) => Array.from({ length: n }, (_, i) => i), 1000);
      const summed = client.submitWith({ resources: { B: 1 } }, (xs: number[]) => xs.reduce((a, b) => a + b, 0), made);
      assert.equal(await summed.result(), (999 * 1000) / 2);
    } finally {
      await client.close();
    }
  });

  it('grows a boosting fit on both workers, their task threads\' links in mutual TLS too', { timeout: 120_000 }, async () => {
    const client = await Client.connect(address, { tls: load(files) });
    try {
      await waitUntil(async () => (await client.clusterInfo()).workers.length === 2, 'both workers to register over TLS');
      const data = pl.readParquet(fileURLToPath(new URL('../../../test/fixtures/ml/gbdt_data.parquet', import.meta.url))).select('x0', 'x1', 'x2', 'yb');
      const train = fromPolars(data, { partitions: 2 }).persist({ client });
      await train.count({ client });
      await train.rebalance({ client });
      assert.deepEqual((await client.clusterInfo()).workers.map((w) => w.inMemory > 0), [true, true], 'a partition on each worker');
      const model = await new ml.HistGradientBoostingClassifier({ maxIter: 12, earlyStopping: false }).fit(train, 'yb', { client });
      assert.equal(model.nIter, 12);
      // Grown by the workers among themselves (a block that failed would go on round by round).
      const progress = (await client.history()).progress;
      const done = (group: string) => progress.filter((g) => g.group === group).reduce((n, g) => n + g.done, 0);
      assert.ok(done('ml-gbdt-grow') >= 2, `${done('ml-gbdt-grow')} blocks' tasks done`);
      assert.equal(done('ml-gbdt-round'), 0, 'no round run by the client');
    } finally {
      await client.close();
    }
  });

  it('takes the certificate of a target that carries one (a KubeCluster\'s tls), an explicit option winning', async () => {
    const client = await Client.connect({ address, tls: load(files) }, { timeoutMs: 5000 });
    try {
      assert.equal(await client.submit((x: number) => x + 1, 1).result(), 2);
    } finally {
      await client.close();
    }
    await assert.rejects(Client.connect({ address, tls: load(files) }, { tls: load(stranger), timeoutMs: 3000 }), ConnectionLostError);
  });

  it('connects with no target as a DaskJob runner does: address and TLS files from the environment', async () => {
    const names = ['KUBEDASK_SCHEDULER_ADDRESS', 'KUBEDASK_TLS_CA', 'KUBEDASK_TLS_CERT', 'KUBEDASK_TLS_KEY'] as const;
    const saved = names.map((n) => process.env[n]);
    const set = (values: (string | undefined)[]) => names.forEach((n, i) => {
      if (values[i] === undefined) delete process.env[n];
      else process.env[n] = values[i];
    });
    try {
      set([address, files.ca, files.cert, files.key]);
      const client = await Client.connect();
      try {
        assert.equal(await client.submit((x: number) => x * 3, 7).result(), 21);
      } finally {
        await client.close();
      }
      set([address, files.ca, undefined, undefined]);
      await assert.rejects(Client.connect(), /\$KUBEDASK_TLS_CA, \$KUBEDASK_TLS_CERT, \$KUBEDASK_TLS_KEY go together; only \$KUBEDASK_TLS_CA set/);
      set([address, files.ca, files.cert, join(dir, 'nope.key')]);
      await assert.rejects(Client.connect(), /cannot read \$KUBEDASK_TLS_KEY \(.*nope\.key\)/);
    } finally {
      set(saved);
    }
  });

  it('refuses a client with certificates from another CA', async () => {
    await assert.rejects(Client.connect(address, { tls: load(stranger), timeoutMs: 3000 }), ConnectionLostError);
  });

  // A connect timeout far past the deadline of within(): only the fast path can pass.
  const PATIENT = { timeoutMs: 120_000, reconnectTimeoutMs: 120_000 };
  const mismatch = async (attempt: Promise<unknown>, what: string): Promise<SchedulerUnreachableError> => {
    const err = await within(attempt.then(() => assert.fail(`${what} succeeded`), (e: unknown) => e), `${what} to fail`, 30_000);
    assert.ok(err instanceof SchedulerUnreachableError, `got ${String(err)}`);
    assert.equal(err.reason, 'tls-mismatch');
    return err;
  };
  /** A worker's start, rejected with the error it closed with. */
  const workerExit = async (scheduler: string, tls?: Tls): Promise<void> => {
    const worker = await startWorker({ scheduler, tls, nthreads: 1, memoryLimit: 0, resources: {}, logLevel: 'silent', reconnectTimeoutMs: PATIENT.reconnectTimeoutMs });
    const exit = await worker.closed;
    assert.equal(exit.reason, 'scheduler unreachable');
    throw exit.error;
  };

  it('tells a client or worker without TLS at once that a TLS mismatch is likely', async () => {
    const client = await mismatch(Client.connect(address, { timeoutMs: PATIENT.timeoutMs }), 'a plain client connecting to a TLS scheduler');
    assert.equal(client.message, `could not reach the scheduler at ${address}: it speaks TLS and this connection is plain (no TLS certificates given): `
      + 'a TLS mismatch is likely; connect with the cluster\'s CA, certificate and key (the tls option, or --tls-ca, --tls-cert and --tls-key)');
    const worker = await mismatch(workerExit(address), 'a plain worker registering with a TLS scheduler');
    assert.equal(worker.message, client.message);
  });

  it('tells a client or worker with TLS at once that a plain scheduler is a TLS mismatch', async () => {
    const plain = await startScheduler({ host: '127.0.0.1', port: 0, dashboardPort: -1, logLevel: 'silent' });
    try {
      const client = await mismatch(Client.connect(plain.address, { tls: load(files), timeoutMs: PATIENT.timeoutMs }), 'a TLS client connecting to a plain scheduler');
      assert.equal(client.message, `could not reach the scheduler at ${plain.address}: it answers plain gRPC (HTTP/2 without TLS) and this connection uses TLS: `
        + 'a TLS mismatch is likely; connect without TLS certificates, or start the scheduler with --tls-ca, --tls-cert and --tls-key');
      const worker = await mismatch(workerExit(plain.address, load(files)), 'a TLS worker registering with a plain scheduler');
      assert.equal(worker.message, client.message);
    } finally {
      await plain.close();
    }
  });

  it('wants all three TLS files, and says which one is missing', () => {
    const partial = spawnSync(process.execPath, [bin, 'scheduler', '--port', '0', '--tls-ca', files.ca], { encoding: 'utf8' });
    assert.equal(partial.status, 2);
    assert.match(partial.stderr, /--tls-ca, --tls-cert and --tls-key go together/);
    const missing = spawnSync(process.execPath, [bin, 'worker', '--scheduler', address, '--tls-ca', files.ca, '--tls-cert', files.cert, '--tls-key', join(dir, 'nope.key')], { encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--tls-key .*nope\.key: no such file/);
  });
});
