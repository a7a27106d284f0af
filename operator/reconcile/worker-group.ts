// Reconcile of one DaskWorkerGroup: make its worker pods match spec.replicas and the current
// template, draining every connected worker through the scheduler before its pod is deleted,
// then write the status from what was observed.
import { ANNOTATIONS, type DaskCluster, type DaskWorkerGroup, type DaskWorkerGroupStatus } from '../api/types.js';
import { buildWorkerPod, selectorString, workerGroupSelector, workerTemplateHash } from '../builders/index.js';
import { R } from '../k8s/resources.js';
import { isAlreadyExists } from '../k8s/kube-api.js';
import type { ReconcileResult } from '../runtime/work-queue.js';
import { condition, setConditions, type ConditionInput } from './conditions.js';
import { key, type Pod, type ReconcileContext } from './context.js';
import { planGroup, type PlanPod } from './group-plan.js';
import { groupPods, observeScheduler, type SchedulerView } from './observe.js';
import { isFinished, isReady, isTerminating, podProblem } from './pod-health.js';
import { clusterTls } from './tls.js';
import { createObject, deletePod, writeStatus, ReconcileErrors } from './writes.js';

export async function reconcileWorkerGroup(ctx: ReconcileContext, namespace: string, name: string): Promise<ReconcileResult> {
  const gkey = key(namespace, name);
  const group = ctx.caches.groups.get(namespace, name);
  if (!group || isTerminating(group)) {
    ctx.expectations.forget(gkey);
    ctx.drains.forget(gkey);
    return; // owner references take its pods away
  }
  const cluster = ctx.caches.clusters.get(namespace, group.spec.cluster);
  if (!cluster) {
    await writeGroupStatus(ctx, group, { replicas: 0, readyReplicas: 0, pendingReplicas: 0, outdatedReplicas: 0 },
      [condition('Ready', false, 'ClusterNotFound', `DaskCluster ${namespace}/${group.spec.cluster} does not exist`, group.metadata.generation)]);
    return { requeueAfterMs: 30_000, reason: 'waiting for the group\'s DaskCluster to exist' };
  }

  const errors = new ReconcileErrors();
  const all = groupPods(ctx, group);
  for (const p of all) ctx.expectations.observedCreate(gkey, p.metadata.name!);
  for (const n of ctx.expectations.pendingDeletes(gkey)) {
    const p = all.find((q) => q.metadata.name === n);
    if (!p || isTerminating(p)) ctx.expectations.observedDelete(gkey, n);
  }
  const goingAway = new Set(ctx.expectations.pendingDeletes(gkey));
  const view = await observeScheduler(ctx, cluster);

  // Workers the scheduler has retired since the last pass: delete exactly those pods.
  const answered = ctx.drains.collect(gkey);
  for (const podName of answered.retired) {
    ctx.events.record(group, 'Normal', 'WorkerRetired', `worker ${podName} retired by the scheduler; deleting its pod`);
    await errors.run(`delete pod ${podName}`, () => deletePod(ctx, gkey, namespace, podName));
    goingAway.add(podName);
  }
  for (const [podName, reason] of Object.entries(answered.refused)) {
    ctx.events.record(group, 'Warning', 'RetireRefused', `the scheduler kept worker ${podName}: ${reason}`);
  }

  const hash = workerTemplateHash(group, cluster);
  const live = all.filter((p) => !isTerminating(p) && !goingAway.has(p.metadata.name!));
  const force = Boolean(cluster.spec.suspend || cluster.metadata.deletionTimestamp);
  const desired = force ? 0 : group.spec.replicas ?? 0;
  const order = ctx.autoscaler?.removalOrder(namespace, group.spec.cluster, group.spec.groupName);
  const planPods = [...live.map((p) => planPod(ctx, gkey, p, hash, view, order)),
    ...ctx.expectations.pendingCreates(gkey).filter((n) => !all.some((p) => p.metadata.name === n)).map((n) => unseenPod(n))];
  // A refused worker sits out its cool-off, unless it no longer holds any data (what kept it is gone).
  const blocked = new Map(planPods.filter((p) => p.keysHeld > 0 || !p.connected)
    .map((p) => [p.name, ctx.drains.refusal(gkey, p.name)] as const).filter(([, r]) => r !== undefined));
  const plan = planGroup({
    desired,
    pods: planPods.map((p) => (blocked.has(p.name) ? { ...p, blocked: true } : p)),
    namesInUse: new Set([...all.map((p) => p.metadata.name!), ...ctx.expectations.pendingCreates(gkey)]),
    namePrefix: name,
    schedulerReachable: view.metrics !== undefined,
    force,
  });

  for (const podName of plan.deleteFinished) {
    ctx.events.record(group, 'Normal', 'DeletedWorker', `deleting finished worker pod ${podName}`);
    await errors.run(`delete finished pod ${podName}`, () => deletePod(ctx, gkey, namespace, podName));
  }
  for (const podName of plan.create) {
    await errors.run(`create pod ${podName}`, () => createPod(ctx, gkey, group, cluster, podName));
  }
  const direct = plan.remove.filter((r) => !r.drain).map((r) => r.name);
  for (const podName of direct) {
    ctx.events.record(group, 'Normal', 'DeletedWorker', `deleting worker pod ${podName} (${force ? 'cluster suspended or deleted' : 'its worker is not registered with the scheduler: nothing to drain'})`);
    await errors.run(`delete pod ${podName}`, () => deletePod(ctx, gkey, namespace, podName));
  }
  const drain = plan.remove.filter((r) => r.drain).map((r) => r.name);
  if (drain.length) {
    ctx.events.record(group, 'Normal', 'DrainingWorkers', `retiring ${drain.join(', ')} through the scheduler before deleting their pods`);
    const tls = await clusterTls(ctx, cluster);
    ctx.drains.begin(gkey, drain, ctx.control.retire(view.address, drain, tls), () => ctx.enqueue.group(namespace, name));
  }

  const counted = live.filter((p) => !plan.deleteFinished.includes(p.metadata.name!) && !isFinished(p));
  const connected = new Set(view.metrics?.workerMetrics.map((w) => w.name) ?? []);
  const readyReplicas = counted.filter((p) => isReady(p) && connected.has(p.metadata.name!)).length;
  const problems = counted.map(podProblem).filter((p) => p !== undefined);
  const status = {
    replicas: counted.length + plan.create.length,
    readyReplicas,
    pendingReplicas: counted.filter((p) => !isReady(p)).length + plan.create.length,
    outdatedReplicas: counted.filter((p) => p.metadata.annotations?.[ANNOTATIONS.templateHash] !== hash).length,
  };
  const gen = group.metadata.generation;
  const conditions: ConditionInput[] = [
    condition('Ready', readyReplicas >= desired, readyReplicas >= desired ? 'WorkersConnected' : 'WaitingForWorkers',
      `${readyReplicas}/${desired} workers connected to the scheduler${view.metrics ? '' : ` (${view.unreachable})`}`, gen),
    problems.length
      ? condition('Degraded', true, problems[0]!.reason, problems.map((p) => p.message).join('; '), gen)
      : condition('Degraded', false, 'WorkersHealthy', 'no worker pod is failing to start', gen),
  ];
  if (blocked.size || Object.keys(answered.refused).length) {
    const reasons = new Map([...blocked, ...Object.entries(answered.refused)]);
    conditions.push(condition('ScaleDownBlocked', true, 'RetireRefused',
      [...reasons].map(([pod, why]) => `${pod}: ${why}`).join('; '), gen));
  }
  if (errors.any) conditions.push(condition('ReplicaFailure', true, 'ApiError', errors.message, gen));
  await errors.run('write status', () => writeGroupStatus(ctx, group, status, conditions));
  ctx.enqueue.cluster(namespace, group.spec.cluster);
  errors.throwIfAny();
  if (problems.length) return { requeueAfterMs: 10_000, reason: `worker pods failing: ${problems[0]!.reason}` };
  if (plan.waiting) return { requeueAfterMs: 2_000, reason: plan.waiting };
  if (blocked.size) return { requeueAfterMs: 5_000, reason: 'scale-down blocked by the scheduler: look again' };
  if (readyReplicas < status.replicas) return { requeueAfterMs: 2_000, reason: 'waiting for workers to connect' };
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

async function writeGroupStatus(ctx: ReconcileContext, group: DaskWorkerGroup,
  counts: Required<Pick<DaskWorkerGroupStatus, 'replicas' | 'readyReplicas' | 'pendingReplicas' | 'outdatedReplicas'>>,
  conditions: ConditionInput[]): Promise<void> {
  const status: DaskWorkerGroupStatus = {
    observedGeneration: group.metadata.generation ?? 0,
    ...counts,
    selector: selectorString(workerGroupSelector(group.spec.cluster, group.spec.groupName)),
    conditions: setConditions(group.status?.conditions, conditions, new Date(ctx.now()).toISOString()),
  };
  await writeStatus(ctx, R.daskWorkerGroups, group, group.status, status);
}
