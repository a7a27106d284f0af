// The session's history on a LocalCluster: client.history() shows the task stream on worker
// threads with the transfers a task needed, progress per group, a failed task's error and the
// workers' memory; deltas continue from it; client.traceEvents() writes a Chrome trace; the
// Prometheus text carries the history's metrics (parsed strictly); a retirement is a decision.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENTRY_KIND, type HistorySnapshot } from '../../index.js';
import { withCluster } from '../helpers/cluster.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';
import { waitUntil } from '../helpers/wait.js';

/** Busy for a few ms, so both workers get some of a batch. */
const slowInc = (x: number): number => {
  const end = Date.now() + 20;
  while (Date.now() < end) { /* busy */ }
  return x + 1;
};
const total = (...xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const explode = (): number => { throw new TypeError('boom on purpose'); };

const kinds = (s: HistorySnapshot, kind: number) => s.stream.kind.flatMap((k, i) => (k === kind ? [i] : []));

describe('session history', () => {
  it('records what ran where, transfers, progress, failures and memory; serves deltas, traces and metrics', async () => {
    await withCluster({ workers: 2, threads: 2, dashboardPort: 0 }, async (cluster, client) => {
      const incs = client.map(slowInc, Array.from({ length: 12 }, (_, i) => i));
      const sum = client.submit(total, ...incs);
      assert.equal(await sum.result(), (12 * 13) / 2);
      await assert.rejects(client.submit(explode).result(), /boom on purpose/);

      const s = await client.history();
      const workerNames = Object.keys(cluster.workerPids).sort();
      // Compute entries on task threads of real workers.
      const computes = kinds(s, ENTRY_KIND.compute);
      const incGroup = s.groups.indexOf('slowInc');
      const incEntries = computes.filter((i) => s.stream.group[i] === incGroup);
      assert.equal(incEntries.length, 12);
      for (const i of incEntries) {
        const lane = s.lanes[s.stream.lane[i]!]!;
        assert.ok(workerNames.includes(lane.worker), lane.worker);
        assert.ok(lane.thread === 0 || lane.thread === 1, `thread ${lane.thread}`);
        assert.ok(s.stream.duration[i]! >= 19, `duration ${s.stream.duration[i]}`);
        assert.ok(s.stream.start[i]! >= s.startedAt - 1000);
      }
      assert.deepEqual(new Set(incEntries.map((i) => s.lanes[s.stream.lane[i]!]!.worker)).size, 2, 'both workers ran slowInc');
      // total needed the incs the other worker computed: fetched, on its worker's -1 lane.
      const totalEntry = computes.find((i) => s.groups[s.stream.group[i]!] === 'total')!;
      const totalWorker = s.lanes[s.stream.lane[totalEntry]!]!.worker;
      const transfers = kinds(s, ENTRY_KIND.transfer);
      assert.ok(transfers.length > 0, 'a dependency came from the other worker');
      const incKeys = new Set(incs.map((f) => f.key));
      for (const i of transfers) {
        assert.deepEqual(s.lanes[s.stream.lane[i]!], { worker: totalWorker, thread: -1 });
        assert.ok(incKeys.has(s.stream.key[i]!), s.stream.key[i]);
        assert.ok(s.stream.bytes[i]! > 0);
        assert.equal(s.groups[s.stream.group[i]!], 'slowInc');
      }
      // Progress per group; the failure and its error.
      const progress = new Map(s.progress.map((p) => [p.group, p]));
      const inc = progress.get('slowInc')!;
      assert.deepEqual([inc.total, inc.done, inc.erred, inc.waiting + inc.queued + inc.processing], [12, 12, 0, 0]);
      assert.ok(inc.durationMs >= 12 * 19);
      assert.deepEqual([progress.get('explode')!.total, progress.get('explode')!.erred], [1, 1]);
      assert.deepEqual(s.failed.map((f) => [f.key, f.group, f.name, f.message]), [[s.failed[0]!.key, 'explode', 'TypeError', 'boom on purpose']]);
      assert.equal(kinds(s, ENTRY_KIND.error).length, 1);
      assert.deepEqual(s.workerEvents.filter((e) => e.event === 'added').map((e) => e.worker).sort(), workerNames);

      // Worker rows with memory from heartbeats: the results held are managed, the rest of RSS unmanaged.
      await waitUntil(async () => {
        const rows = (await client.history()).workers;
        return rows.length === 2 && rows.some((w) => w.managed > 0) && rows.every((w) => w.unmanaged > 0);
      }, 'heartbeats with memory', 15_000);
      const rows = (await client.history()).workers;
      assert.deepEqual(rows.map((w) => [w.nthreads, w.holds >= 0]), [[2, true], [2, true]]);

      // A delta from the snapshot brings only what came after it.
      const before = await client.history();
      const d0 = await client.history({ cursor: before.cursor, lanes: before.lanes.length, groups: before.groups.length, since: before.now });
      assert.deepEqual([d0.stream.key, d0.failed, d0.lanes], [[], [], []]);
      await client.submit((x: number) => x * 2, 21).result();
      const d1 = await client.history({ cursor: before.cursor, lanes: before.lanes.length, groups: before.groups.length, since: before.now });
      assert.equal(d1.from, before.cursor);
      assert.equal(d1.stream.key.length, 1);
      await waitUntil(async () => (await client.history()).cluster.t.length > 0, 'a cluster sample');
      await assert.rejects(client.history({ cursor: -1, lanes: 0, groups: 0, since: 0 }), /cursor must be an integer/);

      // The Chrome trace: a process per worker, complete events for the entries.
      const dir = await mkdtemp(join(tmpdir(), 'kubedask-trace-'));
      try {
        const path = join(dir, 'trace.json');
        const written = await client.traceEvents(path);
        const trace = JSON.parse(await readFile(path, 'utf8')) as { traceEvents: { ph: string; name: string; args?: { name?: string } }[] };
        assert.equal(trace.traceEvents.length, written);
        const processes = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => e.args?.name);
        for (const w of workerNames) assert.ok(processes.includes(`worker ${w}`), `${w} in ${processes.join(', ')}`);
        assert.ok(trace.traceEvents.filter((e) => e.ph === 'X').length >= 12 + 1 + 1 + transfers.length);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }

      // Prometheus: durations, counts, transfers and memory, parsed strictly.
      const families = parsePrometheus(await (await fetch(`${cluster.dashboardUrl}metrics`)).text());
      assert.equal(families.get('kubedask_task_duration_seconds')?.type, 'histogram');
      assert.equal(sampleValue(families, 'kubedask_task_duration_seconds_count', { group: 'slowInc' }), 12);
      assert.equal(sampleValue(families, 'kubedask_task_duration_seconds_bucket', { group: 'slowInc', le: '0.01' }), 0);
      assert.equal(sampleValue(families, 'kubedask_task_duration_seconds_bucket', { group: 'slowInc', le: '+Inf' }), 12);
      assert.equal(sampleValue(families, 'kubedask_tasks_finished_total', { group: 'slowInc' }), 12);
      assert.equal(sampleValue(families, 'kubedask_tasks_erred_total', { group: 'explode' }), 1);
      assert.equal(sampleValue(families, 'kubedask_task_group_tasks', { group: 'slowInc', state: 'done' }), 12);
      assert.equal(sampleValue(families, 'kubedask_transfers_total', { worker: totalWorker }), transfers.length);
      assert.ok(sampleValue(families, 'kubedask_transfer_bytes_total', { worker: totalWorker })! > 0);
      for (const w of workerNames) assert.ok(sampleValue(families, 'kubedask_scheduler_worker_unmanaged_bytes', { worker: w })! > 0);

      // Scaling down: the scheduler's retirement is a decision, the worker's departure an event.
      assert.equal((await cluster.scale(1)).workers, 1);
      await waitUntil(async () => (await client.history()).workers.length === 1, 'the retired worker to leave');
      const after = await client.history();
      const gone = workerNames.filter((w) => w !== after.workers[0]!.name);
      assert.deepEqual(after.decisions.map((d) => [d.source, d.group, d.from, d.to, d.reason]), [['scheduler', '', 2, 1, `retire ${gone[0]}`]]);
      assert.deepEqual(after.workerEvents.filter((e) => e.event === 'removed').map((e) => e.worker), gone);
    });
  });
});
