// The CustomResourceDefinitions of kubedask.io/v1alpha1: the one schema source from which
// crds/*.yaml and the Helm chart's crds/ are generated (scripts/gen-crds.mjs). Mirrors types.ts.
import { DEFAULT_IMAGE, DEFAULT_TARGET_DURATION, DURATION_PATTERN, GROUP, PLURAL, VERSION, type Kind } from './types.js';

import { coreV1Schema } from './pod-template-schema.js';

type Schema = Record<string, unknown>;
type Rule = { rule: string; message: string; fieldPath?: string; reason?: string };

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const int = (extra: Schema = {}): Schema => ({ type: 'integer', format: 'int32', ...extra });
const bool = (extra: Schema = {}): Schema => ({ type: 'boolean', ...extra });
const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({ type: 'object', properties, ...extra });
const arr = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
const map = (values: Schema): Schema => ({ type: 'object', additionalProperties: values });
const duration = (extra: Schema = {}): Schema => str({ pattern: DURATION_PATTERN, ...extra });
const time = (): Schema => str({ format: 'date-time' });
const pullPolicy = (): Schema => str({ enum: ['Always', 'IfNotPresent', 'Never'] });
/** For `kubectl explain`; the inlined core/v1 schemas go without, to keep the CRDs small. */
const d = (description: string, s: Schema): Schema => ({ description, ...s });

/** A pod template override: the real core/v1 PodTemplateSpec, except that containers may be
 *  left out (the operator builds them; an override matches its containers by name). */
function templateOverride(): Schema {
  const t = coreV1Schema('V1PodTemplateSpec');
  delete ((t.properties as Record<string, Schema>).spec as Schema).required;
  return t;
}

/** minReplicas <= replicas <= maxReplicas, each bound only when set. minReplicas has no schema
 * default so that a group given only a name gets one worker (the operator's default). */
const REPLICA_RULES: Rule[] = [
  { rule: '!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas', fieldPath: '.minReplicas', message: 'minReplicas must be less than or equal to maxReplicas' },
  { rule: '!has(self.replicas) || !has(self.minReplicas) || self.replicas >= self.minReplicas', fieldPath: '.replicas', message: 'replicas must be greater than or equal to minReplicas' },
  { rule: '!has(self.replicas) || !has(self.maxReplicas) || self.replicas <= self.maxReplicas', fieldPath: '.replicas', message: 'replicas must be less than or equal to maxReplicas' },
];

/** spec.replicas sizes the first worker group, so it obeys that group's bounds. */
const firstGroupBound = (field: 'minReplicas' | 'maxReplicas', op: '>=' | '<='): string =>
  `!has(self.replicas) || !has(self.workerGroups) || size(self.workerGroups) == 0 || [self.workerGroups[0]].all(g, !has(g.${field}) || self.replicas ${op} g.${field})`;
const CLUSTER_REPLICA_RULES: Rule[] = [
  { rule: '!has(self.replicas) || !has(self.workerGroups) || size(self.workerGroups) > 0', fieldPath: '.replicas', message: 'replicas sizes the first worker group, and workerGroups is empty' },
  { rule: firstGroupBound('minReplicas', '>='), fieldPath: '.replicas', message: 'replicas must be greater than or equal to workerGroups[0].minReplicas' },
  { rule: firstGroupBound('maxReplicas', '<='), fieldPath: '.replicas', message: 'replicas must be less than or equal to workerGroups[0].maxReplicas' },
];

/** A DaskWorkerGroup may also sit at zero below its minReplicas: idle scale-to-zero puts it there,
 * and so may kubectl scale, to pause a group. */
const GROUP_REPLICA_RULES: Rule[] = REPLICA_RULES.map((r) => (r.message.includes('greater than or equal to minReplicas')
  ? { ...r, rule: '!has(self.replicas) || !has(self.minReplicas) || self.replicas == 0 || self.replicas >= self.minReplicas', message: 'replicas must be 0 or greater than or equal to minReplicas' }
  : r));

