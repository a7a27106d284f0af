// A DaskJob's own cluster and its runner pod (the user's client program), both owned by the job.
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { API_VERSION, LABELS, MANAGER, SCHEDULER_ADDRESS_ENV, names, type DaskCluster, type DaskClusterSpec, type DaskJob } from '../api/types.js';
import { withClusterDefaults } from './defaults.js';
import { compact, mergeBy, mergePodTemplate } from './merge.js';
import { clusterLabels, nameOf, ownerReference } from './meta.js';
import { withSecureDefaults } from './security.js';
import { tlsEnv, tlsMount, tlsSecretName, tlsVolume } from './tls.js';


export function buildJobCluster(job: DaskJob): DaskCluster {
  const jobName = nameOf(job);
  return {
    apiVersion: API_VERSION,
    kind: 'DaskCluster',
    metadata: {
      name: names.jobCluster(jobName),
      namespace: job.metadata.namespace,
      labels: { [LABELS.name]: 'kubedask', [LABELS.managedBy]: MANAGER, [LABELS.job]: jobName },
      ownerReferences: [ownerReference(job)],
    },
    // A copy: the cluster object must not share nested objects with the job's. The job decides
    // when its cluster goes, so an idle timeout (it would be re-created at once) is dropped.
    spec: withoutIdleTimeout(structuredClone(job.spec.cluster)),
  };
}

function withoutIdleTimeout(spec: DaskClusterSpec): DaskClusterSpec {
  delete spec.idleTimeout;
  return spec;
}

/** The user's values win; ours fill what a container leaves unset. */
function completeRunnerContainer(c: IContainer, image: string, pullPolicy: DaskClusterSpec['imagePullPolicy'], schedulerAddress: string, tls: boolean): IContainer {
  const env = mergeBy([{ name: SCHEDULER_ADDRESS_ENV, value: schedulerAddress }, ...(tls ? tlsEnv() : [])], c.env, (e) => e.name);
  return compact<IContainer>({
    ...c,
    image: c.image || image,
    imagePullPolicy: c.image ? c.imagePullPolicy : c.imagePullPolicy ?? pullPolicy,
    env,
    volumeMounts: tls ? mergeBy([tlsMount], c.volumeMounts, (m) => m.mountPath) : c.volumeMounts,
  });
}

export function buildRunnerPod(job: DaskJob, attempt: number, schedulerAddress: string): IPod {
  const jobName = nameOf(job);
  const clusterName = names.jobCluster(jobName);
  const spec = withClusterDefaults(job.spec.cluster);
  const secret = tlsSecretName(spec);
  const pinned = { [LABELS.cluster]: clusterName, [LABELS.role]: 'job-runner', [LABELS.job]: jobName };
  const template = mergePodTemplate(
    {
      metadata: { labels: { ...clusterLabels(clusterName, 'job-runner'), [LABELS.job]: jobName } },
      spec: compact({ containers: [], volumes: secret ? [tlsVolume(secret)] : undefined }),
    },
    job.spec.runner.template,
    { labels: pinned },
  );
  const complete = (c: IContainer) => completeRunnerContainer(c, spec.image, spec.imagePullPolicy, schedulerAddress, secret !== undefined);
  const podSpec = template.spec!;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...template.metadata,
      name: names.jobRunner(jobName, attempt),
      namespace: job.metadata.namespace,
      ownerReferences: [ownerReference(job)],
    },
    spec: withSecureDefaults(compact({
      ...podSpec,
      containers: podSpec.containers.map(complete),
      initContainers: podSpec.initContainers?.map(complete),
      // Never, whatever the template says: each attempt is one pod, which is how failures are counted.
      restartPolicy: 'Never',
    })),
  };
}
