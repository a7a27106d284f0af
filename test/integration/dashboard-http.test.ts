// The dashboard's HTTP side without a browser: the snapshot, the server-sent deltas that add up
// to the same history, shared work for pages at one point, the static files and what must not
// be served, and a close that does not wait on open event streams.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { DeltaRequest, HistoryDelta, HistorySnapshot } from '../../scheduler/history/types.js';
import { FixtureHistory, generateFixture } from '../helpers/history-fixture.js';
import { serveDashboard, type DashboardFixtureServer } from '../helpers/dashboard-server.js';
import { waitUntil } from '../helpers/wait.js';

/** Reads an event stream's `data:` events as they come; close() aborts it. */
function follow(url: string) {
  const abort = new AbortController();
  const deltas: HistoryDelta[] = [];
  const done = (async () => {
    const res = await fetch(url, { signal: abort.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (event.startsWith('data: ')) deltas.push(JSON.parse(event.slice(6)) as HistoryDelta);
      }
    }
  })().catch((err: Error) => { if (err.name !== 'AbortError') throw err; });
  return { deltas, close: () => { abort.abort(); return done; } };
}

const query = (r: DeltaRequest) => `api/events?cursor=${r.cursor}&lanes=${r.lanes}&groups=${r.groups}&since=${r.since}`;

