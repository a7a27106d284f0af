// Reconcile of one DaskCluster, as an ordered list of idempotent steps (steps.ts runs them):
// finalizer, scheduler Service and Deployment, one DaskWorkerGroup per spec group, then the
// status from what was observed, and the idle timeout. Worker pods belong to the group reconciler.
import { ANNOTATIONS, FINALIZER, LABELS, names, type DaskCluster, type DaskClusterStatus, type DaskWorkerGroup } from '../api/types.js';
import { buildSchedulerDeployment, buildSchedulerService, buildWorkerGroup, selectorString, withClusterDefaults, workerGroupSelector, workerTemplateHash } from '../builders/index.js';
import { R } from '../k8s/resources.js';
import { isAlreadyExists, isNotFound, type KubeObject } from '../k8s/kube-api.js';
import type { ReconcileResult } from '../runtime/work-queue.js';
import type { AutoscalingState } from '../autoscaler/runner.js';
import { condition, setConditions } from './conditions.js';
import { computeClusterStatus, type ComputedStatus } from './cluster-status.js';
import { key, type Deployment, type Pod, type ReconcileContext, type Service } from './context.js';
import { parseDuration } from './duration.js';
import { forgetCluster, groupPods, observeScheduler, type SchedulerView } from './observe.js';
import { isTerminating } from './pod-health.js';
import { clusterTls } from './tls.js';
import { failureMessage, failureReason } from './errors.js';
import { done, runSteps, step, type PassState, type ReconcileStep, type StepOutcome } from './steps.js';
import { createObject, sameJson, writeStatus } from './writes.js';

interface ClusterPass extends PassState {
  ctx: ReconcileContext;
  cluster: DaskCluster;
  view?: SchedulerView;
  autoscaling?: AutoscalingState;
  computed?: ComputedStatus;
  status?: DaskClusterStatus;
  /** Worker pods still there while the cluster is being deleted. */
  workers?: Pod[];
}

/** A live cluster's pass, in order. */
export const clusterSteps: readonly ReconcileStep<ClusterPass>[] = [
  step('ensureFinalizer', ensureFinalizer),
  step('ensureSchedulerService', (s) => ensureService(s.ctx, s.cluster), { keepGoing: true }),
  step('ensureSchedulerDeployment', (s) => ensureDeployment(s.ctx, s.cluster), { keepGoing: true }),
  step('ensureWorkerGroups', (s) => ensureGroups(s.ctx, s.cluster), { keepGoing: true }),
  step('observeScheduler', observe),
  step('computeStatus', computeStatus),
  step('writeStatus', (s) => writeStatus(s.ctx, R.daskClusters, s.cluster, s.cluster.status, s.status!), { keepGoing: true }),
  step('checkIdleTimeout', async (s) => {
    const idle = await checkIdle(s.ctx, s.cluster, s.computed!.ready ? s.computed!.idleSeconds : undefined);
    return idle ? done(idle) : undefined;
  }, { ifNoFailures: true }),
  step('requeue', (s) => done(nextLook(s.cluster, s.computed!)), { ifNoFailures: true }),
];

/** A cluster being deleted: its workers go first, then the finalizer. */
export const clusterDeletionSteps: readonly ReconcileStep<ClusterPass>[] = [
  step('checkFinalizer', (s) => ((s.cluster.metadata.finalizers ?? []).includes(FINALIZER) ? undefined : done())),
  step('deleteWorkerPods', deleteWorkers),
  step('waitForWorkerPods', waitForWorkers),
  step('removeFinalizer', removeFinalizer),
];

export async function reconcileCluster(ctx: ReconcileContext, namespace: string, name: string): Promise<ReconcileResult> {
  const cluster = ctx.caches.clusters.get(namespace, name);
  if (!cluster) return;
  const steps = cluster.metadata.deletionTimestamp ? clusterDeletionSteps : clusterSteps;
  return runSteps(steps, { ctx, cluster, failures: [] }, ctx.onStep && { step: (n) => ctx.onStep!('cluster', key(namespace, name), n) });
}

