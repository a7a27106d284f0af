// The DaskJob reconcile in process, against the API emulator: the job's cluster and runner pod,
// then success, failure with retries, the deadline and the TTL, on a clock the test moves.
// The job's cluster is made Ready by writing its status, as the cluster reconciler would.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { names, type DaskCluster, type DaskJob } from '../../operator/api/types.js';
import { R } from '../../operator/k8s/resources.js';
import { jobSteps } from '../../operator/reconcile/job.js';
import type { Pod } from '../../operator/reconcile/context.js';
import { ReconcileError } from '../../operator/reconcile/errors.js';
import { conditionOf, NS, startReconcileEnv, type ReconcileEnv } from './reconcile-env.js';

const STEPS = jobSteps.map((s) => s.name);

const jobManifest = (name: string, spec: Partial<DaskJob['spec']> = {}): DaskJob => ({
  apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskJob', metadata: { name },
  spec: {
    cluster: { image: 'kubedask:1', workerGroups: [{ name: 'default', replicas: 1, threads: 1 }] },
    runner: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'runner', image: 'kubedask:1', command: ['kubedask'], args: ['demo'] }] } } },
    ...spec,
  },
});

describe('job reconcile in process', () => {
  let env: ReconcileEnv;
  before(async () => { env = await startReconcileEnv(); });
  after(async () => env?.close());

  const job = (name: string) => env.get<DaskJob>(R.daskJobs, name);
  const create = (j: DaskJob) => env.api.create(R.daskJobs, NS, j as never);
  const readyCluster = (jobName: string) => env.setStatus(R.daskClusters, names.jobCluster(jobName), {
    phase: 'Running', schedulerAddress: names.schedulerAddress(names.jobCluster(jobName), NS),
    conditions: [{ type: 'Ready', status: 'True', reason: 'ClusterReady', message: 'ready', lastTransitionTime: new Date().toISOString() }],
  });

  /** A job whose cluster is Ready and whose first runner pod exists. */
  async function runningJob(name: string, spec: Partial<DaskJob['spec']> = {}): Promise<void> {
    await create(jobManifest(name, spec));
    assert.equal((await env.job(name)).error, undefined);
    await readyCluster(name);
    const pass = await env.job(name);
    assert.equal(pass.error, undefined);
    assert.ok(await env.get(R.pods, names.jobRunner(name, 0)), 'the runner pod exists');
  }

  it('runs its steps in this order', () => {
    assert.deepEqual(STEPS, ['cleanUpFinished', 'checkNameConflict', 'checkDeadline', 'followRunner', 'ensureCluster',
      'waitForCluster', 'waitForBackoff', 'createRunner', 'writeRunning']);
  });

  it('creates its cluster, waits for it to be Ready, then creates the runner', async () => {
    await create(jobManifest('j1'));
    const first = await env.job('j1');
    assert.equal(first.error, undefined);
    assert.deepEqual(first.steps, STEPS.slice(0, STEPS.indexOf('waitForCluster') + 1));
    assert.equal(first.result?.reason, `waiting for cluster ${names.jobCluster('j1')}`);
    const cluster = await env.get<DaskCluster>(R.daskClusters, names.jobCluster('j1'));
    const j = await job('j1');
    assert.equal(cluster?.metadata.ownerReferences?.[0]?.uid, j?.metadata.uid);
    assert.equal(j?.status?.phase, 'ClusterStarting');
    assert.equal(conditionOf(j, 'ClusterReady')?.status, 'False');
    assert.equal(await env.get(R.pods, names.jobRunner('j1', 0)), undefined, 'no runner before the cluster is Ready');

    await readyCluster('j1');
    const second = await env.job('j1');
    assert.deepEqual(second.steps, STEPS);
    const runner = await env.get<Pod>(R.pods, names.jobRunner('j1', 0));
    assert.ok(runner, 'the runner pod exists');
    assert.ok(runner.spec?.containers?.[0]?.env?.some((e) => e.name === 'KUBEDASK_SCHEDULER_ADDRESS'
      && e.value === names.schedulerAddress(names.jobCluster('j1'), NS)));
    assert.equal((await job('j1'))?.status?.phase, 'Running');
    assert.deepEqual(env.events.filter((e) => e.name === 'j1').map((e) => e.reason),
      ['CreatedCluster', 'PhaseClusterStarting', 'CreatedRunner', 'PhaseRunning']);
  });

  it('a runner that succeeds completes the job and deletes its cluster; the TTL then deletes the job', async () => {
    await runningJob('j2', { ttlSecondsAfterFinished: 60 });
    await env.setPod(names.jobRunner('j2', 0), 'Succeeded');
    const pass = await env.job('j2');
    assert.equal(pass.error, undefined);
    assert.deepEqual(pass.steps, STEPS.slice(0, STEPS.indexOf('followRunner') + 1));
    assert.equal(pass.result?.reason, 'ttlSecondsAfterFinished');
    assert.ok(pass.result!.requeueAfterMs <= 60_000 && pass.result!.requeueAfterMs > 58_000);
    const j = await job('j2');
    assert.equal(j?.status?.phase, 'Succeeded');
    assert.equal(conditionOf(j, 'Complete')?.reason, 'RunnerSucceeded');
    assert.equal(await env.get(R.daskClusters, names.jobCluster('j2')), undefined, 'the cluster is gone');
    assert.ok(await env.get(R.pods, names.jobRunner('j2', 0)), 'the finished runner pod stays for its logs');

    const early = await env.job('j2');
    assert.deepEqual(early.steps, ['cleanUpFinished']);
    assert.ok(await job('j2'), 'not before the TTL');
    env.advance(60_000);
    const late = await env.job('j2');
    assert.equal(late.result, undefined);
    assert.equal(await job('j2'), undefined, 'deleted after ttlSecondsAfterFinished');
  });

  it('a failed runner is retried after a backoff, and past backoffLimit the job fails', async () => {
    await runningJob('j3', { backoffLimit: 1 });
    await env.setPod(names.jobRunner('j3', 0), 'Failed', 3);
    const failed = await env.job('j3');
    assert.equal(failed.result?.reason, 'backoff before the next runner attempt');
    let j = await job('j3');
    assert.equal(j?.status?.phase, 'Running');
    assert.equal(j?.status?.failures, 1);
    assert.match(j?.status?.message ?? '', /exit code 3; retrying/);
    assert.ok(env.events.some((e) => e.name === 'j3' && e.reason === 'RunnerFailed'));

    const waiting = await env.job('j3');
    assert.deepEqual(waiting.steps, STEPS.slice(0, STEPS.indexOf('waitForBackoff') + 1));
    assert.equal(await env.get(R.pods, names.jobRunner('j3', 1)), undefined, 'no second runner during the backoff');
    env.advance(2_000);
    const retry = await env.job('j3');
    assert.equal(retry.error, undefined);
    assert.ok(await env.get(R.pods, names.jobRunner('j3', 1)), 'the second attempt runs');

    await env.setPod(names.jobRunner('j3', 1), 'Failed', 4);
    const final = await env.job('j3');
    assert.equal(final.error, undefined);
    j = await job('j3');
    assert.equal(j?.status?.phase, 'Failed');
    assert.equal(conditionOf(j, 'Failed')?.reason, 'BackoffLimitExceeded');
    assert.equal(await env.get(R.daskClusters, names.jobCluster('j3')), undefined);
  });

  it('past activeDeadlineSeconds the job fails and its runner is stopped', async () => {
    await runningJob('j4', { activeDeadlineSeconds: 30 });
    await env.setPod(names.jobRunner('j4', 0), 'Running');
    const running = await env.job('j4');
    assert.equal(running.result?.reason, 'activeDeadlineSeconds');
    env.advance(30_000);
    const pass = await env.job('j4');
    assert.equal(pass.error, undefined);
    assert.deepEqual(pass.steps, ['cleanUpFinished', 'checkNameConflict', 'checkDeadline']);
    const j = await job('j4');
    assert.equal(j?.status?.phase, 'Failed');
    assert.equal(conditionOf(j, 'Failed')?.reason, 'DeadlineExceeded');
    const runner = await env.get<Pod>(R.pods, names.jobRunner('j4', 0));
    assert.ok(runner === undefined || runner.metadata.deletionTimestamp, 'the runner still going is stopped');
    assert.equal(await env.get(R.daskClusters, names.jobCluster('j4')), undefined);
  });

  it('a cluster the API refuses to create is named by its step; the job stays Pending and says why', async () => {
    await create(jobManifest('j5'));
    env.server.faults.next({ status: 500, match: (method, path) => method === 'POST' && path.endsWith('/daskclusters') });
    const pass = await env.job('j5');
    assert.ok(pass.error instanceof ReconcileError, `a ReconcileError, got ${String(pass.error)}`);
    assert.deepEqual(pass.error.steps, ['ensureCluster']);
    assert.deepEqual(pass.steps, STEPS.slice(0, STEPS.indexOf('ensureCluster') + 1));
    const j = await job('j5');
    assert.equal(j?.status?.phase, 'Pending');
    assert.equal(conditionOf(j, 'ClusterReady')?.reason, 'ClusterCreateFailed');
    assert.ok(env.events.some((e) => e.name === 'j5' && e.reason === 'FailedCreateCluster'));
  });

  it('a same-named cluster it did not make is never adopted', async () => {
    await env.api.create(R.daskClusters, NS, { apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskCluster', metadata: { name: names.jobCluster('j6') },
      spec: { image: 'kubedask:1' } } as never);
    await create(jobManifest('j6'));
    const pass = await env.job('j6');
    assert.deepEqual(pass.steps, ['cleanUpFinished', 'checkNameConflict']);
    assert.equal(conditionOf(await job('j6'), 'NameConflict')?.reason, 'NotOwned');
    assert.equal((await env.get<DaskCluster>(R.daskClusters, names.jobCluster('j6')))?.metadata.ownerReferences, undefined);
  });
});