describe('dashboard over HTTP', () => {
  const fixture = generateFixture({ workers: 3, threads: 2, tasks: 500, failures: 2 });
  const history = new FixtureHistory(fixture, fixture.full.startedAt + 2000);
  let calls = 0;
  const counted = Object.assign(Object.create(history) as FixtureHistory, {
    delta: (r: DeltaRequest) => { calls++; return history.delta(r); },
  });
  let server: DashboardFixtureServer;
  before(async () => { server = await serveDashboard(counted); });
  after(async () => { await server?.close(); });

  test('the deltas pushed after a snapshot add up to the whole session', async () => {
    const snapshot = await (await fetch(`${server.url}api/history`)).json() as HistorySnapshot;
    assert.deepEqual(snapshot, history.snapshot());
    assert.ok(snapshot.cursor > 0 && snapshot.cursor < fixture.full.cursor);
    const stream = follow(`${server.url}${query({ cursor: snapshot.cursor, lanes: snapshot.lanes.length, groups: snapshot.groups.length, since: snapshot.now })}`);
    try {
      await waitUntil(() => stream.deltas.length > 0, 'a first delta');
      history.clock = fixture.end;
      await waitUntil(() => stream.deltas.at(-1)?.cursor === fixture.full.cursor, 'a delta reaching the end of the session');
      const keys = [...snapshot.stream.key, ...stream.deltas.flatMap((d) => d.stream.key)];
      assert.deepEqual(keys, fixture.full.stream.key, 'every entry once, in order');
      const failed = [...snapshot.failed, ...stream.deltas.flatMap((d) => d.failed)];
      assert.deepEqual(failed.map((f) => f.key), fixture.full.failed.map((f) => f.key));
      const samples = [...snapshot.cluster.t, ...stream.deltas.flatMap((d) => d.cluster.t)];
      assert.deepEqual(samples, fixture.full.cluster.t);
      stream.deltas.forEach((d, i) => assert.equal(d.from, i === 0 ? snapshot.cursor : stream.deltas[i - 1].cursor));
    } finally {
      await stream.close();
    }
  });

  test('pages at the same point share one delta a tick', async () => {
    const snapshot = history.snapshot();
    const request = { cursor: snapshot.cursor, lanes: snapshot.lanes.length, groups: snapshot.groups.length, since: snapshot.now };
    const a = follow(`${server.url}${query(request)}`);
    const b = follow(`${server.url}${query(request)}`);
    try {
      const before = calls;
      await waitUntil(() => a.deltas.length >= 3 && b.deltas.length >= 3, 'three deltas on each page');
      assert.ok(calls - before <= Math.max(a.deltas.length, b.deltas.length) + 1, `${calls - before} deltas computed for ${a.deltas.length} + ${b.deltas.length} sent`);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('pages a long stream: a snapshot and deltas of at most maxEntries entries each', async () => {
    history.clock = fixture.end;
    const page = 64;
    const snapshot = await (await fetch(`${server.url}api/history?maxEntries=${page}`)).json() as HistorySnapshot;
    assert.equal(snapshot.cursor, page);
    assert.deepEqual(snapshot.stream.key, fixture.full.stream.key.slice(0, page));
    const request = { cursor: snapshot.cursor, lanes: snapshot.lanes.length, groups: snapshot.groups.length, since: snapshot.now };
    const stream = follow(`${server.url}${query(request)}&maxEntries=${page}&scheduler=${snapshot.scheduler}`);
    try {
      await waitUntil(() => stream.deltas.at(-1)?.cursor === fixture.full.cursor, 'deltas reaching the end of the session');
      assert.ok(stream.deltas.length >= Math.ceil((fixture.full.cursor - page) / page), `${stream.deltas.length} deltas`);
      for (const d of stream.deltas) assert.ok(d.stream.key.length <= page, `a delta of ${d.stream.key.length} entries`);
      assert.deepEqual([...snapshot.stream.key, ...stream.deltas.flatMap((d) => d.stream.key)], fixture.full.stream.key);
    } finally {
      await stream.close();
    }
  });

  test('refuses a position in another scheduler\'s history (it restarted) with 409', async () => {
    const res = await fetch(`${server.url}${query({ cursor: 0, lanes: 0, groups: 0, since: 0 })}&scheduler=scheduler-gone`);
    assert.equal(res.status, 409);
    assert.match(await res.text(), /this is scheduler-fixture, not scheduler-gone: load \/api\/history again/);
  });

  test('refuses a maxEntries that is not a count', async () => {
    for (const bad of ['api/history?maxEntries=0', 'api/history?maxEntries=x', 'api/events?cursor=0&lanes=0&groups=0&since=0&maxEntries=1.5']) {
      const res = await fetch(`${server.url}${bad}`);
      assert.equal(res.status, 400, bad);
      assert.match(await res.text(), /takes maxEntries as an integer >= 1/);
    }
  });

  test('refuses an event stream without a valid position', async () => {
    for (const bad of ['api/events', 'api/events?cursor=-1&lanes=0&groups=0&since=0', 'api/events?cursor=x&lanes=0&groups=0&since=0', 'api/events?cursor=0&lanes=0.5&groups=0&since=0', 'api/events?cursor=0&lanes=0&groups=0&since=']) {
      const res = await fetch(`${server.url}${bad}`);
      assert.equal(res.status, 400, bad);
      assert.match(await res.text(), /needs \w+ as a non-negative (integer|number)/);
    }
  });

  test('serves the pages, uPlot and the old endpoints, and nothing outside the dashboard', async () => {
    const page = await fetch(server.url);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /static\/app\.js/);
    const script = await fetch(`${server.url}static/app.js`);
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(await (await fetch(`${server.url}vendor/uPlot.iife.min.js`)).text(), /uPlot/);
    assert.equal((await fetch(`${server.url}healthz`)).status, 200);
    const status = await (await fetch(`${server.url}api/status`)).json() as { scheduler: string; workers: unknown[] };
    assert.match(status.scheduler, /^scheduler-/);
    assert.equal((await fetch(`${server.url}metrics`)).status, 200);
    for (const path of ['static/..%2F..%2Fpackage.json', 'static/report.ts', 'vendor/uPlot.d.ts', 'static/', 'nope']) {
      assert.equal((await fetch(`${server.url}${path}`)).status, 404, path);
    }
  });
});

describe('dashboard close', () => {
  test('does not wait on an open event stream', async () => {
    const fixture = generateFixture({ workers: 1, threads: 1, tasks: 20, failures: 0 });
    const server = await serveDashboard(new FixtureHistory(fixture));
    const stream = follow(`${server.url}${query({ cursor: 0, lanes: 0, groups: 0, since: 0 })}`);
    await waitUntil(() => stream.deltas.length > 0, 'a delta');
    await server.close();
    await stream.close();
  });
});

describe('dashboard requests that cannot be served', () => {
  test('a request target no URL parses gets 400, a reply that fails to build 500, and the server serves on', async () => {
    const fixture = generateFixture({ workers: 1, threads: 1, tasks: 20, failures: 0 });
    const history = new FixtureHistory(fixture);
    const broken = Object.assign(Object.create(history) as FixtureHistory, { snapshot: () => { throw new Error('no snapshot today'); } });
    const server = await serveDashboard(broken);
    try {
      const { port, hostname } = new URL(server.url);
      // Node accepts absolute-form targets; this one is not a URL.
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => socket.end('GET http://[/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
        let text = '';
        socket.on('data', (d) => { text += String(d); });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(reply, /^HTTP\/1\.1 400 /);
      const failed = await fetch(`${server.url}api/history`);
      assert.equal(failed.status, 500);
      assert.match(await failed.text(), /no snapshot today/);
      assert.equal((await fetch(`${server.url}healthz`)).status, 200);
    } finally {
      await server.close();
    }
  });
});