// Runs after every ensure step, failed or not: what the scheduler says goes into the status.
async function observe(s: ClusterPass): Promise<void> {
  s.view = await observeScheduler(s.ctx, s.cluster);
  s.autoscaling = s.ctx.autoscaler?.sync(s.cluster, s.view.address, s.view.metrics !== undefined, await clusterTls(s.ctx, s.cluster).catch(() => undefined));
}

function computeStatus(s: ClusterPass): void {
  const { ctx, cluster, autoscaling } = s;
  const deployment = ctx.caches.deployments.get(cluster.metadata.namespace!, names.scheduler(cluster.metadata.name!));
  const want = buildSchedulerDeployment(cluster);
  const groups = ownedGroups(ctx, cluster);
  const spec = withClusterDefaults(cluster.spec);
  const computed = computeClusterStatus({
    cluster, scheduler: s.view!,
    schedulerRolling: templateHash(deployment) !== templateHash(want as Deployment),
    groups: groups.map((group) => ({ group, pods: groupPods(ctx, group), templateHash: workerTemplateHash(group, cluster) })),
    expectedGroups: (spec.workerGroups ?? []).map((g) => g.name),
    ...(autoscaling ? { autoscaling } : {}),
  });
  // A step the API refused (a template the server rejects, a name taken) shows in the status.
  if (s.failures.length) computed.conditions.push(condition('ReconcileFailed', true, failureReason(s.failures), failureMessage(s.failures), cluster.metadata.generation));
  const lastAutoscaling = autoscaling?.last ?? cluster.status?.lastAutoscaling;
  // The scale subresource's view: the first group, which spec.replicas sizes.
  const first = spec.workerGroups[0];
  const firstStatus = computed.groups.find((g) => g.name === first?.name);
  s.computed = computed;
  s.status = {
    phase: computed.phase,
    observedGeneration: cluster.metadata.generation ?? 0,
    conditions: setConditions(cluster.status?.conditions, computed.conditions, new Date(ctx.now()).toISOString()),
    schedulerAddress: computed.schedulerAddress,
    dashboardURL: computed.dashboardURL,
    workers: `${computed.readyWorkers}/${computed.desiredWorkers}`,
    readyWorkers: computed.readyWorkers,
    desiredWorkers: computed.desiredWorkers,
    groups: computed.groups,
    ...(first ? { replicas: (firstStatus?.ready ?? 0) + (firstStatus?.pending ?? 0), selector: selectorString(workerGroupSelector(cluster.metadata.name!, first.name)) } : {}),
    ...(lastAutoscaling ? { lastAutoscaling } : {}),
  };
  if (cluster.status?.phase !== s.status.phase) {
    ctx.events.record(cluster, computed.problem ? 'Warning' : 'Normal', `Phase${s.status.phase}`,
      computed.problem ? computed.problem.message : `cluster is ${s.status.phase}`, 'phase');
  }
}

function nextLook(cluster: DaskCluster, computed: ComputedStatus): ReconcileResult {
  if (computed.problem && !computed.ready) return { requeueAfterMs: 10_000, reason: `cluster degraded: ${computed.problem.reason}` };
  if (!computed.ready && !cluster.spec.suspend) return { requeueAfterMs: 2_000, reason: 'waiting for the scheduler and workers to be ready' };
  return { requeueAfterMs: 30_000, reason: 'refresh status from the scheduler' };
}

// The pass goes on with the patched object: its status write is against that version.
async function ensureFinalizer(s: ClusterPass): Promise<void> {
  const { ctx, cluster } = s;
  const finalizers = cluster.metadata.finalizers ?? [];
  if (finalizers.includes(FINALIZER)) return;
  const patch = finalizers.length
    ? [{ op: 'add', path: '/metadata/finalizers/-', value: FINALIZER }]
    : [{ op: 'add', path: '/metadata/finalizers', value: [FINALIZER] }];
  try {
    s.cluster = await ctx.api.patch<DaskCluster & KubeObject>(R.daskClusters, cluster.metadata.namespace, cluster.metadata.name!, patch, { type: 'json' });
  } catch (err) {
    if (!isNotFound(err)) throw err; // deleted meanwhile; the watch will tell
  }
}

