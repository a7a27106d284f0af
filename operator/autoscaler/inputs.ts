// From what the operator sees (the cluster, its groups and their pods, the scheduler's metrics
// update) to the autoscaler's pure inputs: the WatchMetrics request, each group's GroupInput,
// who drives each group, and what the namespace's other clusters use. No I/O here.
import { ANNOTATIONS, type DaskCluster, type DaskWorkerGroup } from '../api/types.js';
import { quantityBytes } from '../api/quantity.js';
import { withClusterDefaults } from '../builders/index.js';
import type { GroupMetrics, WatchRequest } from '../control/scheduler-control.js';
import { isFinished, isReady, isTerminating } from '../reconcile/pod-health.js';
import type { Pod } from '../reconcile/context.js';
import type { GroupInput } from './types.js';

/** The shape of each spec group the scheduler should compute a target for. */
export function watchRequest(cluster: DaskCluster, targetDurationSeconds: number): WatchRequest {
  const groups = (withClusterDefaults(cluster.spec).workerGroups ?? []).map((g) => ({
    name: g.name,
    // As the worker advertises them (--resources): GPUs first, the task resources win on a clash.
    resources: { ...((g.gpus ?? 0) > 0 ? { GPU: g.gpus! } : {}), ...g.taskResources },
    threads: g.threads ?? 1,
    // As the worker's --memory-limit takes it: the template's worker container wins.
    memoryLimit: quantityBytes(g.template?.spec?.containers?.find((c) => c.name === 'worker')?.resources?.limits?.memory ?? g.resources?.limits?.memory ?? 0) ?? 0,
  }));
  return { targetDurationSeconds, groups, intervalSeconds: 1 };
}

/**
 * Who drives a group's replicas: the built-in autoscaler, or someone else. A group is handed to
 * kubectl scale, an HPA or KEDA with `kubedask.io/scaled-by=external`, and taken to be when its
 * spec.replicas differs from what the operator last wrote; `scaled-by=autoscaler` hands it back.
 */
export type GroupDriver = 'autoscaler' | 'external' | 'newly-external' | 'handed-back';

export function groupDriver(g: DaskWorkerGroup): GroupDriver {
  const a = g.metadata.annotations ?? {};
  if (a[ANNOTATIONS.scaledBy] === 'external') return 'external';
  if (a[ANNOTATIONS.scaledBy] === 'autoscaler') return 'handed-back';
  const wrote = a[ANNOTATIONS.operatorReplicas];
  if (wrote !== undefined && wrote !== String(g.spec.replicas ?? 0)) return 'newly-external';
  return 'autoscaler';
}

const unschedulable = (p: Pod): boolean =>
  (p.status?.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');

export function groupInput(group: DaskWorkerGroup, pods: Pod[], metrics: GroupMetrics | undefined, external: boolean): GroupInput {
  const live = pods.filter((p) => !isTerminating(p) && !isFinished(p));
  const replicas = group.spec.replicas ?? 0;
  return {
    name: group.spec.groupName,
    replicas,
    minReplicas: group.spec.minReplicas ?? 0,
    ...(group.spec.maxReplicas !== undefined ? { maxReplicas: group.spec.maxReplicas } : {}),
    gpusPerWorker: group.spec.gpus ?? 0,
    // A group the scheduler said nothing of keeps its size.
    recommended: metrics?.target ?? replicas,
    recommendedReason: metrics?.reason ?? 'no metrics for this group yet',
    ready: live.filter(isReady).length,
    pending: live.filter((p) => !isReady(p)).length,
    unschedulable: live.filter(unschedulable).length,
    external,
  };
}

/** Workers and GPUs the namespace's other clusters ask for. */
export function namespaceUsage(groups: DaskWorkerGroup[], cluster: string): { workers: number; gpus: number } {
  let workers = 0;
  let gpus = 0;
  for (const g of groups) {
    if (g.spec.cluster === cluster || isTerminating(g)) continue;
    workers += g.spec.replicas ?? 0;
    gpus += (g.spec.replicas ?? 0) * (g.spec.gpus ?? 0);
  }
  return { workers, gpus };
}
