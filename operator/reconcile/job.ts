// Reconcile of one DaskJob: a cluster made for it, then a runner pod that connects to it, retried
// up to backoffLimit, bounded by activeDeadlineSeconds; when it ends the cluster goes, and after
// ttlSecondsAfterFinished the job itself.
import { names, type DaskJob, type DaskJobStatus, type JobPhase } from '../api/types.js';
import { buildJobCluster, buildRunnerPod } from '../builders/index.js';
import { R } from '../k8s/resources.js';
import { isAlreadyExists, isNotFound } from '../k8s/kube-api.js';
import type { ReconcileResult } from '../runtime/work-queue.js';
import { condition, isTrue, setConditions, type ConditionInput } from './conditions.js';
import type { Obj, ReconcileContext } from './context.js';
import { isTerminating } from './pod-health.js';
import { createObject, writeStatus } from './writes.js';

export async function reconcileJob(ctx: ReconcileContext, namespace: string, name: string): Promise<ReconcileResult> {
  const job = ctx.caches.jobs.get(namespace, name);
  if (!job || isTerminating(job)) return;
  const st = job.status ?? {};
  const now = ctx.now();
  const clusterName = names.jobCluster(name);
  // Only objects this job made count: a same-named leftover of an earlier job of the same name
  // (still being collected) or a user's own cluster is never adopted.
  const mine = (o: Obj | undefined) => o?.metadata?.ownerReferences?.some((r) => r.uid === job.metadata.uid) === true;
  const foundCluster = ctx.caches.clusters.get(namespace, clusterName);
  const cluster = mine(foundCluster) ? foundCluster : undefined;

  if (st.phase === 'Succeeded' || st.phase === 'Failed') {
    if (cluster && !isTerminating(cluster)) await deleteCluster(ctx, job, clusterName, `job ${st.phase}`);
    return ttl(ctx, job, now);
  }
  const startTime = st.startTime ?? new Date(now).toISOString();
  const attempt = st.failures ?? 0;
  const podName = names.jobRunner(name, attempt);
  const foundPod = ctx.caches.pods.get(namespace, podName);
  const pod = mine(foundPod) ? foundPod : undefined;
  const conflict = (foundCluster && !cluster) ? `DaskCluster ${clusterName}` : (foundPod && !pod) ? `pod ${podName}` : undefined;
  if (conflict) {
    await write(ctx, job, { ...st, startTime, message: `${conflict} exists but does not belong to this job; waiting for it to go` }, st.phase ?? 'Pending', [
      condition('NameConflict', true, 'NotOwned', `${conflict} exists but does not belong to this job`, job.metadata.generation),
    ]);
    return { requeueAfterMs: 5_000, reason: `${conflict} is not this job's` };
  }
  // A runner that succeeded wins over a deadline that passed while nobody looked.
  const deadline = job.spec.activeDeadlineSeconds;
  if (deadline !== undefined && now - Date.parse(startTime) >= deadline * 1000 && pod?.status?.phase !== 'Succeeded') {
    return finish(ctx, job, { ...st, startTime }, 'Failed', 'DeadlineExceeded', `the job ran longer than activeDeadlineSeconds (${deadline}s)`);
  }

  // An attempt under way is followed whatever its cluster does: the runner reports its own fate.
  const clusterReady = isTrue(cluster?.status?.conditions, 'Ready');
  const clusterOk = condition('ClusterReady', clusterReady, clusterReady ? 'ClusterReady' : 'ClusterNotReady',
    `DaskCluster ${clusterName} is ${clusterReady ? '' : 'not '}Ready`, job.metadata.generation);
  if (pod?.status?.phase === 'Succeeded') {
    return finish(ctx, job, { ...st, startTime, clusterName, runnerPod: podName }, 'Succeeded', 'RunnerSucceeded', `runner pod ${podName} succeeded`);
  }
  if (pod?.status?.phase === 'Failed') {
    const failures = attempt + 1;
    const limit = job.spec.backoffLimit ?? 0;
    const exit = pod.status.containerStatuses?.find((c) => c.state?.terminated)?.state?.terminated;
    const why = `runner pod ${podName} failed${exit ? ` with exit code ${exit.exitCode}` : ''}`;
    ctx.events.record(job, 'Warning', 'RunnerFailed', why);
    if (failures > limit) {
      return finish(ctx, job, { ...st, startTime, clusterName, runnerPod: podName, failures }, 'Failed', 'BackoffLimitExceeded', `${why}; backoffLimit ${limit} reached`);
    }
    await write(ctx, job, { ...st, startTime, clusterName, runnerPod: podName, failures, message: `${why}; retrying` }, 'Running', [clusterOk]);
    return { requeueAfterMs: retryDelayMs(failures), reason: 'backoff before the next runner attempt' };
  }
  if (pod) {
    await write(ctx, job, { ...st, startTime, clusterName, runnerPod: podName }, 'Running', [clusterOk]);
    return untilDeadline(job, startTime, now, undefined);
  }

  // No runner for this attempt yet: it needs the cluster, Ready.
  if (!cluster) {
    try {
      await createObject(ctx, R.daskClusters, namespace, buildJobCluster(job));
      ctx.events.record(job, 'Normal', 'CreatedCluster', `created DaskCluster ${clusterName} for this job`);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        // Nothing runs yet: the job stays Pending and says why, then retries with backoff.
        ctx.events.record(job, 'Warning', 'FailedCreateCluster', `creating DaskCluster ${clusterName}: ${(err as Error).message}`);
        await write(ctx, job, { ...st, startTime, message: (err as Error).message }, 'Pending', [
          condition('ClusterReady', false, 'ClusterCreateFailed', (err as Error).message, job.metadata.generation),
        ]);
        throw err;
      }
    }
  }
  if (!cluster || !clusterReady) {
    const degraded = cluster?.status?.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True');
    await write(ctx, job, { ...st, startTime, clusterName }, 'ClusterStarting', [
      condition('ClusterReady', false, degraded?.reason ?? 'ClusterStarting', degraded?.message ?? `waiting for DaskCluster ${clusterName} to be Ready`, job.metadata.generation),
    ]);
    return untilDeadline(job, startTime, now, { requeueAfterMs: degraded ? 10_000 : 2_000, reason: `waiting for cluster ${clusterName}` });
  }
  // Retries wait: 2 s, 4 s, 8 s ... (at most 60 s) after the previous attempt ended.
  const previous = attempt > 0 ? ctx.caches.pods.get(namespace, names.jobRunner(name, attempt - 1)) : undefined;
  const ended = previous?.status?.containerStatuses?.find((c) => c.state?.terminated)?.state?.terminated?.finishedAt;
  const due = ended ? Date.parse(ended) + retryDelayMs(attempt) : 0;
  if (now < due) return untilDeadline(job, startTime, now, { requeueAfterMs: due - now, reason: 'backoff before the next runner attempt' });
  try {
    await createObject(ctx, R.pods, namespace, buildRunnerPod(job, attempt, cluster.status?.schedulerAddress ?? names.schedulerAddress(clusterName, namespace)));
    ctx.events.record(job, 'Normal', 'CreatedRunner', `created runner pod ${podName} (attempt ${attempt + 1})`);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  await write(ctx, job, { ...st, startTime, clusterName, runnerPod: podName }, 'Running', [clusterOk]);
  return untilDeadline(job, startTime, now, undefined);
}

