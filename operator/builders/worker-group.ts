// One DaskWorkerGroup per entry of a cluster's spec.workerGroups, owned by the cluster.
import { ANNOTATIONS, API_VERSION, LABELS, names, type DaskCluster, type DaskWorkerGroup, type WorkerGroupTemplate } from '../api/types.js';
import { withClusterDefaults, withGroupDefaults } from './defaults.js';
import { compact } from './merge.js';
import { clusterLabels, nameOf, ownerReference } from './meta.js';

export function buildWorkerGroup(cluster: DaskCluster, groupTemplate: WorkerGroupTemplate): DaskWorkerGroup {
  const clusterName = nameOf(cluster);
  const spec = withClusterDefaults(cluster.spec);
  const { name: groupName, ...g } = withGroupDefaults(groupTemplate);
  return {
    apiVersion: API_VERSION,
    kind: 'DaskWorkerGroup',
    metadata: {
      name: names.workerGroup(clusterName, groupName),
      namespace: cluster.metadata.namespace,
      labels: { ...clusterLabels(clusterName, 'worker'), [LABELS.group]: groupName },
      // The cluster's replicas as copied: the reconciler copies them again only when the
      // cluster's value changes, so `kubectl scale` on the group sticks until then.
      annotations: { [ANNOTATIONS.clusterReplicas]: String(g.replicas) },
      ownerReferences: [ownerReference(cluster)],
    },
    spec: compact({ ...g, cluster: clusterName, groupName, image: spec.image, imagePullPolicy: spec.imagePullPolicy }),
  };
}
