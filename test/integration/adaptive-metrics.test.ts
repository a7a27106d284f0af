// Control.WatchMetrics end to end: the adaptive figures per worker group on a LocalCluster, read
// through the operator's client (grpcSchedulerControl().watch), and the Prometheus group gauges.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, LocalCluster } from '../../index.js';
import { ControlError } from '../../operator/control/errors.js';
import { grpcSchedulerControl, type MetricsUpdate, type WatchRequest } from '../../operator/control/scheduler-control.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';
import { waitUntil, within } from '../helpers/wait.js';

const DEADLINE_MS = 20_000;

const deadline = <T>(p: Promise<T>, what: string): Promise<T> => within(p, what, DEADLINE_MS);

/** Records every update and how the watch ended. */
function recorder() {
  const r = { updates: [] as MetricsUpdate[], ended: false, error: undefined as Error | undefined };
  return {
    r,
    handlers: {
      update: (u: MetricsUpdate) => { r.updates.push(u); },
      end: (err?: Error) => { assert.equal(r.ended, false, 'end called once'); r.ended = true; r.error = err; },
    },
  };
}

const request: WatchRequest = {
  targetDurationSeconds: 1, intervalSeconds: 0.2,
  groups: [{ name: '', resources: {}, threads: 1, memoryLimit: 0 }, { name: 'gpu', resources: { GPU: 1 }, threads: 1, memoryLimit: 0 }],
};

test('WatchMetrics: targets follow the queue per group; close and shutdown end the watch', { timeout: 60_000 }, async (t) => {
  const cluster = await deadline(new LocalCluster({ workers: 2, threads: 1, dashboardPort: 0 }).started(), 'the cluster');
  t.after(() => cluster.close());
  const client = await deadline(Client.connect(cluster), 'the client');
  const control = grpcSchedulerControl();
  t.after(() => control.close());
  const { r, handlers } = recorder();
  const watch = control.watch(cluster.address, request, handlers);
  const last = () => r.updates[r.updates.length - 1];
  const group = (u: MetricsUpdate | undefined, name: string) => u?.groups.find((g) => g.name === name);
  await waitUntil(() => r.updates.length > 0, 'the first update', DEADLINE_MS);
  assert.deepEqual(group(last(), '')?.workers, 2);
  assert.equal(group(last(), 'gpu')?.target, 0);

  const slow = client.map(async (x: number) => { await new Promise((res) => setTimeout(res, 100)); return x; }, Array.from({ length: 40 }, (_, i) => i));
  await waitUntil(() => (group(last(), '')?.target ?? 0) > 2 && (group(last(), '')?.tasksQueued ?? 0) > 0, 'a target above the 2 workers', DEADLINE_MS);
  const busy = group(last(), '')!;
  assert.match(busy.reason, /tasks, [\d.]+s of work \/ 1s target at 1 thread: \d+ workers/);
  assert.equal(group(last(), 'gpu')!.tasksQueued + group(last(), 'gpu')!.tasksNoWorker, 0, 'plain tasks not counted to the GPU group');
  assert.equal((await deadline(client.gather(slow), 'the tasks')).length, 40);
  await waitUntil(() => group(last(), '')?.target === 0, 'the target back to 0', DEADLINE_MS);
  assert.equal(group(last(), '')!.reason, 'no queued or running work');
  assert.equal(group(last(), '')!.removeFirst.length, 2);
  assert.deepEqual([...group(last(), '')!.removeFirst].sort(), last()!.cluster.workerMetrics.map((w) => w.name).sort());

  const gpu = client.map((x: number) => x, [1, 2, 3], { resources: { GPU: 1 } });
  await waitUntil(() => group(last(), 'gpu')?.tasksNoWorker === 3, 'GPU tasks counted to the GPU group', DEADLINE_MS);
  assert.equal(group(last(), 'gpu')!.target, 1);
  assert.equal(group(last(), '')!.tasksNoWorker, 0);
  assert.equal(last()!.tasksUnplaceable, 0);
  const scraped = parsePrometheus(await deadline(fetch(`${cluster.scheduler.dashboardUrl}metrics`).then((res) => res.text()), 'a scrape'));
  const value = (name: string, labels?: Record<string, string>) => sampleValue(scraped, name, labels);
  assert.equal(value('kubedask_scheduler_group_workers', { group: '' }), 2);
  assert.equal(value('kubedask_scheduler_adaptive_target_workers', { group: '' }), 0);
  assert.equal(value('kubedask_scheduler_group_tasks', { group: '', state: 'queued' }), 0);
  // The gauges take the watched groups: the GPU group at zero workers has its target to scale on.
  assert.equal(value('kubedask_scheduler_group_workers', { group: 'gpu' }), 0);
  assert.equal(value('kubedask_scheduler_adaptive_target_workers', { group: 'gpu' }), 1);
  assert.equal(value('kubedask_scheduler_group_tasks', { group: 'gpu', state: 'no_worker' }), 3);
  assert.equal(value('kubedask_scheduler_tasks_unplaceable'), 0, 'the watched GPU group can run them');
  assert.equal(value('kubedask_workers'), 2, 'the existing metrics stay');
  await deadline(client.cancel(gpu), 'the cancel');

  watch.close();
  assert.deepEqual([r.ended, r.error], [true, undefined]);

  const bad = recorder();
  control.watch(cluster.address, { ...request, targetDurationSeconds: -1 }, bad.handlers);
  await waitUntil(() => bad.r.ended, 'the bad request refused', DEADLINE_MS);
  assert.ok(bad.r.error instanceof ControlError);
  assert.match(bad.r.error.message, /INVALID_ARGUMENT/);
  assert.match(String((bad.r.error.cause as Error).message), /target_duration_seconds must be a finite number >= 0/);

  const last2 = recorder();
  control.watch(cluster.address, request, last2.handlers);
  await waitUntil(() => last2.r.updates.length > 0, 'a second watch', DEADLINE_MS);
  await deadline(client.close(), 'the client to close');
  await deadline(cluster.close(), 'the cluster to close');
  await waitUntil(() => last2.r.ended, 'the watch to end with the scheduler', DEADLINE_MS);
  assert.ok(last2.r.error instanceof ControlError, `ended with ${String(last2.r.error)}`);
});
