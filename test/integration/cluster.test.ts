// End to end on real processes: a LocalCluster (scheduler here, workers as processes).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromArrays, type Table } from 'apache-arrow';
import { Future, GraphValidationError, LocalCluster, RemoteTaskError, delayed } from '../../index.js';
import { useCluster, withCluster } from '../helpers/cluster.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil, within } from '../helpers/wait.js';
import { WORKER_GLIBC_TUNABLES } from '../../operator/builders/worker-malloc.js';

// Each test has its own deadline, well inside the file's, so a hang names its test.
const PER_TEST = { timeout: 90_000 };

describe('LocalCluster with 2 workers', () => {
  const fx = useCluster({ workers: 2, threads: 1 });

  it('runs 10,000 independent tasks', PER_TEST, async () => {
    const futures = fx.client.map((x: number) => x * 2, Array.from({ length: 10_000 }, (_, i) => i));
    const values = await fx.client.gather(futures);
    assert.equal(values.length, 10_000);
    assert.deepEqual(values.slice(0, 3), [0, 2, 4]);
    assert.equal(values.reduce((a, b) => a + b, 0), 2 * ((9_999 * 10_000) / 2));
  });

  it('runs a tree reduction of 10,000 leaves', PER_TEST, async () => {
    let layer: Future<number>[] = fx.client.map((x: number) => x + 1, Array.from({ length: 10_000 }, (_, i) => i));
    let tasks = layer.length;
    while (layer.length > 1) {
      const next: Future<number>[] = [];
      for (let i = 0; i + 1 < layer.length; i += 2) next.push(fx.client.submit((a: number, b: number) => a + b, layer[i], layer[i + 1]));
      if (layer.length % 2) next.push(layer.at(-1)!);
      tasks += Math.floor(layer.length / 2);
      layer = next;
    }
    assert.equal(tasks, 19_999);
    assert.equal(await layer[0]!.result(), (10_000 * 10_001) / 2);
  });

  it('runs a diamond graph, with futures nested in arguments', PER_TEST, async () => {
    const a = fx.client.submit((x: number) => x + 1, 1);
    const b = fx.client.submit((x: number) => x * 10, a);
    const c = fx.client.submit((x: number) => x * 100, a);
    const d = fx.client.submit((parts: { left: number; right: number[] }) => parts.left + parts.right[0]!, { left: b, right: [c] });
    assert.equal(await d.result(), 20 + 200);
  });

  it('computes a delayed graph, keeping only its outputs in memory', PER_TEST, async () => {
    const inc = delayed((x: number) => x + 1);
    const add = delayed((x: number, y: number) => x + y);
    const x = inc(1);
    const total = add(x, inc(x));
    const result = fx.client.compute(total);
    assert.equal(await result.result(), 2 + 3);
    // Interior results are freed from memory (kept as lineage only while the output lives).
    await waitUntil(() => fx.cluster.scheduler.core.state.taskState(x.key) !== 'memory', 'interior results to be freed');
    assert.equal(fx.cluster.scheduler.core.state.taskState(total.key), 'memory');
    result.release(); // and keeps `result` alive (so its key is held) until here
  });

  it('passes an Arrow table between workers', PER_TEST, async () => {
    await fx.cluster.addWorker({ name: 'producer', resources: { PRODUCER: 1 } });
    await fx.cluster.addWorker({ name: 'consumer', resources: { CONSUMER: 1 } });
    const made = fx.client.submitWith({ resources: { PRODUCER: 1 } }, async (n: number) => {
      const arrow = await import('apache-arrow');
      const ids = Int32Array.from({ length: n }, (_, i) => i);
      return arrow.tableFromArrays({ id: ids, value: Float64Array.from(ids, (i) => i * 0.5) });
    }, 300_000);
    const summed = fx.client.submitWith({ resources: { CONSUMER: 1 } }, (t: Table) => {
      let sum = 0;
      for (const v of t.getChild('value')!) sum += v as number;
      return { rows: t.numRows, sum, pid: process.pid };
    }, made);
    const out = (await summed.result()) as { rows: number; sum: number; pid: number };
    assert.equal(out.rows, 300_000);
    assert.equal(out.sum, 0.5 * ((299_999 * 300_000) / 2));
    assert.equal(out.pid, fx.cluster.workerPids.consumer);
    const table = (await made.result()) as Table;
    assert.equal(table.numRows, 300_000);
  });

  it('starts worker processes with the malloc settings, unless their environment has its own', PER_TEST, async () => {
    const tunables = () => process.env.GLIBC_TUNABLES;
    assert.equal(await fx.client.submit(tunables).result(), process.env.GLIBC_TUNABLES ?? WORKER_GLIBC_TUNABLES);
    await fx.cluster.addWorker({ name: 'own-malloc', resources: { OWN_MALLOC: 1 }, env: { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=131072' } });
    assert.equal(await fx.client.submitWith({ resources: { OWN_MALLOC: 1 } }, tunables).result(), 'glibc.malloc.trim_threshold=131072');
  });

  it('scatters an Arrow table and uses it as a dependency', PER_TEST, async () => {
    const local = tableFromArrays({ x: Float64Array.from([1, 2, 3]) });
    const remote = fx.client.scatter(local);
    const total = fx.client.submit((t: Table) => [...t.getChild('x')!].reduce((a: number, b) => a + (b as number), 0), remote);
    assert.equal(await total.result(), 6);
  });

  it('reports a task that throws with the remote message and stack, and carries on', PER_TEST, async () => {
    const bad = fx.client.submit(function explode(x: number) {
      if (x > 0) throw new RangeError(`too big: ${x}`);
      return x;
    }, 5);
    const after = fx.client.submit((x: number) => x, bad);
    await assert.rejects(bad.result(), (err: unknown) => {
      assert.ok(err instanceof RemoteTaskError);
      assert.equal(err.remoteName, 'RangeError');
      assert.match(err.message, /too big: 5/);
      assert.match(err.stack ?? '', /explode/);
      return true;
    });
    await assert.rejects(after.result(), /too big: 5/);
    assert.equal(await fx.client.submit((x: number) => x + 1, 41).result(), 42);
  });

  it('rejects a graph with a missing dependency or unknown function, naming the key', PER_TEST, async () => {
    const ghost = new Future<number>('never-submitted', fx.client);
    const f = fx.client.submit((x: number) => x, ghost);
    await assert.rejects(f.result(), (err: unknown) => {
      assert.ok(err instanceof GraphValidationError);
      assert.match(err.message, /never-submitted/);
      return true;
    });
  });

  it('treats a key submitted twice in one turn as one task, and fails only the bad key of a batch', PER_TEST, async () => {
    const a = fx.client.submitWith({ key: 'dup-key' }, (x: number) => x + 1, 1);
    const b = fx.client.submitWith({ key: 'dup-key' }, (x: number) => x + 1, 1);
    const ghost = new Future<number>('no-such-key', fx.client);
    const bad = fx.client.submit((x: number) => x, ghost);
    const downstream = fx.client.submit((x: number) => x, bad);
    const fine = fx.client.submit((x: number) => x * 7, 6);
    assert.deepEqual([await a.result(), await b.result(), await fine.result()], [2, 2, 42]);
    await assert.rejects(bad.result(), /no-such-key/);
    await assert.rejects(downstream.result(), /no-such-key/);
  });

  it('runs a key again after it was cancelled, and after it was released and resubmitted in one turn', PER_TEST, async () => {
    const slow = fx.client.submitWith({ key: 'again' }, (ms: number) => { const end = Date.now() + ms; while (Date.now() < end); return 'first'; }, 300);
    await fx.client.cancel(slow);
    await slow.wait().catch(() => undefined);
    const second = fx.client.submitWith({ key: 'again' }, () => 'second');
    assert.equal(await second.result(), 'second');
    const once = fx.client.submitWith({ key: 'cycle-key' }, () => 1);
    await once.wait();
    once.release();
    const twice = fx.client.submitWith({ key: 'cycle-key' }, () => 1);
    assert.equal(await twice.result(), 1);
  });

  it('refuses arguments that cannot travel unchanged (class instances)', PER_TEST, () => {
    class Account { balance = 1; }
    assert.throws(() => fx.client.submit((m: unknown) => m, new Account()), { name: 'ValueEncodingError', message: /is a Account/ });
    assert.throws(() => fx.client.submit((m: unknown) => m, { nested: new Set([new Account()]) }), { name: 'ValueEncodingError', message: /\.nested<Set item 0> is a Account/ });
  });

  it('cancels queued work', PER_TEST, async () => {
    const slow = fx.client.map((ms: number) => { const end = Date.now() + ms; while (Date.now() < end); return ms; }, Array.from({ length: 50 }, () => 100));
    await fx.client.cancel(slow);
    const statuses = await Promise.all(slow.map((f) => f.wait().then(() => f.status, () => f.status)));
    assert.ok(statuses.filter((s) => s === 'cancelled').length >= 40, `most were cancelled: ${statuses.join(',')}`);
    assert.equal(await fx.client.submit((x: number) => x * 3, 3).result(), 9);
  });

  it('yields futures as they complete, with their index', PER_TEST, async () => {
    const fs = fx.client.map((x: number) => x, [1, 2, 3, 4]);
    const seen: number[] = [];
    for await (const { future, index } of fx.client.asCompleted(fs)) {
      assert.equal(future, fs[index]);
      seen.push(await future.result());
    }
    assert.deepEqual(seen.sort(), [1, 2, 3, 4]);
    assert.deepEqual(await fx.client.gather({ first: fs[0]!, last: fs[3]! }), { first: 1, last: 4 });
  });

  it('releases keys when futures are released', PER_TEST, async () => {
    const f = fx.client.submit((x: number) => x, 7);
    await f.wait();
    const key = f.key;
    f.release();
    await waitUntil(() => !fx.cluster.scheduler.core.state.knownKey(key), 'the scheduler to forget the key', 10_000);
  });
});

describe('LocalCluster start-up', () => {
  it('says why a worker failed to start', PER_TEST, async () => {
    const cluster = new LocalCluster({ workers: 1, memoryLimit: 'lots', dashboardPort: -1 });
    await assert.rejects(cluster.started(), /worker local-0 did not register: its process exited: .*--memory-limit must be a size/);
    await cluster.close();
  });
});

describe('resources', () => {
  it('runs a {GPU: 1} task only once a GPU worker joins, and there', PER_TEST, async () => {
    await withCluster({ workers: 1, threads: 1 }, async (cluster, client) => {
      const gpuTask = client.submitWith({ resources: { GPU: 1 } }, () => process.pid);
      await waitUntil(() => cluster.scheduler.core.state.counts().noWorker === 1, 'the task to wait as no-worker demand');
      assert.equal(gpuTask.status, 'pending');
      await cluster.addWorker({ name: 'gpu-0', resources: { GPU: 1 } });
      assert.equal(await gpuTask.result(), cluster.workerPids['gpu-0']);
    });
  });
});

describe('losing a worker', () => {
  it('recomputes from lineage after a SIGKILL mid-graph and returns the right result', PER_TEST, async () => {
    await withCluster({ workers: 3, threads: 1 }, async (cluster, client) => {
      const busy = (x: number) => { const end = Date.now() + 20; while (Date.now() < end); return x + 1; };
      const leaves = client.map(busy, Array.from({ length: 200 }, (_, i) => i));
      let layer: Future<number>[] = leaves;
      while (layer.length > 1) {
        const next: Future<number>[] = [];
        for (let i = 0; i + 1 < layer.length; i += 2) next.push(client.submit((a: number, b: number) => a + b, layer[i], layer[i + 1]));
        if (layer.length % 2) next.push(layer.at(-1)!);
        layer = next;
      }
      await waitUntil(() => cluster.scheduler.core.state.counts().memory >= 40, 'some results to be in memory');
      const victim = cluster.workerPids['local-1']!;
      process.kill(victim, 'SIGKILL');
      // Under heavy load this once hung until the test's deadline: if it does again, say where.
      const state = cluster.scheduler.core.state;
      const explain = () => `counts ${JSON.stringify(state.counts())}, workers ${state.workerIds().join(',')}, `
        + `the root's story ${JSON.stringify(state.story(layer[0]!.key).slice(-8))}`;
      assert.equal(await within(layer[0]!.result(), 'the sum after losing a worker', 60_000, explain), (200 * 201) / 2);
      assert.equal(cluster.scheduler.core.workers.size, 2);
    });
  });

  it('settles every one of 2,000 futures when a task kills its worker mid-run', PER_TEST, async () => {
    await withCluster({ workers: 3, threads: 1 }, async (_cluster, client) => {
      const marker = join(mkdtempSync(join(tmpdir(), 'kill-once-')), 'killed');
      const futures = client.map((i: number) => i * 2, Array.from({ length: 2000 }, (_, i) => i));
      const killer = client.submit(async (path: string) => {
        const fs = await import('node:fs');
        if (!fs.existsSync(path)) {
          fs.writeFileSync(path, 'x');
          process.kill(process.pid, 'SIGKILL');
        }
        return 'survived';
      }, marker);
      const values = await client.gather(futures);
      assert.deepEqual(values, Array.from({ length: 2000 }, (_, i) => i * 2));
      assert.equal(await killer.result(), 'survived');
    });
  });

  it('marks a task that kills three workers as erred, saying so', PER_TEST, async () => {
    await withCluster({ workers: 4, threads: 1 }, async (_cluster, client) => {
      const killer = client.submit(() => process.kill(process.pid, 'SIGKILL'));
      await assert.rejects(killer.result(), /3 workers|three workers/);
      assert.equal(await client.submit((x: number) => x, 1).result(), 1);
    });
  });
});
