// Reconcile of one DaskWorkerGroup, as an ordered list of steps (steps.ts runs them): make its
// worker pods match spec.replicas and the current template, draining every connected worker
// through the scheduler before its pod is deleted, then write the status from what was observed.
import { ANNOTATIONS, type DaskCluster, type DaskWorkerGroup, type DaskWorkerGroupStatus } from '../api/types.js';
import { buildWorkerPod, selectorString, workerGroupSelector, workerTemplateHash } from '../builders/index.js';
import { R } from '../k8s/resources.js';
import { isAlreadyExists } from '../k8s/kube-api.js';
import type { ReconcileResult } from '../runtime/work-queue.js';
import { condition, setConditions, type ConditionInput } from './conditions.js';
import { key, type Pod, type ReconcileContext } from './context.js';
import { planGroup, type GroupPlan, type PlanPod } from './group-plan.js';
import { groupPods, observeScheduler, type SchedulerView } from './observe.js';
import { isFinished, isReady, isTerminating, podProblem, type PodProblem } from './pod-health.js';
import { failureMessage, failureReason } from './errors.js';
import { attempt, done, runSteps, step, type PassState, type ReconcileStep, type StepOutcome } from './steps.js';
import { clusterTls } from './tls.js';
import { createObject, deletePod, writeStatus } from './writes.js';
import type { RetireResult } from '../control/scheduler-control.js';

interface GroupPass extends PassState {
  ctx: ReconcileContext;
  namespace: string;
  name: string;
  gkey: string;
  group: DaskWorkerGroup;
  cluster?: DaskCluster;
  /** The group's pods in the cache, and those deleted but still shown. */
  all?: Pod[];
  goingAway?: Set<string>;
  view?: SchedulerView;
  answered?: RetireResult;
  hash?: string;
  live?: Pod[];
  force?: boolean;
  desired?: number;
  blocked?: Map<string, string>;
  plan?: GroupPlan;
  status?: GroupCounts;
  problems?: PodProblem[];
}

type GroupCounts = Required<Pick<DaskWorkerGroupStatus, 'replicas' | 'readyReplicas' | 'pendingReplicas' | 'outdatedReplicas'>>;

/** A group's pass, in order. */
export const groupSteps: readonly ReconcileStep<GroupPass>[] = [
  step('findCluster', findCluster),
  step('observePods', observePods),
  step('observeScheduler', async (s) => { s.view = await observeScheduler(s.ctx, s.cluster!); }),
  step('collectRetirements', collectRetirements),
  step('planPods', planPods),
  step('deleteRetiredPods', (s) => deletePods(s, 'deleteRetiredPods', s.answered!.retired), { keepGoing: true }),
  step('deleteFinishedPods', deleteFinishedPods, { keepGoing: true }),
  step('createPods', createPods, { keepGoing: true }),
  step('deleteUnregisteredPods', deleteUnregisteredPods, { keepGoing: true }),
  step('drainPods', drainPods, { keepGoing: true }),
  step('writeStatus', writeObservedStatus, { keepGoing: true }),
  step('notifyCluster', (s) => { s.ctx.enqueue.cluster(s.namespace, s.group.spec.cluster); }, { keepGoing: true }),
  step('requeue', (s) => done(nextLook(s)), { ifNoFailures: true }),
];

export async function reconcileWorkerGroup(ctx: ReconcileContext, namespace: string, name: string): Promise<ReconcileResult> {
  const gkey = key(namespace, name);
  const group = ctx.caches.groups.get(namespace, name);
  if (!group || isTerminating(group)) {
    ctx.expectations.forget(gkey);
    ctx.drains.forget(gkey);
    return; // owner references take its pods away
  }
  return runSteps(groupSteps, { ctx, namespace, name, gkey, group, failures: [] }, ctx.onStep && { step: (n) => ctx.onStep!('group', gkey, n) });
}

async function findCluster(s: GroupPass): Promise<StepOutcome> {
  const { ctx, group, namespace } = s;
  s.cluster = ctx.caches.clusters.get(namespace, group.spec.cluster);
  if (s.cluster) return;
  await writeGroupStatus(ctx, group, { replicas: 0, readyReplicas: 0, pendingReplicas: 0, outdatedReplicas: 0 },
    [condition('Ready', false, 'ClusterNotFound', `DaskCluster ${namespace}/${group.spec.cluster} does not exist`, group.metadata.generation)]);
  return done({ requeueAfterMs: 30_000, reason: 'waiting for the group\'s DaskCluster to exist' });
}

// The cache against the expectations: pods created are seen, pods deleted are gone or going.
function observePods(s: GroupPass): void {
  const { ctx, gkey } = s;
  const all = groupPods(ctx, s.group);
  for (const p of all) ctx.expectations.observedCreate(gkey, p.metadata.name!);
  for (const n of ctx.expectations.pendingDeletes(gkey)) {
    const p = all.find((q) => q.metadata.name === n);
    if (!p || isTerminating(p)) ctx.expectations.observedDelete(gkey, n);
  }
  s.all = all;
  s.goingAway = new Set(ctx.expectations.pendingDeletes(gkey));
}

