// client.getWorkerLogs() against a LocalCluster: what tasks print reaches their worker's log with
// the task's key whatever the worker's log level, the lines kept are bounded, and a worker that
// does not answer is named as such.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LocalCluster, type WorkerLogs } from '../../index.js';
import { useCluster, withCluster } from '../helpers/cluster.js';
import { LOG_LEVEL_ENV } from '../../protocol/log.js';
import { waitUntil } from '../helpers/wait.js';

const PER_TEST = { timeout: 120_000 };
const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));

/** The entry (address and logs) of the worker whose lines include task `key`'s. */
function holderOf(logs: Record<string, WorkerLogs>, key: string): [string, WorkerLogs] {
  const found = Object.entries(logs).find(([, w]) => w.lines.some((l) => l.key === key));
  assert.ok(found, `no worker logged a line of task ${key}: ${JSON.stringify(logs).slice(0, 2000)}`);
  return found;
}

// Workers inherit the environment: pin their level, so that a KUBEDASK_LOG_LEVEL=debug set for
// the test run does not add the workers' own lines among those counted here.
const savedLevel = process.env[LOG_LEVEL_ENV];
before(() => { process.env[LOG_LEVEL_ENV] = 'info'; });
after(() => {
  if (savedLevel === undefined) delete process.env[LOG_LEVEL_ENV];
  else process.env[LOG_LEVEL_ENV] = savedLevel;
});

