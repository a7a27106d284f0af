// operator/builders: pure functions from kubedask resources to the manifests the operator applies.
export { DEFAULT_IMAGE, DEFAULT_TARGET_DURATION, withClusterDefaults, withGroupDefaults, type DefaultedClusterSpec, type DefaultedGroup } from './defaults.js';
export { MissingFieldError } from './errors.js';
export { canonicalJson, fnv1a64, hashOf } from './hash.js';
export { schedulerInputs, schedulerTemplateHash, workerInputs, workerTemplateHash, type SchedulerInputs, type WorkerInputs } from './inputs.js';
export { buildJobCluster, buildRunnerPod } from './job.js';
export { deepMerge, mergeContainer, mergePodSpec, mergePodTemplate, type Pinned } from './merge.js';
export { clusterLabels, ownerReference, schedulerSelector, selectorString, workerGroupSelector, type Component, type Owner } from './meta.js';
export { buildSchedulerDeployment, DEFAULT_SCHEDULER_RESOURCES } from './scheduler.js';
export { buildSchedulerService, METRICS_PATH } from './scheduler-service.js';
export { CONTAINER_SECURITY, POD_SECURITY, RUN_AS_ID, WRITABLE_DIRS } from './security.js';
export { TLS_DIR, tlsFiles } from './tls.js';
export { buildWorkerGroup } from './worker-group.js';
export { buildWorkerPod, GPU_RESOURCE, resourcesFlag, WORKER_DATA_PORT } from './worker-pod.js';
