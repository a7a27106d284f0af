// The scheduler: a Deployment of exactly one pod (Recreate: two schedulers would split the cluster).
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import { ANNOTATIONS, names, PORTS, type DaskCluster } from '../api/types.js';
import { argv } from './args.js';
import { schedulerInputs, schedulerTemplateHash } from './inputs.js';
import { mergePodTemplate } from './merge.js';
import { clusterLabels, ownerReference, schedulerSelector } from './meta.js';
import { grpcHealthProbe } from './probes.js';
import { withSecureDefaults } from './security.js';
import { tlsArgs, tlsMount, tlsVolume } from './tls.js';

/** Requests when the user gives none: enough to be scheduled fairly, no limit to throttle it. */
export const DEFAULT_SCHEDULER_RESOURCES: IResourceRequirements = { requests: { cpu: '100m', memory: '256Mi' } };

export function buildSchedulerDeployment(cluster: DaskCluster): IDeployment {
  const inp = schedulerInputs(cluster);
  const tls = inp.tlsSecret !== undefined;
  const given = inp.resources && (inp.resources.limits || inp.resources.requests);
  const container: IContainer = {
    name: 'scheduler',
    image: inp.image,
    ...(inp.imagePullPolicy ? { imagePullPolicy: inp.imagePullPolicy } : {}),
    command: ['kubedask'],
    args: argv('scheduler', [
      ['--port', String(PORTS.grpc)], ['--dashboard-port', String(PORTS.dashboard)], ['--metrics-port', String(PORTS.metrics)],
      ...(tls ? tlsArgs() : []),
    ]),
    ports: [
      { name: 'grpc', containerPort: PORTS.grpc, protocol: 'TCP' },
      { name: 'dashboard', containerPort: PORTS.dashboard, protocol: 'TCP' },
      { name: 'metrics', containerPort: PORTS.metrics, protocol: 'TCP' },
    ],
    resources: given ? inp.resources : DEFAULT_SCHEDULER_RESOURCES,
    // A cheap check, asked often so a new cluster is Ready soon after it can serve.
    readinessProbe: grpcHealthProbe(PORTS.grpc, tls, { periodSeconds: 2, failureThreshold: 3 }),
    // Patient: restarting the scheduler loses every task's state.
    livenessProbe: grpcHealthProbe(PORTS.grpc, tls, { initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 }),
    ...(tls ? { volumeMounts: [tlsMount] } : {}),
  };
  const selector = schedulerSelector(inp.cluster);
  const hash = { [ANNOTATIONS.templateHash]: schedulerTemplateHash(cluster) };
  const template = mergePodTemplate(
    {
      metadata: { labels: clusterLabels(inp.cluster, 'scheduler') },
      spec: {
        containers: [container],
        ...(tls ? { volumes: [tlsVolume(inp.tlsSecret!)] } : {}),
        // The scheduler never calls the Kubernetes API.
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 30,
      },
    },
    inp.template,
    { labels: selector, annotations: hash },
  );
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: names.scheduler(inp.cluster),
      namespace: cluster.metadata.namespace,
      labels: clusterLabels(inp.cluster, 'scheduler'),
      ownerReferences: [ownerReference(cluster)],
    },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      revisionHistoryLimit: 2,
      selector: { matchLabels: selector },
      template: { ...template, spec: withSecureDefaults(template.spec!) },
    },
  };
}