/** The fields a worker group has both inline in a DaskCluster and as a DaskWorkerGroup. */
function groupFields(): Record<string, Schema> {
  return {
    replicas: d('Desired workers; defaults to minReplicas, or 1 when neither is set.', int({ minimum: 0 })),
    minReplicas: d('Fewest workers the autoscaler keeps (default 0).', int({ minimum: 0 })),
    maxReplicas: d('Most workers the autoscaler makes.', int({ minimum: 0 })),
    threads: d('Task slots per worker.', int({ minimum: 1, maximum: 1024, default: 1 })),
    resources: d('Worker container resources.', coreV1Schema('V1ResourceRequirements')),
    gpus: d('nvidia.com/gpu per worker; > 0 adds the limit, the GPU toleration and the GPU task resource.', int({ minimum: 0, default: 0 })),
    taskResources: d('Abstract resources each worker advertises to the scheduler, e.g. {MEMORY_HEAVY: 1}.', map({ type: 'number', minimum: 0 })),
    template: d('Pod template overrides merged over the worker pod the operator builds (containers matched by name).', templateOverride()),
  };
}

const groupName = (): Schema => d('The group name: a DNS label, used in object names and the worker-group label.', str({ pattern: DNS_LABEL, maxLength: 40 }));

function clusterSpec(): Schema {
  return obj({
    image: d('Image of the scheduler and workers.', str({ minLength: 1, default: DEFAULT_IMAGE })),
    imagePullPolicy: pullPolicy(),
    replicas: d('Workers of the first (default) worker group; when set, wins over workerGroups[0].replicas. The scale subresource (kubectl scale dc/NAME) writes it.', int({ minimum: 0 })),
    scheduler: d('The scheduler Deployment and Service.', obj({
      resources: d('Scheduler container resources.', coreV1Schema('V1ResourceRequirements')),
      service: d('The scheduler Service (gRPC 8786, dashboard 8787).', obj({
        type: str({ enum: ['ClusterIP', 'NodePort', 'LoadBalancer'], default: 'ClusterIP' }),
        annotations: map(str()),
      })),
      template: d('Pod template overrides merged over the scheduler pod the operator builds (containers matched by name).', templateOverride()),
    })),
    workerGroups: d('Worker groups, each a DaskWorkerGroup named <cluster>-<name>.', arr(obj({ name: groupName(), ...groupFields() }, { required: ['name'], 'x-kubernetes-validations': REPLICA_RULES }), {
      default: [{ name: 'default', replicas: 1 }],
      maxItems: 16,
      // Names are the map key: the server rejects a duplicate name (and server-side apply merges by it).
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    })),
    autoscaling: d('Adaptive scaling of the worker groups between minReplicas and maxReplicas.', obj({
      enabled: bool({ default: false }),
      policy: d('A DaskAutoscalingPolicy; by default the one covering the namespace.', str({ maxLength: 253 })),
      targetDuration: d('Finish queued and running work within this Go duration.', duration({ default: DEFAULT_TARGET_DURATION })),
    }, { default: {} })),
    idleTimeout: d('Delete the cluster after the scheduler has been idle this long (Go duration).', duration()),
    suspend: d('True removes every pod and keeps the resource.', bool()),
    security: obj({ tls: d('A Secret with ca.crt, tls.crt and tls.key: mutual TLS between scheduler, workers, clients and the operator.', obj({ secretName: str({ minLength: 1 }) }, { required: ['secretName'] })) }),
  }, { default: {}, 'x-kubernetes-validations': CLUSTER_REPLICA_RULES });
}