describe('client.getWorkerLogs', () => {
  const fixture = useCluster({ workers: 2, threads: 1 });

  it('has what a task printed, with its key and level, from console and process.stdout/stderr', PER_TEST, async () => {
    const { client } = fixture;
    const future = client.submit((x: number) => {
      console.log('hello from task', x, { nested: [1, 2] });
      console.warn('careful');
      console.error(new Error('shown, not thrown').message);
      console.debug('below the worker\'s level, kept all the same');
      process.stdout.write('written in ');
      process.stdout.write('two parts\n');
      process.stderr.write('raw stderr\n');
      return x + 1;
    }, 7);
    assert.equal(await future.result(), 8);
    const logs = await client.getWorkerLogs();
    const addresses = (await client.clusterInfo()).workers.map((w) => w.address).sort();
    assert.deepEqual(Object.keys(logs).sort(), addresses, 'every connected worker has an entry');
    const [, worker] = holderOf(logs, future.key);
    assert.equal(worker.error, undefined);
    const mine = worker.lines.filter((l) => l.key === future.key).map((l) => [l.level, l.message]);
    assert.deepEqual(mine, [
      ['info', 'hello from task 7 { nested: [ 1, 2 ] }'],
      ['warn', 'careful'],
      ['error', 'shown, not thrown'],
      ['debug', 'below the worker\'s level, kept all the same'],
      ['info', 'written in two parts'],
      ['error', 'raw stderr'],
    ]);
    for (const line of worker.lines) assert.ok(line.time instanceof Date && !Number.isNaN(line.time.getTime()));
  });

  it('gives the n most recent lines, and only the workers asked for', PER_TEST, async () => {
    const { client } = fixture;
    const future = client.submit(() => {
      for (let i = 0; i < 5; i++) console.log(`line ${i}`);
    });
    await future.result();
    const [address, worker] = holderOf(await client.getWorkerLogs(), future.key);
    const lastTwo = await client.getWorkerLogs({ n: 2, workers: [worker.name] });
    assert.deepEqual(Object.keys(lastTwo), [address]);
    assert.deepEqual(lastTwo[address]!.lines.map((l) => l.message), ['line 3', 'line 4']);
    const unknown = await client.getWorkerLogs({ workers: ['no-such-worker'] });
    assert.deepEqual(unknown, { 'no-such-worker': { name: '', lines: [], error: 'no connected worker has the address or name "no-such-worker"' } });
    await assert.rejects(client.getWorkerLogs({ n: -1 }), /getWorkerLogs: n must be an integer >= 0/);
  });

  it('keeps at most 10 000 lines per worker, the most recent, when a task prints 30 000; gives 1000 unless asked for more', PER_TEST, async () => {
    const { client } = fixture;
    const future = client.submit((count: number) => {
      for (let i = 0; i < count; i++) console.log(`line ${i}`);
      return count;
    }, 30_000);
    await future.result();
    const [address, byDefault] = holderOf(await client.getWorkerLogs(), future.key);
    assert.equal(byDefault.lines.length, 1000);
    const worker = (await client.getWorkerLogs({ n: 0, workers: [address] }))[address]!;
    assert.equal(worker.lines.length, 10_000);
    assert.equal(worker.linesLeftOut, undefined, 'one worker\'s lines fit in a reply');
    const printed = worker.lines.filter((l) => l.key === future.key).map((l) => Number(l.message.slice('line '.length)));
    // 30 000 short lines stay well within what may be in flight, so none is dropped on the way:
    // what is kept is the tail, in order.
    assert.ok(printed.length >= 9_990, `kept ${printed.length} lines of the task`);
    assert.equal(printed.at(-1), 29_999);
    printed.forEach((n, i) => assert.equal(n, 29_999 - (printed.length - 1) + i));
  });

  it('names a worker that does not answer in time instead of leaving it out', PER_TEST, async () => {
    const { client, cluster } = fixture;
    const [name, pid] = Object.entries(cluster.workerPids)[0]!;
    process.kill(pid, 'SIGSTOP');
    try {
      const logs = await client.getWorkerLogs({ timeoutMs: 500 });
      const stopped = Object.values(logs).find((w) => w.name === name);
      assert.ok(stopped, `no entry for ${name}`);
      assert.deepEqual({ ...stopped, lines: stopped.lines.length }, { name, lines: 0, error: 'the worker did not answer within 500 ms' });
      assert.ok(Object.values(logs).some((w) => w.name !== name && w.error === undefined), 'the other worker answered');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  describe('with --log-lines', () => {
    let worker: ChildProcess | undefined;
    before(async () => {
      const { cluster, client } = fixture;
      worker = spawn(process.execPath, [bin, 'worker', '--scheduler', cluster.address, '--name', 'short-memory', '--nthreads', '1',
        '--resources', 'SHORT=1', '--log-lines', '3', '--log-level', 'error'], { stdio: 'ignore' });
      await waitUntil(async () => (await client.clusterInfo()).workers.some((w) => w.name === 'short-memory'), 'the worker with --log-lines 3 to register');
    });
    after(() => { worker?.kill('SIGKILL'); });

    it('keeps only that many lines, of task output below the worker\'s --log-level too', PER_TEST, async () => {
      const { client } = fixture;
      await client.submitWith({ resources: { SHORT: 1 } }, () => {
        for (let i = 0; i < 9; i++) console.log(`line ${i}`);
        console.debug('line 9');
      }).result();
      const logs = await client.getWorkerLogs({ workers: ['short-memory'] });
      assert.deepEqual(Object.values(logs).map((w) => w.lines.map((l) => [l.level, l.message])), [[['info', 'line 7'], ['info', 'line 8'], ['debug', 'line 9']]]);
    });
  });
});

describe('LocalCluster logLines', () => {
  it('sets the lines each worker keeps, and is checked', PER_TEST, async () => {
    assert.throws(() => new LocalCluster({ logLines: 5_000_000_000 }), /LocalCluster: logLines must be an integer from 0 to 1000000, got 5000000000/);
    await withCluster({ workers: 1, logLines: 2 }, async (_cluster, client) => {
      await client.submit(() => { for (let i = 0; i < 5; i++) console.log(`line ${i}`); }).result();
      const [worker] = Object.values(await client.getWorkerLogs({ n: 0 }));
      assert.deepEqual(worker!.lines.map((l) => l.message), ['line 3', 'line 4']);
    });
  });
});
