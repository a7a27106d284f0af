// The informer caches reconcilers read, as the operator builds them: our resources in the managed
// namespaces, policies cluster-wide, and only the Pods, Deployments and Services we manage.
import { LABELS, MANAGER, type DaskAutoscalingPolicy, type DaskCluster, type DaskJob, type DaskWorkerGroup } from '../api/types.js';
import { Informer } from '../k8s/informer.js';
import type { KubeApi, KubeObject } from '../k8s/kube-api.js';
import { R } from '../k8s/resources.js';
import type { Caches, Deployment, Pod, Service } from './context.js';

export interface CacheOptions {
  /** Namespaces to watch; undefined for all. */
  namespaces: string[] | undefined;
  resyncMs: number;
  /** Told about watch trouble, by the kind watched. */
  onError(kind: string, err: unknown): void;
}

export function createCaches(api: KubeApi, o: CacheOptions): Caches {
  const { namespaces, resyncMs } = o;
  const onError = (kind: string) => (err: unknown) => o.onError(kind, err);
  const managed = `${LABELS.managedBy}=${MANAGER}`;
  return {
    clusters: new Informer<DaskCluster & KubeObject>(api, R.daskClusters, { namespaces, resyncMs, onError: onError('DaskCluster') }),
    groups: new Informer<DaskWorkerGroup & KubeObject>(api, R.daskWorkerGroups, { namespaces, resyncMs, onError: onError('DaskWorkerGroup') }),
    jobs: new Informer<DaskJob & KubeObject>(api, R.daskJobs, { namespaces, resyncMs, onError: onError('DaskJob') }),
    policies: new Informer<DaskAutoscalingPolicy & KubeObject>(api, R.daskAutoscalingPolicies, { resyncMs, onError: onError('DaskAutoscalingPolicy') }),
    pods: new Informer<Pod>(api, R.pods, { namespaces, labelSelector: managed, resyncMs, onError: onError('Pod') }),
    deployments: new Informer<Deployment>(api, R.deployments, { namespaces, labelSelector: managed, resyncMs, onError: onError('Deployment') }),
    services: new Informer<Service>(api, R.services, { namespaces, labelSelector: managed, resyncMs, onError: onError('Service') }),
  };
}