// Workers the scheduler has retired since the last pass: exactly those pods are deleted.
function collectRetirements(s: GroupPass): void {
  const { ctx, group } = s;
  s.answered = ctx.drains.collect(s.gkey);
  for (const podName of s.answered.retired) {
    ctx.events.record(group, 'Normal', 'WorkerRetired', `worker ${podName} retired by the scheduler; deleting its pod`);
    s.goingAway!.add(podName);
  }
  for (const [podName, reason] of Object.entries(s.answered.refused)) {
    ctx.events.record(group, 'Warning', 'RetireRefused', `the scheduler kept worker ${podName}: ${reason}`);
  }
}

function planPods(s: GroupPass): void {
  const { ctx, gkey, group, namespace, name } = s;
  const cluster = s.cluster!;
  const all = s.all!;
  s.hash = workerTemplateHash(group, cluster);
  s.live = all.filter((p) => !isTerminating(p) && !s.goingAway!.has(p.metadata.name!));
  s.force = Boolean(cluster.spec.suspend || cluster.metadata.deletionTimestamp);
  s.desired = s.force ? 0 : group.spec.replicas ?? 0;
  const order = ctx.autoscaler?.removalOrder(namespace, group.spec.cluster, group.spec.groupName);
  const planned = [...s.live.map((p) => planPod(ctx, gkey, p, s.hash!, s.view!, order)),
    ...ctx.expectations.pendingCreates(gkey).filter((n) => !all.some((p) => p.metadata.name === n)).map((n) => unseenPod(n))];
  // A refused worker sits out its cool-off, unless it no longer holds any data (what kept it is gone).
  s.blocked = new Map(planned.filter((p) => p.keysHeld > 0 || !p.connected)
    .map((p) => [p.name, ctx.drains.refusal(gkey, p.name)] as const).filter((e): e is readonly [string, string] => e[1] !== undefined));
  s.plan = planGroup({
    desired: s.desired,
    pods: planned.map((p) => (s.blocked!.has(p.name) ? { ...p, blocked: true } : p)),
    namesInUse: new Set([...all.map((p) => p.metadata.name!), ...ctx.expectations.pendingCreates(gkey)]),
    namePrefix: name,
    schedulerReachable: s.view!.metrics !== undefined,
    force: s.force,
  });
}

async function deletePods(s: GroupPass, stepName: string, podNames: string[]): Promise<void> {
  for (const podName of podNames) {
    await attempt(s, stepName, `pod ${podName}`, () => deletePod(s.ctx, s.gkey, s.namespace, podName));
  }
}

async function deleteFinishedPods(s: GroupPass): Promise<void> {
  for (const podName of s.plan!.deleteFinished) {
    s.ctx.events.record(s.group, 'Normal', 'DeletedWorker', `deleting finished worker pod ${podName}`);
  }
  await deletePods(s, 'deleteFinishedPods', s.plan!.deleteFinished);
}

async function createPods(s: GroupPass): Promise<void> {
  for (const podName of s.plan!.create) {
    await attempt(s, 'createPods', `pod ${podName}`, () => createPod(s.ctx, s.gkey, s.group, s.cluster!, podName));
  }
}

// Workers the scheduler does not know hold nothing to drain: their pods go at once.
async function deleteUnregisteredPods(s: GroupPass): Promise<void> {
  const direct = s.plan!.remove.filter((r) => !r.drain).map((r) => r.name);
  for (const podName of direct) {
    s.ctx.events.record(s.group, 'Normal', 'DeletedWorker', `deleting worker pod ${podName} (${s.force ? 'cluster suspended or deleted' : 'its worker is not registered with the scheduler: nothing to drain'})`);
  }
  await deletePods(s, 'deleteUnregisteredPods', direct);
}

async function drainPods(s: GroupPass): Promise<void> {
  const { ctx, group, namespace, name } = s;
  const drain = s.plan!.remove.filter((r) => r.drain).map((r) => r.name);
  if (!drain.length) return;
  ctx.events.record(group, 'Normal', 'DrainingWorkers', `retiring ${drain.join(', ')} through the scheduler before deleting their pods`);
  const tls = await clusterTls(ctx, s.cluster!);
  ctx.drains.begin(s.gkey, drain, ctx.control.retire(s.view!.address, drain, tls), () => ctx.enqueue.group(namespace, name));
}

