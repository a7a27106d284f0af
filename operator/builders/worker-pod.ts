// A worker pod, created directly (no Deployment) and owned by its DaskWorkerGroup, so scale-down
// can remove exactly the workers the scheduler drained.
import type { IContainer } from 'kubernetes-models/v1/Container';
import { WORKER_GLIBC_TUNABLES } from './worker-malloc.js';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import { ANNOTATIONS, type DaskCluster, type DaskWorkerGroup } from '../api/types.js';
import { argv } from './args.js';
import { workerInputs, workerTemplateHash, type WorkerInputs } from './inputs.js';
import { compact, mergePodTemplate } from './merge.js';
import { clusterLabels, ownerReference, workerGroupSelector } from './meta.js';
import { grpcHealthProbe } from './probes.js';
import { METRICS_PATH } from './scheduler-service.js';
import { quantityBytes } from '../api/quantity.js';
import { withSecureDefaults } from './security.js';
import { tlsArgs, tlsMount, tlsVolume } from './tls.js';

/** The worker's data port (peer transfers and gRPC health), fixed so it can be probed. */
export const WORKER_DATA_PORT = 8789;
/** The worker's Prometheus /metrics port (container port `metrics`, what the chart's PodMonitor scrapes). */
export const WORKER_METRICS_PORT = 8790;
export const GPU_RESOURCE = 'nvidia.com/gpu';

/** Group resources plus the GPUs (extended resources: requests must equal limits). */
function workerResources(inp: WorkerInputs): IResourceRequirements | undefined {
  const gpu = inp.gpus > 0 ? { [GPU_RESOURCE]: String(inp.gpus) } : undefined;
  if (!gpu) return inp.resources;
  return { ...inp.resources, limits: { ...inp.resources?.limits, ...gpu }, requests: { ...inp.resources?.requests, ...gpu } };
}

/** 'GPU=1,A=2,B=1': GPUs first, then the task resources by name (theirs win on GPU). */
export function resourcesFlag(gpus: number, taskResources: Record<string, number> = {}): string | undefined {
  const all: Record<string, number> = { ...(gpus > 0 ? { GPU: gpus } : {}), ...taskResources };
  const keys = Object.keys(all).sort((a, b) => (a === 'GPU' ? -1 : b === 'GPU' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return keys.length ? keys.map((k) => `${k}=${all[k]}`).join(',') : undefined;
}

function memoryLimit(inp: WorkerInputs, user: IContainer | undefined): string | undefined {
  const q = user?.resources?.limits?.memory ?? inp.resources?.limits?.memory;
  if (q === undefined) return undefined;
  // Bytes, which the worker's parser reads whatever the quantity's suffix; an odd value is passed
  // on as written and the worker says what is wrong with it.
  return String(quantityBytes(q) ?? q);
}

function workerContainer(inp: WorkerInputs, user: IContainer | undefined): IContainer {
  const tls = inp.tlsSecret !== undefined;
  return compact<IContainer>({
    name: 'worker',
    image: inp.image,
    imagePullPolicy: inp.imagePullPolicy,
    command: ['kubedask'],
    args: argv('worker', [
      ['--scheduler', inp.schedulerAddress],
      ['--nthreads', String(inp.threads)],
      ['--memory-limit', memoryLimit(inp, user)],
      ['--name', '$(POD_NAME)'],
      ['--group', inp.groupName],
      ['--host', '0.0.0.0'],
      ['--advertise-host', '$(POD_IP)'],
      ['--port', String(WORKER_DATA_PORT)],
      ['--metrics-port', String(WORKER_METRICS_PORT)],
      ['--resources', resourcesFlag(inp.gpus, inp.taskResources)],
      ...(tls ? tlsArgs() : []),
    ]),
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'KUBEDASK_CLUSTER', value: inp.cluster },
      { name: 'GLIBC_TUNABLES', value: WORKER_GLIBC_TUNABLES },
    ],
    ports: [
      { name: 'data', containerPort: WORKER_DATA_PORT, protocol: 'TCP' },
      { name: 'metrics', containerPort: WORKER_METRICS_PORT, protocol: 'TCP' },
    ],
    resources: workerResources(inp),
    // Readiness only: a worker busy computing may answer late, and killing it for that would
    // lose the results it holds; a worker that dies exits, and restartPolicy handles that.
    readinessProbe: grpcHealthProbe(WORKER_DATA_PORT, tls, { periodSeconds: 2, failureThreshold: 3 }),
    volumeMounts: tls ? [tlsMount] : undefined,
  });
}

export function buildWorkerPod(group: DaskWorkerGroup, cluster: DaskCluster, podName: string): IPod {
  const inp = workerInputs(group, cluster);
  const user = inp.template?.spec?.containers?.find((c) => c.name === 'worker');
  const selector = workerGroupSelector(inp.cluster, inp.groupName);
  const template = mergePodTemplate(
    {
      metadata: {
        labels: { ...clusterLabels(inp.cluster, 'worker'), ...selector },
        // For annotation-based scraping, as on the scheduler Service; the chart's PodMonitor
        // selects worker pods by label and scrapes the `metrics` port. The user's template wins.
        annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(WORKER_METRICS_PORT), 'prometheus.io/path': METRICS_PATH },
      },
      spec: compact<IPodSpec>({
        containers: [workerContainer(inp, user)],
        volumes: inp.tlsSecret !== undefined ? [tlsVolume(inp.tlsSecret)] : undefined,
        tolerations: inp.gpus > 0 ? [{ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }] : undefined,
        // OnFailure: a crashed worker (non-zero exit) restarts in place, keeping its node, GPU and
        // name, faster than a new pod. A worker that exits 0 was retired or told to close: with
        // Always the kubelet would restart it and it would rejoin the scheduler that just drained
        // it. Such a pod ends Succeeded; the group controller deletes it and counts it as gone.
        restartPolicy: 'OnFailure',
        // SIGTERM makes the worker close cleanly (hand back its tasks) well within this.
        terminationGracePeriodSeconds: 30,
        // Workers never call the Kubernetes API.
        automountServiceAccountToken: false,
      }),
    },
    inp.template,
    { labels: selector, annotations: { [ANNOTATIONS.templateHash]: workerTemplateHash(group, cluster) } },
  );
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...template.metadata,
      name: podName,
      namespace: group.metadata.namespace ?? cluster.metadata.namespace,
      ownerReferences: [ownerReference(group)],
    },
    spec: withSecureDefaults(template.spec!),
  };
}