async function finish(ctx: ReconcileContext, job: DaskJob, st: DaskJobStatus, phase: 'Succeeded' | 'Failed', reason: string, message: string): Promise<ReconcileResult> {
  const completionTime = new Date(ctx.now()).toISOString();
  await write(ctx, job, { ...st, completionTime, message }, phase, [
    condition(phase === 'Succeeded' ? 'Complete' : 'Failed', true, reason, message, job.metadata.generation),
  ]);
  ctx.events.record(job, phase === 'Succeeded' ? 'Normal' : 'Warning', reason, message);
  const clusterName = names.jobCluster(job.metadata.name!);
  const own = ctx.caches.clusters.get(job.metadata.namespace!, clusterName);
  if (own?.metadata.ownerReferences?.some((r) => r.uid === job.metadata.uid)) await deleteCluster(ctx, job, clusterName, `job ${phase}`);
  // A runner still going (deadline) is stopped; finished runner pods stay for their logs.
  const runner = st.runnerPod && ctx.caches.pods.get(job.metadata.namespace!, st.runnerPod);
  if (runner && !['Succeeded', 'Failed'].includes(runner.status?.phase ?? '')) {
    try { await ctx.api.delete(R.pods, job.metadata.namespace!, st.runnerPod!); } catch (err) { if (!isNotFound(err)) throw err; }
  }
  return ttl(ctx, { ...job, status: { ...st, completionTime, phase } }, ctx.now());
}

async function deleteCluster(ctx: ReconcileContext, job: DaskJob, clusterName: string, why: string): Promise<void> {
  try {
    await ctx.api.delete(R.daskClusters, job.metadata.namespace!, clusterName);
    ctx.events.record(job, 'Normal', 'DeletedCluster', `deleted DaskCluster ${clusterName}: ${why}`);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

async function ttl(ctx: ReconcileContext, job: DaskJob, now: number): Promise<ReconcileResult> {
  const seconds = job.spec.ttlSecondsAfterFinished;
  const done = job.status?.completionTime;
  if (seconds === undefined || !done) return undefined;
  const due = Date.parse(done) + seconds * 1000;
  if (now < due) return { requeueAfterMs: due - now, reason: 'ttlSecondsAfterFinished' };
  try { await ctx.api.delete(R.daskJobs, job.metadata.namespace!, job.metadata.name!); } catch (err) { if (!isNotFound(err)) throw err; }
  return undefined;
}

const retryDelayMs = (failures: number): number => Math.min(60_000, 1000 * 2 ** failures);

function untilDeadline(job: DaskJob, startTime: string, now: number, r: ReconcileResult): ReconcileResult {
  const deadline = job.spec.activeDeadlineSeconds;
  if (deadline === undefined) return r;
  const left = Date.parse(startTime) + deadline * 1000 - now;
  return r && r.requeueAfterMs < left ? r : { requeueAfterMs: Math.max(0, left), reason: 'activeDeadlineSeconds' };
}

async function write(ctx: ReconcileContext, job: DaskJob, st: DaskJobStatus, phase: JobPhase, conditions: ConditionInput[]): Promise<void> {
  const status: DaskJobStatus = {
    ...st, phase, observedGeneration: job.metadata.generation ?? 0,
    conditions: setConditions(job.status?.conditions, conditions, new Date(ctx.now()).toISOString()),
  };
  if (phase !== job.status?.phase) ctx.events.record(job, 'Normal', `Phase${phase}`, `job is ${phase}`);
  await writeStatus(ctx, R.daskJobs, job, job.status, status);
}
