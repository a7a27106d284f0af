// What the operator can see of a cluster: its pods from the cache, and the scheduler's own
// account over Control. Metrics are asked for only when the scheduler pod is Ready, and a
// reading is shared for a second between the cluster's and its groups' reconciles.
import { LABELS, names, type DaskCluster, type DaskWorkerGroup } from '../api/types.js';
import type { ClusterMetrics } from '../control/scheduler-control.js';
import type { Pod, ReconcileContext } from './context.js';
import { isReady, isTerminating } from './pod-health.js';
import { clusterTls } from './tls.js';

export interface SchedulerView {
  address: string;
  pods: Pod[];
  podReady: boolean;
  metrics?: ClusterMetrics;
  /** Why there are no metrics. */
  unreachable?: string;
}

const recent = new Map<string, { at: number; view: SchedulerView }>();
const FRESH_MS = 1000;

export function schedulerPods(ctx: ReconcileContext, cluster: DaskCluster): Pod[] {
  return ctx.caches.pods.list({ namespace: cluster.metadata.namespace!, labels: { [LABELS.cluster]: cluster.metadata.name!, [LABELS.role]: 'scheduler' } })
    .filter((p) => !isTerminating(p));
}

export function groupPods(ctx: ReconcileContext, group: DaskWorkerGroup): Pod[] {
  return ctx.caches.pods.list({
    namespace: group.metadata.namespace!,
    labels: { [LABELS.cluster]: group.spec.cluster, [LABELS.group]: group.spec.groupName },
  }).filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === group.metadata.uid));
}

export async function observeScheduler(ctx: ReconcileContext, cluster: DaskCluster): Promise<SchedulerView> {
  const ns = cluster.metadata.namespace!;
  const address = names.schedulerAddress(cluster.metadata.name!, ns);
  const k = `${cluster.metadata.uid}/${address}`;
  const hit = recent.get(k);
  if (hit && ctx.now() - hit.at < FRESH_MS) return hit.view;
  const pods = schedulerPods(ctx, cluster);
  // A cluster being deleted has been forgotten (forgetCluster): dialing it again from a group's
  // pass would open a channel, and a port-forward, that nothing closes.
  if (isTerminating(cluster)) return { address, pods, podReady: false, unreachable: 'the cluster is being deleted' };
  const podReady = pods.some(isReady);
  let view: SchedulerView = { address, pods, podReady, unreachable: pods.length ? 'the scheduler pod is not ready' : 'no scheduler pod yet' };
  if (podReady) {
    try {
      view = { address, pods, podReady, metrics: await ctx.control.metrics(address, await clusterTls(ctx, cluster)) };
    } catch (err) {
      view = { address, pods, podReady, unreachable: (err as Error).message };
    }
  }
  recent.set(k, { at: ctx.now(), view });
  return view;
}

/** A cluster is gone: drop its cached view and its gRPC channel. */
export function forgetCluster(ctx: Pick<ReconcileContext, 'control' | 'autoscaler'>, cluster: DaskCluster): void {
  ctx.autoscaler?.forget(cluster.metadata.namespace!, cluster.metadata.name!);
  for (const k of recent.keys()) if (k.startsWith(`${cluster.metadata.uid}/`)) recent.delete(k);
  ctx.control.forget(names.schedulerAddress(cluster.metadata.name!, cluster.metadata.namespace!));
}