// Before the cluster goes: remove its workers (they would only lose the scheduler) and wait for
// them to be gone, so nothing keeps running after `kubectl delete` returns.
async function deleteWorkers(s: ClusterPass): Promise<void> {
  const { ctx, cluster } = s;
  const ns = cluster.metadata.namespace!;
  s.workers = ctx.caches.pods.list({ namespace: ns, labels: { [LABELS.cluster]: cluster.metadata.name!, [LABELS.role]: 'worker' } });
  for (const p of s.workers.filter((w) => !isTerminating(w))) {
    try { await ctx.api.delete(R.pods, ns, p.metadata.name!); } catch (err) { if (!isNotFound(err)) throw err; }
  }
}

async function waitForWorkers(s: ClusterPass): Promise<StepOutcome> {
  const { ctx, cluster, workers = [] } = s;
  if (!workers.length) return;
  if (cluster.status?.phase !== 'Terminating') {
    const conditions = setConditions(cluster.status?.conditions, [
      ...(cluster.status?.conditions ?? []).filter((c) => c.type !== 'Ready'),
      condition('Ready', false, 'Terminating', 'the cluster is being deleted', cluster.metadata.generation),
    ], new Date(ctx.now()).toISOString());
    await writeStatus(ctx, R.daskClusters, cluster, cluster.status, { ...cluster.status, phase: 'Terminating', conditions });
    ctx.events.record(cluster, 'Normal', 'RemovingWorkers', `removing ${workers.length} worker pods before the cluster goes`);
  }
  return done({ requeueAfterMs: 1_000, reason: `waiting for ${workers.length} worker pods to terminate` });
}

async function removeFinalizer(s: ClusterPass): Promise<void> {
  const { ctx, cluster } = s;
  const at = (cluster.metadata.finalizers ?? []).indexOf(FINALIZER);
  try {
    await ctx.api.patch(R.daskClusters, cluster.metadata.namespace!, cluster.metadata.name!, [
      { op: 'test', path: `/metadata/finalizers/${at}`, value: FINALIZER },
      { op: 'remove', path: `/metadata/finalizers/${at}` },
    ], { type: 'json' });
  } catch (err) {
    if (!isNotFound(err)) throw err; // gone already: an earlier pass removed the finalizer
  }
  forgetCluster(ctx, cluster);
}

async function ensureService(ctx: ReconcileContext, cluster: DaskCluster): Promise<void> {
  const want = buildSchedulerService(cluster) as Service;
  const ns = cluster.metadata.namespace!;
  const have = ctx.caches.services.get(ns, want.metadata.name!);
  if (!have) return createOnce(ctx, cluster, R.services, want, 'CreatedService');
  // Compared as projections: the server adds defaults (protocol, nodePort) and other controllers
  // add their own annotations and labels, which stay.
  const ports = (s: Service | undefined) => (s?.spec?.ports ?? []).map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol ?? 'TCP' }));
  const includes = (have: Record<string, string> | undefined, want: Record<string, string> | undefined) =>
    Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v);
  const same = (have.spec?.type ?? 'ClusterIP') === (want.spec?.type ?? 'ClusterIP') && sameJson(ports(have), ports(want))
    && sameJson(have.spec?.selector, want.spec?.selector)
    && includes(have.metadata.annotations, want.metadata.annotations) && includes(have.metadata.labels, want.metadata.labels);
  if (same) return;
  // The cluster IP is immutable and node ports are the server's: carry them over.
  const nodePorts = new Map((have.spec?.ports ?? []).map((p) => [p.name, p.nodePort]));
  const body = {
    ...want,
    metadata: { ...want.metadata, resourceVersion: have.metadata.resourceVersion,
      annotations: { ...have.metadata.annotations, ...want.metadata.annotations }, labels: { ...have.metadata.labels, ...want.metadata.labels } },
    spec: { ...want.spec, clusterIP: have.spec?.clusterIP, clusterIPs: have.spec?.clusterIPs,
      ports: want.spec?.ports?.map((p) => ((want.spec?.type ?? 'ClusterIP') !== 'ClusterIP' && nodePorts.get(p.name) ? { ...p, nodePort: nodePorts.get(p.name) } : p)) },
  };
  await ctx.api.replace(R.services, ns, want.metadata.name!, body);
  ctx.events.record(cluster, 'Normal', 'UpdatedService', `updated Service ${want.metadata.name}`);
}