async function writeObservedStatus(s: GroupPass): Promise<void> {
  const { view, plan, answered, blocked, group } = s;
  const counted = s.live!.filter((p) => !plan!.deleteFinished.includes(p.metadata.name!) && !isFinished(p));
  const connected = new Set(view!.metrics?.workerMetrics.map((w) => w.name) ?? []);
  const readyReplicas = counted.filter((p) => isReady(p) && connected.has(p.metadata.name!)).length;
  const problems = counted.map(podProblem).filter((p) => p !== undefined);
  const status = {
    replicas: counted.length + plan!.create.length,
    readyReplicas,
    pendingReplicas: counted.filter((p) => !isReady(p)).length + plan!.create.length,
    outdatedReplicas: counted.filter((p) => p.metadata.annotations?.[ANNOTATIONS.templateHash] !== s.hash).length,
  };
  s.status = status;
  s.problems = problems;
  const desired = s.desired!;
  const gen = group.metadata.generation;
  const conditions: ConditionInput[] = [
    condition('Ready', readyReplicas >= desired, readyReplicas >= desired ? 'WorkersConnected' : 'WaitingForWorkers',
      `${readyReplicas}/${desired} workers connected to the scheduler${view!.metrics ? '' : ` (${view!.unreachable})`}`, gen),
    problems.length
      ? condition('Degraded', true, problems[0]!.reason, problems.map((p) => p.message).join('; '), gen)
      : condition('Degraded', false, 'WorkersHealthy', 'no worker pod is failing to start', gen),
  ];
  if (blocked!.size || Object.keys(answered!.refused).length) {
    const reasons = new Map([...blocked!, ...Object.entries(answered!.refused)]);
    conditions.push(condition('ScaleDownBlocked', true, 'RetireRefused',
      [...reasons].map(([pod, why]) => `${pod}: ${why}`).join('; '), gen));
  }
  if (s.failures.length) conditions.push(condition('ReplicaFailure', true, failureReason(s.failures), failureMessage(s.failures), gen));
  await writeGroupStatus(s.ctx, group, status, conditions);
}

function nextLook(s: GroupPass): ReconcileResult {
  const { problems = [], plan, status, blocked } = s;
  if (problems.length) return { requeueAfterMs: 10_000, reason: `worker pods failing: ${problems[0]!.reason}` };
  if (plan!.waiting) return { requeueAfterMs: 2_000, reason: plan!.waiting };
  if (blocked!.size) return { requeueAfterMs: 5_000, reason: 'scale-down blocked by the scheduler: look again' };
  if (status && status.readyReplicas < status.replicas) return { requeueAfterMs: 2_000, reason: 'waiting for workers to connect' };
  return undefined;
}

function planPod(ctx: ReconcileContext, gkey: string, p: Pod, hash: string, view: SchedulerView, order: string[] | undefined): PlanPod {
  const w = view.metrics?.workerMetrics.find((m) => m.name === p.metadata.name);
  const rank = order?.indexOf(p.metadata.name!) ?? -1;
  return {
    ...(rank >= 0 ? { retireRank: rank } : {}),
    name: p.metadata.name!,
    current: p.metadata.annotations?.[ANNOTATIONS.templateHash] === hash,
    ready: isReady(p),
    connected: w !== undefined,
    keysHeld: w?.keysHeld ?? 0,
    idleSeconds: w?.idleSeconds ?? 0,
    draining: ctx.drains.isDraining(gkey, p.metadata.name!),
    finished: isFinished(p),
  };
}

// Created by us but not in the cache yet: counts as a current pod that is starting.
const unseenPod = (name: string): PlanPod =>
  ({ name, current: true, ready: false, connected: false, keysHeld: 0, idleSeconds: 0, draining: false, finished: false });

async function createPod(ctx: ReconcileContext, gkey: string, group: DaskWorkerGroup, cluster: DaskCluster, podName: string): Promise<void> {
  ctx.expectations.expectCreate(gkey, podName);
  try {
    await createObject(ctx, R.pods, group.metadata.namespace!, buildWorkerPod(group, cluster, podName));
    ctx.events.record(group, 'Normal', 'CreatedWorker', `created worker pod ${podName}`);
  } catch (err) {
    if (isAlreadyExists(err)) return; // a stale cache: the pod is there, the watch will show it
    ctx.expectations.observedCreate(gkey, podName);
    ctx.events.record(group, 'Warning', 'FailedCreate', `creating worker pod ${podName}: ${(err as Error).message}`);
    throw err;
  }
}

async function writeGroupStatus(ctx: ReconcileContext, group: DaskWorkerGroup, counts: GroupCounts, conditions: ConditionInput[]): Promise<void> {
  const status: DaskWorkerGroupStatus = {
    observedGeneration: group.metadata.generation ?? 0,
    ...counts,
    selector: selectorString(workerGroupSelector(group.spec.cluster, group.spec.groupName)),
    conditions: setConditions(group.status?.conditions, conditions, new Date(ctx.now()).toISOString()),
  };
  await writeStatus(ctx, R.daskWorkerGroups, group, group.status, status);
}
