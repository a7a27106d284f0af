// Reconcile of one DaskJob, as an ordered list of steps (steps.ts runs them): a cluster made for
// it, then a runner pod that connects to it, retried up to backoffLimit, bounded by
// activeDeadlineSeconds; when it ends the cluster goes, and after ttlSecondsAfterFinished the
// job itself.
import { names, type DaskCluster, type DaskJob, type DaskJobStatus, type JobPhase } from '../api/types.js';
import { buildJobCluster, buildRunnerPod } from '../builders/index.js';
import { R } from '../k8s/resources.js';
import { isAlreadyExists, isNotFound } from '../k8s/kube-api.js';
import type { ReconcileResult } from '../runtime/work-queue.js';
import { condition, isTrue, setConditions, type ConditionInput } from './conditions.js';
import { key, type Obj, type Pod, type ReconcileContext } from './context.js';
import { isTerminating } from './pod-health.js';
import { done, runSteps, step, type PassState, type ReconcileStep, type StepOutcome } from './steps.js';
import { createObject, writeStatus } from './writes.js';

interface JobPass extends PassState {
  ctx: ReconcileContext;
  namespace: string;
  name: string;
  job: DaskJob;
  st: DaskJobStatus;
  now: number;
  clusterName: string;
  /** The job's own cluster and this attempt's runner pod (same-named objects of others are not). */
  cluster?: DaskCluster;
  pod?: Pod;
  /** What holds those names, the job's or not. */
  foundCluster?: DaskCluster;
  foundPod?: Pod;
  startTime: string;
  attempt: number;
  podName: string;
}

/** A job's pass, in order. */
export const jobSteps: readonly ReconcileStep<JobPass>[] = [
  step('cleanUpFinished', cleanUpFinished),
  step('checkNameConflict', checkNameConflict),
  step('checkDeadline', checkDeadline),
  step('followRunner', followRunner),
  step('ensureCluster', ensureCluster),
  step('waitForCluster', waitForCluster),
  step('waitForBackoff', waitForBackoff),
  step('createRunner', createRunner),
  step('writeRunning', async (s) => done(await running(s))),
];

export async function reconcileJob(ctx: ReconcileContext, namespace: string, name: string): Promise<ReconcileResult> {
  const job = ctx.caches.jobs.get(namespace, name);
  if (!job || isTerminating(job)) return;
  const st = job.status ?? {};
  const now = ctx.now();
  const clusterName = names.jobCluster(name);
  const attempt = st.failures ?? 0;
  const podName = names.jobRunner(name, attempt);
  // Only objects this job made count: a same-named leftover of an earlier job of the same name
  // (still being collected) or a user's own cluster is never adopted.
  const mine = <T extends Obj>(o: T | undefined): T | undefined => (o?.metadata?.ownerReferences?.some((r) => r.uid === job.metadata.uid) ? o : undefined);
  const foundCluster = ctx.caches.clusters.get(namespace, clusterName);
  const foundPod = ctx.caches.pods.get(namespace, podName);
  const pass: JobPass = {
    ctx, namespace, name, job, st, now, clusterName, attempt, podName, failures: [],
    startTime: st.startTime ?? new Date(now).toISOString(),
    foundCluster, cluster: mine(foundCluster), foundPod, pod: mine(foundPod),
  };
  return runSteps(jobSteps, pass, ctx.onStep && { step: (n) => ctx.onStep!('job', key(namespace, name), n) });
}

// A finished job: its cluster goes, and after ttlSecondsAfterFinished the job itself.
async function cleanUpFinished(s: JobPass): Promise<StepOutcome> {
  const { ctx, job, st, cluster } = s;
  if (st.phase !== 'Succeeded' && st.phase !== 'Failed') return;
  if (cluster && !isTerminating(cluster)) await deleteCluster(ctx, job, s.clusterName, `job ${st.phase}`);
  return done(await ttl(ctx, job, s.now));
}

async function checkNameConflict(s: JobPass): Promise<StepOutcome> {
  const { foundCluster, cluster, foundPod, pod, st } = s;
  const conflict = (foundCluster && !cluster) ? `DaskCluster ${s.clusterName}` : (foundPod && !pod) ? `pod ${s.podName}` : undefined;
  if (!conflict) return;
  await write(s.ctx, s.job, { ...st, startTime: s.startTime, message: `${conflict} exists but does not belong to this job; waiting for it to go` }, st.phase ?? 'Pending', [
    condition('NameConflict', true, 'NotOwned', `${conflict} exists but does not belong to this job`, s.job.metadata.generation),
  ]);
  return done({ requeueAfterMs: 5_000, reason: `${conflict} is not this job's` });
}

// A runner that succeeded wins over a deadline that passed while nobody looked.
async function checkDeadline(s: JobPass): Promise<StepOutcome> {
  const deadline = s.job.spec.activeDeadlineSeconds;
  if (deadline === undefined || s.now - Date.parse(s.startTime) < deadline * 1000 || s.pod?.status?.phase === 'Succeeded') return;
  return done(await finish(s.ctx, s.job, { ...s.st, startTime: s.startTime }, 'Failed', 'DeadlineExceeded', `the job ran longer than activeDeadlineSeconds (${deadline}s)`));
}

const clusterReady = (s: JobPass): boolean => isTrue(s.cluster?.status?.conditions, 'Ready');