async function ensureDeployment(ctx: ReconcileContext, cluster: DaskCluster): Promise<void> {
  const want = buildSchedulerDeployment(cluster) as Deployment;
  if (cluster.spec.suspend) want.spec = { ...want.spec!, replicas: 0 };
  const ns = cluster.metadata.namespace!;
  const have = ctx.caches.deployments.get(ns, want.metadata.name!);
  if (!have) return createOnce(ctx, cluster, R.deployments, want, 'CreatedScheduler');
  const rolled = templateHash(have) !== templateHash(want);
  if (!rolled && have.spec?.replicas === want.spec?.replicas) return;
  await ctx.api.replace(R.deployments, ns, want.metadata.name!, { ...want, metadata: { ...want.metadata, resourceVersion: have.metadata.resourceVersion } });
  ctx.events.record(cluster, 'Normal', rolled ? 'RollingScheduler' : 'ScaledScheduler',
    rolled ? 'scheduler pod template changed: replacing the scheduler' : `scheduler replicas set to ${want.spec?.replicas}`);
}

const templateHash = (d: Deployment | undefined): string | undefined => d?.spec?.template?.metadata?.annotations?.[ANNOTATIONS.templateHash];

function ownedGroups(ctx: ReconcileContext, cluster: DaskCluster): DaskWorkerGroup[] {
  return ctx.caches.groups.list({ namespace: cluster.metadata.namespace!, labels: { [LABELS.cluster]: cluster.metadata.name! } })
    .filter((g) => g.metadata.ownerReferences?.some((o) => o.uid === cluster.metadata.uid));
}

