// The page's history model (dashboard/static/model.js, plain browser JS, loaded here as it is):
// snapshot plus deltas equals the whole history, and the visible-entry search equals a scan.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeltaRequest, HistoryDelta, HistorySnapshot, StreamColumns } from '../../scheduler/history/types.js';
import { SessionHistory } from '../../scheduler/history/session-history.js';
import { FixtureHistory, generateFixture } from '../helpers/history-fixture.js';
import { seededRandom } from '../helpers/random.js';

type Model = HistorySnapshot & { byLane: number[][] };
interface ModelModule {
  createModel(snapshot: HistorySnapshot): Model;
  applyDelta(model: Model, delta: HistoryDelta): void;
  deltaRequest(model: Model): DeltaRequest;
  forEachVisible(model: Model, lane: number, t0: number, t1: number, fn: (i: number) => void): void;
  groupTimings(model: Model): { group: string; count: number; totalMs: number; meanMs: number; errors: number }[];
}

// A path the compiler does not resolve: the module is browser JavaScript, copied into dist/.
const modelPath = new URL('../../dashboard/static/model.js', import.meta.url).href;
const load = () => import(modelPath) as Promise<ModelModule>;

describe('dashboard model', () => {
  test('a snapshot then the deltas, taken at uneven steps, hold the whole history', async () => {
    const m = await load();
    const fixture = generateFixture({ workers: 3, threads: 2, tasks: 800, failures: 3, seed: 5 });
    const history = new FixtureHistory(fixture, fixture.full.startedAt + 300);
    const model = m.createModel(history.snapshot());
    const random = seededRandom(11);
    while (history.clock < fixture.end) {
      history.clock = Math.min(fixture.end, history.clock + random() * 3000);
      m.applyDelta(model, history.delta(m.deltaRequest(model)));
    }
    const whole = new FixtureHistory(fixture).snapshot();
    for (const column of Object.keys(whole.stream) as (keyof StreamColumns)[]) assert.deepEqual(model.stream[column], whole.stream[column], column);
    assert.deepEqual(model.cluster, whole.cluster);
    assert.deepEqual(model.memory, whole.memory);
    assert.deepEqual(model.failed, whole.failed);
    assert.deepEqual(model.decisions, whole.decisions);
    assert.deepEqual(model.progress, whole.progress);
    assert.equal(model.cursor, whole.cursor);
  });

  test('pads series of groups and workers that appear later with nulls; drops workers a delta no longer names', async () => {
    const m = await load();
    const empty = { start: [], duration: [], lane: [], group: [], kind: [], key: [], bytes: [] };
    const model = m.createModel({
      scheduler: 's', startedAt: 0, now: 10, cursor: 0, dropped: 0, lanes: [], groups: [], stream: empty, progress: [], workers: [],
      cluster: { t: [5, 10], workers: [1, 1], processing: [0, 0], queued: [0, 0], memory: [0, 0], targets: { a: [1, 2] } },
      memory: { t: [5, 10], workers: { w0: { managed: [1, 2], unmanaged: [0, 0], spilled: [0, 0] } } },
      decisions: [], failed: [], workerEvents: [],
    });
    m.applyDelta(model, {
      now: 15, from: 0, cursor: 0, dropped: 0, lanes: [], groups: [], stream: empty, progress: [], workers: [],
      cluster: { t: [15], workers: [2], processing: [0], queued: [0], memory: [0], targets: { b: [3] } },
      memory: { t: [15], workers: { w0: { managed: [null], unmanaged: [null], spilled: [null] }, w1: { managed: [7], unmanaged: [0], spilled: [0] } } },
      decisions: [], failed: [], workerEvents: [],
    });
    assert.deepEqual(model.cluster.targets, { a: [1, 2, null], b: [null, null, 3] });
    assert.deepEqual(model.memory.workers.w0.managed, [1, 2, null]);
    assert.deepEqual(model.memory.workers.w1.managed, [null, null, 7]);
    m.applyDelta(model, {
      now: 20, from: 0, cursor: 0, dropped: 0, lanes: [], groups: [], stream: empty, progress: [], workers: [],
      cluster: { t: [], workers: [], processing: [], queued: [], memory: [], targets: {} },
      memory: { t: [], workers: { w1: { managed: [], unmanaged: [], spilled: [] } } },
      decisions: [], failed: [], workerEvents: [],
    });
    assert.deepEqual(Object.keys(model.memory.workers), ['w1']);
    assert.deepEqual(model.memory.workers.w1.managed, [null, null, 7]);
  });

  test('holds the memory series the history keeps as workers come and go', async () => {
    const m = await load();
    const clock = { now: 1000 };
    const h = new SessionHistory({
      scheduler: 's', startedAt: clock.now, maxDepartedWorkers: 4,
      live: { now: () => clock.now, progress: () => [], load: () => undefined },
    });
    const model = m.createModel(h.snapshot());
    for (let step = 0; step < 60; step++) {
      clock.now += 1000;
      h.workerAdded(clock.now, { name: `w${step}`, address: '', group: '', nthreads: 1, memoryLimit: 0 });
      if (step >= 2) h.workerRemoved(clock.now, `w${step - 2}`, 'scaled down');
      h.heartbeat(clock.now, `w${step}`, { managed: step, rss: step, spilled: 0, executing: 0 });
      h.sample(clock.now, { workers: 2, processing: 0, queued: 0, memory: 0, targets: {} });
      if (step % 7 === 0) m.applyDelta(model, h.delta(m.deltaRequest(model)));
    }
    m.applyDelta(model, h.delta(m.deltaRequest(model)));
    const whole = h.snapshot();
    assert.equal(Object.keys(whole.memory.workers).length, 2 + 4);
    assert.deepEqual(model.memory, whole.memory);
  });

  test('finds the entries a window shows, as a scan of every entry would', async () => {
    const m = await load();
    const random = seededRandom(23);
    const stream: StreamColumns = { start: [], duration: [], lane: [], group: [], kind: [], key: [], bytes: [] };
    // Out of start order within lanes, with long and short entries mixed.
    for (let i = 0; i < 3000; i++) {
      stream.start.push(Math.floor(random() * 10_000));
      stream.duration.push(random() < 0.05 ? random() * 3000 : random() * 20);
      stream.lane.push(Math.floor(random() * 4));
      stream.group.push(0);
      stream.kind.push(0);
      stream.key.push(`k${i}`);
      stream.bytes.push(0);
    }
    const model = m.createModel({
      scheduler: 's', startedAt: 0, now: 10_000, cursor: 3000, dropped: 0,
      lanes: [0, 1, 2, 3].map((thread) => ({ worker: 'w', thread })), groups: ['g'], stream, progress: [], workers: [],
      cluster: { t: [], workers: [], processing: [], queued: [], memory: [], targets: {} }, memory: { t: [], workers: {} },
      decisions: [], failed: [], workerEvents: [],
    });
    for (let q = 0; q < 200; q++) {
      const t0 = random() * 10_000;
      const t1 = t0 + random() * 2000;
      const lane = Math.floor(random() * 4);
      const found: number[] = [];
      m.forEachVisible(model, lane, t0, t1, (i) => found.push(i));
      const expected = stream.start.map((_s, i) => i).filter((i) => stream.lane[i] === lane && stream.start[i] <= t1 && stream.start[i] + stream.duration[i] >= t0);
      assert.deepEqual(found.sort((a, b) => a - b), expected, `lane ${lane} [${t0}, ${t1}]`);
    }
  });

  test('sums each group\'s computations for the report', async () => {
    const m = await load();
    const snapshot = new FixtureHistory(generateFixture({ workers: 2, threads: 2, tasks: 300, failures: 2, seed: 2 })).snapshot();
    const rows = m.groupTimings(m.createModel(snapshot));
    for (const row of rows) {
      const g = snapshot.groups.indexOf(row.group);
      const mine = snapshot.stream.kind.map((_k, i) => i).filter((i) => snapshot.stream.group[i] === g);
      const computed = mine.filter((i) => snapshot.stream.kind[i] === 0);
      assert.equal(row.count, computed.length, row.group);
      assert.ok(Math.abs(row.totalMs - computed.reduce((s, i) => s + snapshot.stream.duration[i], 0)) < 1e-6);
      assert.equal(row.errors, mine.filter((i) => snapshot.stream.kind[i] === 3).length);
    }
    assert.equal(rows.reduce((s, r) => s + r.errors, 0), snapshot.failed.length);
  });
});

describe('dashboard formats', () => {
  test('a percentage reaches 100 only when everything is done', async () => {
    const { percent } = await import(new URL('../../dashboard/static/format.js', import.meta.url).href) as { percent: (part: number, whole: number) => number };
    assert.deepEqual([percent(199, 200), percent(200, 200), percent(1, 3), percent(0, 0), percent(1, 200)], [99, 100, 33, 0, 0]);
  });
});
