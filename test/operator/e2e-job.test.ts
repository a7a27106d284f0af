// End to end: examples/job.yaml runs the flights demo in a runner pod against a cluster made for
// it; the job reaches Succeeded and its cluster goes away. A failing runner is retried up to
// backoffLimit and the job ends Failed with the reason.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parse } from 'yaml';
import { example, repoRoot, startKubeEnv, type KubeEnv } from './kube-env.js';
import type { DaskJob } from '../../operator/api/types.js';

describe('operator end to end: DaskJob', { timeout: 300_000 }, () => {
  let env: KubeEnv;


  before(async () => {
    env = await startKubeEnv();
    env.startOperator();
  });
  after(async () => env?.close());
  const job = (name: string) => env.get<DaskJob>('daskjob', name);

  it('examples/job.yaml runs to Succeeded and its cluster goes away', async () => {
    const name = (parse(example('job.yaml')) as DaskJob).metadata.name!;
    await env.kubectlOk('apply', '-f', join(repoRoot, 'examples', 'job.yaml'));
    const phases = new Set<string>();
    await env.waitFor(async () => {
      const j = await job(name);
      if (j?.status?.phase) phases.add(j.status.phase);
      return j?.status?.phase === 'Succeeded' || j?.status?.phase === 'Failed';
    }, `job ${name} to finish`, 180_000);
    const j = (await job(name))!;
    assert.equal(j.status?.phase, 'Succeeded', JSON.stringify(j.status));
    assert.ok(phases.has('ClusterStarting') || phases.has('Running'), [...phases].join(','));
    assert.ok(j.status?.completionTime && j.status.startTime);
    const runner = await env.get<{ status: { phase: string } }>('pod', j.status!.runnerPod!);
    assert.equal(runner?.status.phase, 'Succeeded');
    // The runner's output, as a user reads it: the main job ran on the job's cluster.
    const logs = await env.kubectlOk('logs', j.status!.runnerPod!);
    assert.match(logs, /connected to the scheduler at \S+ \(2 workers\)/);
    assert.match(logs, /top \d+ origins by mean delay/);
    assert.match(logs, /GridSearchCV over C .* best C \S+, cross-validated AUC 0\.\d{4}/);
    assert.match(logs, /HyperbandSearchCV over SGDClassifier \(maxIter 27\) in \d+\.\d+s: 49 models/);
    assert.match(logs, /scored 200000 flights with predictOnnx and wrote them/);
    // With a selector kubectl shows the last 10 lines unless told otherwise.
    assert.match(await env.kubectlOk('logs', '-l', `kubedask.io/job=${name}`, '--tail=-1'), /top \d+ origins by mean delay/);
    await env.waitFor(async () => (await env.get('daskcluster', j.status!.clusterName!)) === undefined
      && (await env.list('pods', 'default', `kubedask.io/cluster=${j.status!.clusterName},kubedask.io/component in (scheduler,worker)`)).length === 0,
    `cluster ${j.status!.clusterName} removed`, 60_000);
  });

  it('a runner that keeps failing is retried backoffLimit times, then the job is Failed', async () => {
    await env.apply(`apiVersion: kubedask.io/v1alpha1
kind: DaskJob
metadata: {name: failing}
spec:
  backoffLimit: 1
  cluster:
    workerGroups: [{name: default, replicas: 1, resources: {requests: {cpu: 100m, memory: 128Mi}}}]
  runner:
    template:
      spec:
        containers: [{name: runner, image: node:20, command: [node, -e, "process.exit(7)"]}]
`);
    await env.waitFor(async () => (await job('failing'))?.status?.phase === 'Failed', `job failing to be Failed`, 120_000);
    const j = (await job('failing'))!;
    assert.equal(j.status?.failures, 2);
    const failed = j.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'BackoffLimitExceeded');
    assert.match(failed?.message ?? '', /exit code 7/);
    await env.waitFor(async () => (await env.get('daskcluster', 'failing-cluster')) === undefined, 'the failed job\'s cluster removed', 60_000);
  });

  it('activeDeadlineSeconds stops a runner that runs too long; ttlSecondsAfterFinished then deletes the job', async () => {
    await env.apply(`apiVersion: kubedask.io/v1alpha1
kind: DaskJob
metadata: {name: slow}
spec:
  activeDeadlineSeconds: 20
  ttlSecondsAfterFinished: 2
  cluster:
    workerGroups: [{name: default, replicas: 1, resources: {requests: {cpu: 100m, memory: 128Mi}}}]
  runner:
    template:
      spec:
        containers: [{name: runner, image: node:20, command: [node, -e, "setInterval(() => {}, 1000)"]}]
`);
    let last: DaskJob | undefined;
    await env.waitFor(async () => {
      const j = await job('slow');
      if (j) last = j;
      return j?.status?.phase === 'Failed';
    }, 'job slow to fail on its deadline', 120_000);
    const failed = last!.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'DeadlineExceeded');
    await env.waitFor(async () => (await job('slow')) === undefined, 'the job deleted after its TTL', 60_000);
    await env.waitFor(async () => (await env.list('pods', 'default', 'kubedask.io/job=slow')).length === 0
      && (await env.get('daskcluster', 'slow-cluster')) === undefined, 'its runner pod and cluster gone', 60_000);
  });
});