function conditions(): Schema {
  return arr(obj({
    type: str(),
    status: str({ enum: ['True', 'False', 'Unknown'] }),
    reason: str(),
    message: str(),
    lastTransitionTime: time(),
    observedGeneration: int({ format: 'int64', minimum: 0 }),
  }, { required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'] }), {
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });
}

const generation = (): Schema => int({ format: 'int64' });

function clusterStatus(): Schema {
  return obj({
    phase: str({ enum: ['Pending', 'Starting', 'Running', 'Scaling', 'Updating', 'Suspended', 'Failed', 'Terminating'] }),
    observedGeneration: generation(),
    conditions: conditions(),
    schedulerAddress: str(),
    dashboardURL: str(),
    workers: str(),
    readyWorkers: int(),
    desiredWorkers: int(),
    groups: arr(obj({ name: str(), desired: int(), ready: int(), pending: int(), outdated: int() },
      { required: ['name', 'desired', 'ready', 'pending', 'outdated'] })),
    replicas: d('Live worker pods of the first group (the scale subresource\'s status.replicas).', int()),
    selector: d('Label selector of the first group\'s worker pods (the scale subresource\'s, for an HPA).', str()),
    lastAutoscaling: d('The autoscaler\'s last change of a group, with what it saw.', obj({
      time: time(), group: str(), from: int(), to: int(), reason: str(),
      recommended: d('The scheduler\'s adaptive target for the group.', int()),
      policy: d('The DaskAutoscalingPolicy applied; empty for the built-in defaults.', str()),
      inputs: obj({
        tasksQueued: int(), tasksNoWorker: int(), tasksProcessing: int(), workSeconds: { type: 'number' },
        workers: int(), pending: int(), unschedulable: int(),
      }),
    }, { required: ['time', 'group', 'from', 'to', 'reason'] })),
  });
}

function workerGroupSpec(): Schema {
  return obj({
    cluster: d('The DaskCluster this group belongs to (same namespace).', str({ minLength: 1 })),
    groupName: groupName(),
    image: str({ minLength: 1 }),
    imagePullPolicy: pullPolicy(),
    ...groupFields(),
  }, { required: ['cluster', 'groupName'], 'x-kubernetes-validations': GROUP_REPLICA_RULES });
}

function workerGroupStatus(): Schema {
  return obj({
    observedGeneration: generation(),
    replicas: int(),
    readyReplicas: int(),
    pendingReplicas: int(),
    outdatedReplicas: int(),
    selector: str(),
    conditions: conditions(),
  });
}

function jobSpec(): Schema {
  const runner = coreV1Schema('V1PodTemplateSpec'); // the runner is the whole pod: containers required
  return obj({
    cluster: d('The cluster made for this job, <job>-cluster.', clusterSpec()),
    runner: d('The client pod; it gets KUBEDASK_SCHEDULER_ADDRESS.', obj({ template: runner }, {
      required: ['template'],
      'x-kubernetes-validations': [{ rule: 'has(self.template.spec) && has(self.template.spec.containers) && size(self.template.spec.containers) > 0', fieldPath: '.template.spec.containers', message: 'runner.template.spec.containers must list the runner container' }],
    })),
    backoffLimit: d('Runner failures allowed before the job fails.', int({ minimum: 0, default: 0 })),
    activeDeadlineSeconds: int({ format: 'int64', minimum: 1 }),
    ttlSecondsAfterFinished: int({ minimum: 0 }),
  }, { required: ['runner'] });
}

function jobStatus(): Schema {
  return obj({
    phase: str({ enum: ['Pending', 'ClusterStarting', 'Running', 'Succeeded', 'Failed'] }),
    observedGeneration: generation(),
    conditions: conditions(),
    clusterName: str(),
    runnerPod: str(),
    failures: int(),
    startTime: time(),
    completionTime: time(),
    message: str(),
  });
}

function scalingRules(): Schema {
  return obj({
    stabilizationWindowSeconds: int({ minimum: 0, maximum: 3600 }),
    policies: arr(obj({
      type: str({ enum: ['Pods', 'Percent'] }),
      value: int({ minimum: 1 }),
      periodSeconds: int({ minimum: 1, maximum: 1800 }),
    }, { required: ['type', 'value', 'periodSeconds'] }), { maxItems: 8 }),
    selectPolicy: str({ enum: ['Max', 'Min', 'Disabled'] }),
  });
}

function policySpec(): Schema {
  const limit = (): Schema => int({ minimum: 0 });
  const notAbove = (a: string, b: string): Rule => ({
    rule: `!has(self.${a}) || !has(self.${b}) || self.${a} <= self.${b}`, fieldPath: `.${a}`, message: `${a} must be less than or equal to ${b}`,
  });
  return obj({
    namespaces: d('Namespaces covered; empty means all.', arr(str({ pattern: DNS_LABEL, maxLength: 63 }), { 'x-kubernetes-list-type': 'set' })),
    namespaceSelector: obj({ matchLabels: map(str()) }),
    limits: obj({
      maxWorkersPerCluster: limit(),
      maxGpusPerCluster: limit(),
      maxWorkersPerNamespace: limit(),
      maxGpusPerNamespace: limit(),
    }, { 'x-kubernetes-validations': [notAbove('maxWorkersPerCluster', 'maxWorkersPerNamespace'), notAbove('maxGpusPerCluster', 'maxGpusPerNamespace')] }),
    behavior: d('HPA-style scale-up and scale-down behaviour.', obj({ scaleUp: scalingRules(), scaleDown: scalingRules() })),
    idle: d('Idle clusters: scale to zero workers, then delete.', obj({ scaleToZeroAfterSeconds: int({ minimum: 0 }), deleteClusterAfterSeconds: int({ minimum: 0 }) })),
  }, { default: {} });
}

interface Column { name: string; type: string; jsonPath: string; description?: string; priority?: number }
const age: Column = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

interface Def {
  kind: Kind;
  singular: string;
  shortName: string;
  scope: 'Namespaced' | 'Cluster';
  /** Object names feed derived names (`<cluster>-scheduler`, `<job>-cluster-scheduler`) that must stay DNS labels. */
  maxNameLength?: number;
  spec: Schema;
  status?: Schema;
  columns: Column[];
  /** A scale subresource on .spec.replicas (status: .status.replicas, selector: .status.selector). */
  scale?: boolean;
}

function crd(d: Def): Schema {
  const properties: Record<string, Schema> = {
    apiVersion: str(),
    kind: str(),
    metadata: d.maxNameLength ? obj({ name: str({ maxLength: d.maxNameLength, pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$' }) }) : { type: 'object' },
    spec: d.spec,
  };
  if (d.status) properties.status = d.status;
  const subresources: Schema = {};
  if (d.status) subresources.status = {};
  if (d.scale) subresources.scale = { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL[d.kind]}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: d.scope,
      names: { kind: d.kind, listKind: `${d.kind}List`, plural: PLURAL[d.kind], singular: d.singular, shortNames: [d.shortName], categories: ['kubedask'] },
      versions: [{
        name: VERSION,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: obj(properties, { required: ['spec'] }) },
        ...(Object.keys(subresources).length ? { subresources } : {}),
        additionalPrinterColumns: [...d.columns, age],
      }],
    },
  };
}

/** The four CRDs, in dependency-free order (each stands alone). */
export function crds(): Schema[] {
  return [
    crd({
      kind: 'DaskCluster', singular: 'daskcluster', shortName: 'dc', scope: 'Namespaced', maxNameLength: 53,
      // Scales the first worker group, as dask-kubernetes' DaskCluster scales its default group.
      spec: clusterSpec(), status: clusterStatus(), scale: true,
      columns: [
        { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
        { name: 'Workers', type: 'string', jsonPath: '.status.workers', description: 'Ready/desired workers over all groups' },
        { name: 'Scheduler', type: 'string', jsonPath: '.status.schedulerAddress' },
        { name: 'Dashboard', type: 'string', jsonPath: '.status.dashboardURL', priority: 1 },
      ],
    }),
    crd({
      kind: 'DaskWorkerGroup', singular: 'daskworkergroup', shortName: 'dwg', scope: 'Namespaced',
      spec: workerGroupSpec(), status: workerGroupStatus(), scale: true,
      columns: [
        { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster' },
        { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas' },
        { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
        { name: 'Threads', type: 'integer', jsonPath: '.spec.threads', priority: 1 },
        { name: 'GPUs', type: 'integer', jsonPath: '.spec.gpus', priority: 1 },
      ],
    }),
    crd({
      kind: 'DaskJob', singular: 'daskjob', shortName: 'dj', scope: 'Namespaced', maxNameLength: 45,
      spec: jobSpec(), status: jobStatus(),
      columns: [
        { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
        { name: 'Cluster', type: 'string', jsonPath: '.status.clusterName' },
        { name: 'Failures', type: 'integer', jsonPath: '.status.failures', priority: 1 },
      ],
    }),
    crd({
      kind: 'DaskAutoscalingPolicy', singular: 'daskautoscalingpolicy', shortName: 'dap', scope: 'Cluster',
      spec: policySpec(),
      columns: [
        { name: 'Namespaces', type: 'string', jsonPath: '.spec.namespaces', description: 'Namespaces covered; empty means all' },
        { name: 'Max-Workers', type: 'integer', jsonPath: '.spec.limits.maxWorkersPerCluster', description: 'Workers per cluster' },
        { name: 'Max-GPUs', type: 'integer', jsonPath: '.spec.limits.maxGpusPerCluster', description: 'GPUs per cluster' },
      ],
    }),
  ];
}
