// The scheduler's Service: clients and workers reach the scheduler by its DNS name.
import type { IService } from 'kubernetes-models/v1/Service';
import { names, PORTS, type DaskCluster } from '../api/types.js';
import { clusterLabels, nameOf, ownerReference, schedulerSelector } from './meta.js';

export const METRICS_PATH = '/metrics';

export function buildSchedulerService(cluster: DaskCluster): IService {
  const name = nameOf(cluster);
  const svc = cluster.spec.scheduler?.service;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: names.scheduler(name),
      namespace: cluster.metadata.namespace,
      labels: clusterLabels(name, 'scheduler'),
      // The user's annotations win, so scraping can be turned off or pointed elsewhere.
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(PORTS.metrics),
        'prometheus.io/path': METRICS_PATH,
        ...svc?.annotations,
      },
      ownerReferences: [ownerReference(cluster)],
    },
    spec: {
      type: svc?.type ?? 'ClusterIP',
      selector: schedulerSelector(name),
      ports: (['grpc', 'dashboard', 'metrics'] as const).map((p) => ({ name: p, port: PORTS[p], targetPort: PORTS[p], protocol: 'TCP' })),
    },
  };
}