// Groups follow the cluster's spec, except replicas: a `kubectl scale` on a group (or the
// autoscaler's choice) sticks until the cluster's own replicas for that group change (remembered
// in an annotation). One exception, level-triggered: with autoscaling off, a spec.replicas (the
// scale subresource's, scale()'s) always holds for the first group, so `scale(n)` after adapt()
// or a repeated `kubectl scale dc --replicas=n` brings the group back to n.
async function ensureGroups(ctx: ReconcileContext, cluster: DaskCluster): Promise<void> {
  const ns = cluster.metadata.namespace!;
  const spec = withClusterDefaults(cluster.spec);
  const fixedFirst = cluster.spec.replicas !== undefined && !cluster.spec.autoscaling?.enabled;
  const wanted = new Set<string>();
  for (const [index, tmpl] of (spec.workerGroups ?? []).entries()) {
    const want = buildWorkerGroup(cluster, tmpl);
    const groupName = want.metadata.name!;
    wanted.add(groupName);
    const clusterReplicas = String(want.spec.replicas ?? 0);
    const have = ctx.caches.groups.get(ns, groupName);
    if (!have) {
      want.metadata.annotations = { ...want.metadata.annotations, [ANNOTATIONS.clusterReplicas]: clusterReplicas, [ANNOTATIONS.operatorReplicas]: clusterReplicas };
      await createOnce(ctx, cluster, R.daskWorkerGroups, want as DaskWorkerGroup & { metadata: { name: string } }, 'CreatedWorkerGroup');
      continue;
    }
    if (isTerminating(have)) continue;
    if (!have.metadata.ownerReferences?.some((o) => o.uid === cluster.metadata.uid)) {
      throw new Error(`DaskWorkerGroup ${groupName} exists but belongs to another owner; rename group ${tmpl.name}`);
    }
    const follow = (index === 0 && fixedFirst) || have.metadata.annotations?.[ANNOTATIONS.clusterReplicas] !== clusterReplicas;
    // Kept replicas (kubectl scale, the autoscaler) move into new bounds (adapt() narrowed them):
    // the group's own rules would refuse the spec otherwise.
    const kept = have.spec.replicas ?? 0;
    const bounded = kept === 0 ? 0 : Math.min(Math.max(kept, want.spec.minReplicas ?? 0), want.spec.maxReplicas ?? Infinity);
    const spec2 = { ...want.spec, replicas: follow ? want.spec.replicas : bounded };
    const annotations = { ...have.metadata.annotations, ...want.metadata.annotations, [ANNOTATIONS.clusterReplicas]: clusterReplicas,
      // The operator wrote these replicas: the autoscaler does not take them for an external scale.
      ...(follow || bounded !== kept ? { [ANNOTATIONS.operatorReplicas]: String(spec2.replicas ?? 0) } : {}) };
    const specChanged = !sameJson({ ...have.spec, replicas: 0 }, { ...spec2, replicas: 0 });
    if (!specChanged && (follow ? have.spec.replicas === spec2.replicas : bounded === kept)
      && have.metadata.annotations?.[ANNOTATIONS.clusterReplicas] === clusterReplicas) continue;
    await ctx.api.patch(R.daskWorkerGroups, ns, groupName, [
      // Against the version read: a concurrent `kubectl scale` is never overwritten from a stale cache.
      { op: 'test', path: '/metadata/resourceVersion', value: have.metadata.resourceVersion },
      { op: 'replace', path: '/spec', value: spec2 },
      { op: have.metadata.annotations ? 'replace' : 'add', path: '/metadata/annotations', value: annotations },
    ], { type: 'json' });
    if (have.spec.replicas !== spec2.replicas) {
      ctx.events.record(cluster, 'Normal', 'ScaledWorkerGroup', `group ${tmpl.name}: replicas ${have.spec.replicas} -> ${spec2.replicas}`);
    }
    if (specChanged) {
      ctx.events.record(cluster, 'Normal', 'UpdatedWorkerGroup', `group ${tmpl.name}: spec updated; workers built from an older template are replaced a few at a time`);
    }
  }
  // A group gone from the spec is first scaled to zero, so its workers are drained through the
  // scheduler like any scale-down; the group goes once it has no pods left.
  for (const g of ownedGroups(ctx, cluster)) {
    if (wanted.has(g.metadata.name!) || isTerminating(g)) continue;
    if ((g.spec.replicas ?? 0) > 0) {
      await ctx.api.patch(R.daskWorkerGroups, ns, g.metadata.name!,
        { spec: { replicas: 0 }, metadata: { annotations: { [ANNOTATIONS.operatorReplicas]: '0' } } }, { type: 'merge' });
      ctx.events.record(cluster, 'Normal', 'ScaledWorkerGroup', `group ${g.spec.groupName} removed from the spec: draining its workers`);
    } else if (groupPods(ctx, g).length === 0) {
      await ctx.api.delete(R.daskWorkerGroups, ns, g.metadata.name!);
      ctx.events.record(cluster, 'Normal', 'DeletedWorkerGroup', `group ${g.spec.groupName} removed from the spec`);
    }
  }
}

async function createOnce(ctx: ReconcileContext, cluster: DaskCluster, r: Parameters<ReconcileContext['api']['create']>[0],
  body: { metadata: { name?: string } }, reason: string): Promise<void> {
  try {
    await createObject(ctx, r, cluster.metadata.namespace!, body);
    ctx.events.record(cluster, 'Normal', reason, `created ${r.kind} ${body.metadata.name}`);
  } catch (err) {
    if (isAlreadyExists(err)) return; // made by an earlier pass the cache has not shown yet
    ctx.events.record(cluster, 'Warning', `Failed${reason.replace(/^Created/, 'Create')}`, `creating ${r.kind} ${body.metadata.name}: ${(err as Error).message}`);
    throw err;
  }
}

async function checkIdle(ctx: ReconcileContext, cluster: DaskCluster, idleSeconds: number | undefined): Promise<ReconcileResult> {
  if (!cluster.spec.idleTimeout || idleSeconds === undefined) return undefined;
  const limitMs = parseDuration(cluster.spec.idleTimeout, 'spec.idleTimeout');
  if (idleSeconds * 1000 < limitMs) return { requeueAfterMs: Math.min(30_000, limitMs - idleSeconds * 1000 + 500), reason: 'watching the idle timeout' };
  ctx.events.record(cluster, 'Normal', 'IdleTimeout', `scheduler idle for ${Math.round(idleSeconds)}s >= spec.idleTimeout ${cluster.spec.idleTimeout}: deleting the cluster`);
  await ctx.api.delete(R.daskClusters, cluster.metadata.namespace!, cluster.metadata.name!);
  return undefined;
}
