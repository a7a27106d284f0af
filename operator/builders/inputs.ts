// Exactly the inputs that shape a scheduler or worker pod, resolved with defaults. The builders
// build from these and the template hashes hash these, so the two cannot drift apart. Replica
// counts are not inputs: scaling a group must not make its pods look outdated.
import { names, type DaskCluster, type DaskClusterSpec, type DaskWorkerGroup, type PodTemplate, type Resources } from '../api/types.js';
import { withClusterDefaults } from './defaults.js';
import { hashOf } from './hash.js';
import { nameOf } from './meta.js';
import { tlsSecretName } from './tls.js';

export interface SchedulerInputs {
  cluster: string;
  image: string;
  imagePullPolicy?: DaskClusterSpec['imagePullPolicy'];
  resources?: Resources;
  template?: PodTemplate;
  tlsSecret?: string;
}

export interface WorkerInputs {
  cluster: string;
  groupName: string;
  image: string;
  imagePullPolicy?: DaskClusterSpec['imagePullPolicy'];
  threads: number;
  gpus: number;
  resources?: Resources;
  taskResources?: Record<string, number>;
  template?: PodTemplate;
  schedulerAddress: string;
  tlsSecret?: string;
}

export function schedulerInputs(cluster: DaskCluster): SchedulerInputs {
  const spec = withClusterDefaults(cluster.spec);
  return {
    cluster: nameOf(cluster),
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    resources: spec.scheduler?.resources,
    template: spec.scheduler?.template,
    tlsSecret: tlsSecretName(spec),
  };
}

/** A group's own image and settings win over its cluster's (users may make their own groups). */
export function workerInputs(group: DaskWorkerGroup, cluster: DaskCluster): WorkerInputs {
  const spec = withClusterDefaults(cluster.spec);
  const g = group.spec;
  const clusterName = nameOf(cluster);
  const namespace = cluster.metadata.namespace ?? group.metadata.namespace ?? 'default';
  return {
    cluster: clusterName,
    groupName: g.groupName,
    image: g.image || spec.image,
    imagePullPolicy: g.imagePullPolicy ?? spec.imagePullPolicy,
    threads: g.threads ?? 1,
    gpus: g.gpus ?? 0,
    resources: g.resources,
    taskResources: g.taskResources,
    template: g.template,
    schedulerAddress: names.schedulerAddress(clusterName, namespace),
    tlsSecret: tlsSecretName(spec),
  };
}

export function schedulerTemplateHash(cluster: DaskCluster): string {
  return hashOf(schedulerInputs(cluster));
}

export function workerTemplateHash(group: DaskWorkerGroup, cluster: DaskCluster): string {
  return hashOf(workerInputs(group, cluster));
}
