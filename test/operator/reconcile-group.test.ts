// The DaskWorkerGroup reconcile in process, against the API emulator: worker pods made for the
// replicas, readiness counted only for workers the scheduler knows, scale-down through the
// scheduler's retirement (retired pods deleted, refused pods kept and reported), failures named.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LABELS, type DaskCluster, type DaskWorkerGroup } from '../../operator/api/types.js';
import { R } from '../../operator/k8s/resources.js';
import { groupSteps } from '../../operator/reconcile/worker-group.js';
import { ReconcileError } from '../../operator/reconcile/errors.js';
import { waitUntil } from '../helpers/wait.js';
import { conditionOf, NS, startReconcileEnv, type ReconcileEnv } from './reconcile-env.js';

const STEPS = groupSteps.map((s) => s.name);

describe('worker group reconcile in process', () => {
  let env: ReconcileEnv;
  before(async () => { env = await startReconcileEnv(); });
  after(async () => env?.close());

  const group = (name: string) => env.get<DaskWorkerGroup>(R.daskWorkerGroups, name);
  const workers = async (cluster: string) => (await env.pods({ [LABELS.cluster]: cluster, [LABELS.role]: 'worker' }))
    .filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name!).sort();
  const scale = (name: string, replicas: number) => env.api.patch(R.daskWorkerGroups, NS, name, { spec: { replicas } }, { type: 'merge' });

  /** A cluster made by its reconciler, whose scheduler pod is Ready and answers. */
  async function runningCluster(name: string, replicas: number): Promise<string> {
    const manifest: DaskCluster = { apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskCluster', metadata: { name },
      spec: { image: 'kubedask:1', workerGroups: [{ name: 'default', replicas, threads: 1 }] } };
    await env.api.create(R.daskClusters, NS, manifest as never);
    assert.equal((await env.cluster(name)).error, undefined);
    await env.settle();
    const [scheduler] = await env.pods({ [LABELS.cluster]: name, [LABELS.role]: 'scheduler' });
    await env.setPod(scheduler!.metadata.name!, 'Ready');
    return `${name}-default`;
  }

  it('runs its steps in this order', () => {
    assert.deepEqual(STEPS, ['findCluster', 'observePods', 'observeScheduler', 'collectRetirements', 'planPods', 'deleteRetiredPods',
      'deleteFinishedPods', 'createPods', 'deleteUnregisteredPods', 'drainPods', 'writeStatus', 'notifyCluster', 'requeue']);
  });

  it('a group whose cluster does not exist says so and waits', async () => {
    await env.api.create(R.daskWorkerGroups, NS, { apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskWorkerGroup', metadata: { name: 'orphan' },
      spec: { cluster: 'nowhere', groupName: 'default', replicas: 1, image: 'kubedask:1' } } as never);
    const pass = await env.group('orphan');
    assert.equal(pass.error, undefined);
    assert.deepEqual(pass.steps, ['findCluster']);
    assert.equal(pass.result?.requeueAfterMs, 30_000);
    assert.equal(conditionOf(await group('orphan'), 'Ready')?.reason, 'ClusterNotFound');
  });

  it('creates the worker pods and counts as ready only the workers registered with the scheduler', async () => {
    const g = await runningCluster('one', 2);
    const first = await env.group(g);
    assert.equal(first.error, undefined);
    assert.deepEqual(first.steps, STEPS);
    assert.deepEqual(await workers('one'), ['one-default-0', 'one-default-1']);
    assert.deepEqual(env.events.filter((e) => e.reason === 'CreatedWorker').map((e) => e.message).sort(),
      ['created worker pod one-default-0', 'created worker pod one-default-1']);
    assert.ok(env.enqueued.includes(`cluster:${NS}/one`), 'the cluster is told to look again');
    assert.equal((await group(g))?.status?.replicas, 2);

    for (const p of await workers('one')) await env.setPod(p, 'Ready');
    env.control.register('one-default-0');
    const pass = await env.group(g);
    assert.equal((await group(g))?.status?.readyReplicas, 1, 'a Ready pod the scheduler does not know is not ready');
    assert.equal(pass.result?.reason, 'waiting for workers to connect');
    env.control.register('one-default-1');
    const done = await env.group(g);
    assert.equal(done.result, undefined, 'nothing to wait for');
    const status = (await group(g))?.status;
    assert.equal(status?.readyReplicas, 2);
    assert.equal(conditionOf(await group(g), 'Ready')?.status, 'True');
    assert.equal((await workers('one')).length, 2, 'a steady group creates nothing more');
  });

  it('scale up creates the next pod; scale down retires through the scheduler and deletes exactly the retired pods', async () => {
    const g = 'one-default';
    await scale(g, 3);
    await env.group(g);
    assert.deepEqual(await workers('one'), ['one-default-0', 'one-default-1', 'one-default-2']);
    await env.setPod('one-default-2', 'Ready');
    env.control.register('one-default-2');
    await env.group(g);

    await scale(g, 2);
    const drain = await env.group(g);
    assert.equal(drain.error, undefined);
    assert.equal(env.control.retireCalls.length, 1);
    const [retiring] = env.control.retireCalls[0]!;
    assert.ok(retiring);
    assert.equal((await workers('one')).length, 3, 'no pod is deleted before the scheduler answers');
    await waitUntil(() => !env.ctx.drains.isDraining(`${NS}/${g}`, retiring), 'the retirement to be answered', 5_000);
    assert.ok(env.enqueued.filter((k) => k === `group:${NS}/${g}`).length > 0, 'the answer enqueues the group');

    const after = await env.group(g);
    assert.equal(after.error, undefined);
    assert.deepEqual(await workers('one'), ['one-default-0', 'one-default-1', 'one-default-2'].filter((n) => n !== retiring));
    assert.ok(env.events.some((e) => e.reason === 'WorkerRetired' && e.message.includes(retiring)));
    assert.equal(env.control.retireCalls.length, 1, 'nothing more to retire');
  });

  it('a worker the scheduler refuses to retire stays, and ScaleDownBlocked says why', async () => {
    const g = 'one-default';
    const before = new Set(await workers('one'));
    env.control.answerRetire = (names) => ({ retired: [], refused: Object.fromEntries(names.map((n) => [n, 'holds the only copy of x'])) });
    for (const n of before) env.control.workers.set(n, { keysHeld: 3 });
    await scale(g, 1);
    await env.group(g);
    const [refused] = env.control.retireCalls.at(-1)!;
    await waitUntil(() => !env.ctx.drains.isDraining(`${NS}/${g}`, refused!), 'the refusal to be answered', 5_000);
    const pass = await env.group(g);
    assert.equal(pass.error, undefined);
    assert.deepEqual(new Set(await workers('one')), before, 'the refused worker keeps its pod');
    const blocked = conditionOf(await group(g), 'ScaleDownBlocked');
    assert.equal(blocked?.status, 'True');
    assert.equal(blocked?.reason, 'RetireRefused');
    assert.match(blocked?.message ?? '', new RegExp(`${refused}: holds the only copy of x`));
    assert.ok(env.events.some((e) => e.reason === 'RetireRefused' && e.type === 'Warning'));
    const calls = env.control.retireCalls.length;
    // In its cool-off the refused worker is not asked again: the pass waits and says so.
    const again = await env.group(g);
    assert.equal(env.control.retireCalls.length, calls);
    assert.equal(again.result?.reason, 'scale-down blocked by the scheduler: look again');
  });

  it('a failed pod create is named by its step; the status reports it and the next pass makes the pod', async () => {
    const g = await runningCluster('two', 1);
    env.server.faults.next({ status: 500, match: (method, path) => method === 'POST' && path.endsWith('/pods') });
    const pass = await env.group(g);
    assert.ok(pass.error instanceof ReconcileError, `a ReconcileError, got ${String(pass.error)}`);
    assert.deepEqual(pass.error.steps, ['createPods (pod two-default-0)']);
    assert.deepEqual(pass.steps, STEPS.filter((s) => s !== 'requeue'), 'the status is still written, the requeue decision is not made');
    const failure = conditionOf(await group(g), 'ReplicaFailure');
    assert.equal(failure?.reason, 'ApiError');
    assert.match(failure?.message ?? '', /^createPods \(pod two-default-0\): /);
    assert.ok(env.events.some((e) => e.reason === 'FailedCreate' && e.name === g));
    assert.deepEqual(await workers('two'), []);

    const retry = await env.group(g);
    assert.equal(retry.error, undefined);
    assert.deepEqual(await workers('two'), ['two-default-0']);
    assert.equal(conditionOf(await group(g), 'ReplicaFailure'), undefined);
  });

  it('a worker pod that ended is deleted and replaced', async () => {
    const g = 'two-default';
    await env.setPod('two-default-0', 'Failed');
    const pass = await env.group(g);
    assert.equal(pass.error, undefined);
    assert.ok(env.events.some((e) => e.reason === 'DeletedWorker' && e.message.includes('finished worker pod two-default-0')));
    const names = await workers('two');
    assert.equal(names.length, 1);
    assert.notEqual(names[0], 'two-default-0', 'a new pod under a free name');
  });
});
