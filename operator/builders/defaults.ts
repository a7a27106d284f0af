// Defaults of a DaskCluster spec, applied in one place so every builder sees the same values.
import { DEFAULT_IMAGE, DEFAULT_TARGET_DURATION, type AutoscalingSpec, type DaskClusterSpec, type WorkerGroupTemplate } from '../api/types.js';

export { DEFAULT_IMAGE, DEFAULT_TARGET_DURATION };

export type DefaultedGroup = WorkerGroupTemplate & Required<Pick<WorkerGroupTemplate, 'replicas' | 'minReplicas' | 'threads' | 'gpus'>>;

export type DefaultedClusterSpec = DaskClusterSpec & {
  image: string;
  workerGroups: DefaultedGroup[];
  autoscaling: AutoscalingSpec & Required<Pick<AutoscalingSpec, 'enabled' | 'targetDuration'>>;
};

export function withGroupDefaults(g: WorkerGroupTemplate): DefaultedGroup {
  const minReplicas = g.minReplicas ?? 0;
  const replicas = g.replicas ?? (g.minReplicas !== undefined ? minReplicas : 1);
  // No maxReplicas unless given: kubectl scale, an HPA or KEDA may grow the group freely, and
  // the autoscaling policy's limits bound the operator's own scaling.
  return { ...g, replicas, minReplicas, threads: g.threads ?? 1, gpus: g.gpus ?? 0 };
}

/** The spec with every default filled in; the input is not modified. */
export function withClusterDefaults(spec: DaskClusterSpec): DefaultedClusterSpec {
  const listed = spec.workerGroups ?? [{ name: 'default', replicas: 1 }];
  // spec.replicas (the scale subresource's) sizes the first group.
  const groups = spec.replicas === undefined ? listed : listed.map((g, i) => (i === 0 ? { ...g, replicas: spec.replicas } : g));
  return {
    ...spec,
    image: spec.image || DEFAULT_IMAGE,
    workerGroups: groups.map(withGroupDefaults),
    autoscaling: { ...spec.autoscaling, enabled: spec.autoscaling?.enabled ?? false, targetDuration: spec.autoscaling?.targetDuration ?? DEFAULT_TARGET_DURATION },
  };
}