const clusterCondition = (s: JobPass): ConditionInput => {
  const ready = clusterReady(s);
  return condition('ClusterReady', ready, ready ? 'ClusterReady' : 'ClusterNotReady',
    `DaskCluster ${s.clusterName} is ${ready ? '' : 'not '}Ready`, s.job.metadata.generation);
};

// An attempt under way is followed whatever its cluster does: the runner reports its own fate.
async function followRunner(s: JobPass): Promise<StepOutcome> {
  const { ctx, job, st, pod, podName, startTime, clusterName } = s;
  if (!pod) return;
  if (pod.status?.phase === 'Succeeded') {
    return done(await finish(ctx, job, { ...st, startTime, clusterName, runnerPod: podName }, 'Succeeded', 'RunnerSucceeded', `runner pod ${podName} succeeded`));
  }
  if (pod.status?.phase === 'Failed') {
    const failures = s.attempt + 1;
    const limit = job.spec.backoffLimit ?? 0;
    const exit = pod.status.containerStatuses?.find((c) => c.state?.terminated)?.state?.terminated;
    const why = `runner pod ${podName} failed${exit ? ` with exit code ${exit.exitCode}` : ''}`;
    ctx.events.record(job, 'Warning', 'RunnerFailed', why);
    if (failures > limit) {
      return done(await finish(ctx, job, { ...st, startTime, clusterName, runnerPod: podName, failures }, 'Failed', 'BackoffLimitExceeded', `${why}; backoffLimit ${limit} reached`));
    }
    await write(ctx, job, { ...st, startTime, clusterName, runnerPod: podName, failures, message: `${why}; retrying` }, 'Running', [clusterCondition(s)]);
    return done({ requeueAfterMs: retryDelayMs(failures), reason: 'backoff before the next runner attempt' });
  }
  return done(await running(s));
}

// No runner for this attempt yet: it needs the cluster, Ready.
async function ensureCluster(s: JobPass): Promise<void> {
  const { ctx, job, st, clusterName } = s;
  if (s.cluster) return;
  try {
    await createObject(ctx, R.daskClusters, s.namespace, buildJobCluster(job));
    ctx.events.record(job, 'Normal', 'CreatedCluster', `created DaskCluster ${clusterName} for this job`);
  } catch (err) {
    if (isAlreadyExists(err)) return;
    // Nothing runs yet: the job stays Pending and says why, then retries with backoff.
    ctx.events.record(job, 'Warning', 'FailedCreateCluster', `creating DaskCluster ${clusterName}: ${(err as Error).message}`);
    await write(ctx, job, { ...st, startTime: s.startTime, message: (err as Error).message }, 'Pending', [
      condition('ClusterReady', false, 'ClusterCreateFailed', (err as Error).message, job.metadata.generation),
    ]);
    throw err;
  }
}

async function waitForCluster(s: JobPass): Promise<StepOutcome> {
  const { cluster, clusterName, job } = s;
  if (cluster && clusterReady(s)) return;
  const degraded = cluster?.status?.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True');
  await write(s.ctx, job, { ...s.st, startTime: s.startTime, clusterName }, 'ClusterStarting', [
    condition('ClusterReady', false, degraded?.reason ?? 'ClusterStarting', degraded?.message ?? `waiting for DaskCluster ${clusterName} to be Ready`, job.metadata.generation),
  ]);
  return done(untilDeadline(job, s.startTime, s.now, { requeueAfterMs: degraded ? 10_000 : 2_000, reason: `waiting for cluster ${clusterName}` }));
}

// Retries wait: 2 s, 4 s, 8 s ... (at most 60 s) after the previous attempt ended.
function waitForBackoff(s: JobPass): StepOutcome {
  const previous = s.attempt > 0 ? s.ctx.caches.pods.get(s.namespace, names.jobRunner(s.name, s.attempt - 1)) : undefined;
  const ended = previous?.status?.containerStatuses?.find((c) => c.state?.terminated)?.state?.terminated?.finishedAt;
  const due = ended ? Date.parse(ended) + retryDelayMs(s.attempt) : 0;
  if (s.now < due) return done(untilDeadline(s.job, s.startTime, s.now, { requeueAfterMs: due - s.now, reason: 'backoff before the next runner attempt' }));
}

async function createRunner(s: JobPass): Promise<void> {
  const { ctx, job, podName, clusterName } = s;
  try {
    await createObject(ctx, R.pods, s.namespace, buildRunnerPod(job, s.attempt, s.cluster!.status?.schedulerAddress ?? names.schedulerAddress(clusterName, s.namespace)));
    ctx.events.record(job, 'Normal', 'CreatedRunner', `created runner pod ${podName} (attempt ${s.attempt + 1})`);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

/** The attempt's runner exists: the job is Running until the runner ends or the deadline passes. */
async function running(s: JobPass): Promise<ReconcileResult> {
  await write(s.ctx, s.job, { ...s.st, startTime: s.startTime, clusterName: s.clusterName, runnerPod: s.podName }, 'Running', [clusterCondition(s)]);
  return untilDeadline(s.job, s.startTime, s.now, undefined);
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
  if (phase !== job.status?.phase) ctx.events.record(job, 'Normal', `Phase${phase}`, `job is ${phase}`, 'phase');
  await writeStatus(ctx, R.daskJobs, job, job.status, status);
}
