// The typed client on a LocalCluster: awaitable futures (and that nothing the client returns is
// unwrapped by it), the default client, and persist returning at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, defaultClient, delayed, Future, KubedaskError, LocalCluster, NoWorkersError, RemoteTaskError, ScatterFailedError } from '../../index.js';
import { useCluster, withCluster } from '../helpers/cluster.js';
import { waitUntil, within } from '../helpers/wait.js';

const PER_TEST = { timeout: 90_000 };

/** A task that appends a line to `log` each time it runs and holds until `gate` exists. */
async function gatedRun(log: string, gate: string, value: number): Promise<number> {
  const fs = await import('node:fs');
  fs.appendFileSync(log, 'ran\n');
  const deadline = Date.now() + 60_000;
  while (!fs.existsSync(gate)) {
    if (Date.now() > deadline) throw new Error(`gate ${gate} never opened`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return value;
}

const runs = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0);

describe('awaitable futures', () => {
  const fx = useCluster({ workers: 2, threads: 1 });

  it('give their value to await, and their error', PER_TEST, async () => {
    const f = fx.client.submit((x: number) => x * 2, 21);
    assert.equal(await f, 42);
    assert.equal(await f.result(), 42);
    const bad = fx.client.submit((x: number) => { if (x > 0) throw new RangeError('too big'); return x; }, 1);
    await assert.rejects(async () => { await bad; }, (err: unknown) => err instanceof RemoteTaskError && err.remoteName === 'RangeError');
    assert.deepEqual(await Promise.all(fx.client.map((x: number) => x + 1, [1, 2, 3])), [2, 3, 4]);
  });

  it('are returned as Futures by submit, map, scatter, compute, persist and asCompleted, never unwrapped', PER_TEST, async () => {
    const inc = delayed((x: number) => x + 1);
    const handles = [
      fx.client.submit((x: number) => x, 1), ...fx.client.map((x: number) => x, [1]),
      fx.client.scatter(1), ...fx.client.scatter([1], { list: true }), fx.client.compute(inc(0)), fx.client.persist(inc(0)),
    ];
    for (const h of handles) assert.ok(h instanceof Future, `${String(h)} is a Future`);
    for await (const { future, index } of fx.client.asCompleted(handles)) assert.equal(future, handles[index]);
    // What the client gives back settles to values; only gather unwraps, and keeps the shape.
    assert.deepEqual(await fx.client.gather({ all: handles, note: 'kept', nested: [{ f: handles[0] }] }), { all: [1, 1, 1, 1, 1, 1], note: 'kept', nested: [{ f: 1 }] });
  });

  it('are unwrapped by JavaScript wherever a promise resolves with one (the documented consequence)', PER_TEST, async () => {
    const fromAsync = async () => fx.client.submit((x: number) => x * 3, 3);
    assert.equal(await fromAsync(), 9);
    assert.equal(await Promise.resolve(fx.client.submit((x: number) => x * 4, 4)), 16);
  });

  it('scatter returns at once; a task submitted right after it waits for the data', PER_TEST, async () => {
    const data = new Map([['a', 1], ['b', 2]]);
    const scattered = fx.client.scatter(data);
    const size = fx.client.submit((m: Map<string, number>) => m.size, scattered);
    assert.equal(await size, 2);
    assert.equal(scattered.status, 'finished');
    assert.deepEqual(await scattered, data);
    const items = fx.client.scatter(new Set([5, 6]), { list: true });
    assert.deepEqual(await fx.client.gather(items), [5, 6]);
  });

  it('scatter with { list: true } takes an array or another iterable, not a string or a single value', PER_TEST, () => {
    const refused = (what: string) => new RegExp(`scatter\\(data, \\{ list: true \\}\\): data must be an array or another iterable of the values to scatter, got ${what}`);
    assert.throws(() => fx.client.scatter(5 as unknown as number[], { list: true }), refused('number'));
    assert.throws(() => fx.client.scatter('abc', { list: true }), refused('a string \\(scatter it whole without \\{ list: true \\}\\)'));
    assert.throws(() => fx.client.scatter(null as unknown as number[], { list: true }), refused('null'));
    assert.throws(() => fx.client.scatter({ a: 1 } as unknown as number[], { list: true }), refused('object'));
  });
});

describe('scatter with no workers', () => {
  it('fails the scattered Future with NoWorkersError, and the tasks that use it with that cause', PER_TEST, async () => {
    await withCluster({ workers: 0 }, async (_cluster, client) => {
      const lonely = client.scatter('data');
      const user = client.submit((s: string) => s.length, lonely);
      const [sameBatch] = client.map((n: number) => n + 1, [user]);
      await assert.rejects(lonely.result(), NoWorkersError);
      assert.equal(lonely.status, 'error');
      const failedForScatter = (key: string) => (err: unknown) => err instanceof ScatterFailedError && err.cause instanceof NoWorkersError
        && err.scatterKey === lonely.key && err.message.startsWith(`task ${key} was not run: it uses scattered value ${lonely.key}, whose scatter failed: `);
      await assert.rejects(user.result(), failedForScatter(user.key));
      await assert.rejects(sameBatch!.result(), failedForScatter(sameBatch!.key));
      const later = client.submit((n: number) => n * 2, user); // sent in a later graph
      await assert.rejects(later.result(), failedForScatter(later.key));
    });
  });
});

describe('the default client', () => {
  it('is the most recently connected open client, then the one before it', PER_TEST, async () => {
    assert.throws(() => Client.current(), (err: unknown) => err instanceof KubedaskError && /no open Client.*Client\.connect/.test(err.message));
    const cluster = await new LocalCluster({ workers: 1, dashboardPort: -1 }).started();
    try {
      const first = await Client.connect(cluster);
      assert.equal(Client.current(), first);
      const second = await Client.connect(cluster);
      assert.equal(defaultClient(), second);
      await second.close();
      assert.equal(Client.current(), first);
      await first.close();
      assert.throws(() => defaultClient(), /no open Client/);
      const third = await Client.connect(cluster);
      assert.equal(Client.current(), third);
      // A client whose scheduler goes away is no default either.
      await cluster.close();
      await waitUntil(() => { try { return Client.current() !== third; } catch { return true; } }, 'the lost client to stop being the default');
    } finally {
      await cluster.close();
    }
  });
});

describe('persist', () => {
  const fx = useCluster({ workers: 1, threads: 1 });

  it('returns at once; the result stays on the cluster and later graphs use it without recomputing', PER_TEST, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'persist-'));
    const log = join(dir, 'runs');
    const gate = join(dir, 'gate');
    const base = delayed(gatedRun)(log, gate, 20);
    const persisted = fx.client.persist(base);
    // Returned before the task could finish: it waits for the gate, which is still shut.
    assert.ok(persisted instanceof Future);
    assert.equal(persisted.status, 'pending');
    await waitUntil(() => runs(log) === 1, 'the persisted task to start');
    assert.equal(persisted.status, 'pending');
    writeFileSync(gate, '');
    await within(persisted.wait(), 'the persisted task to finish');
    const state = fx.cluster.scheduler.core.state;
    assert.equal(state.taskState(persisted.key), 'memory');
    // A graph built on the persisted node reuses its value.
    const doubled = fx.client.compute(delayed((x: number) => x * 2)(base));
    assert.equal(await doubled, 40);
    assert.equal(runs(log), 1);
    assert.equal(state.taskState(persisted.key), 'memory');
    persisted.release();
  });
});
