// The resource types the operator reads and writes: enough to build REST paths.
import { GROUP, PLURAL, VERSION } from '../api/types.js';

export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const core = (plural: string, kind: string, namespaced = true): ResourceType => ({ group: '', version: 'v1', plural, kind, namespaced });
const dask = (kind: keyof typeof PLURAL, namespaced = true): ResourceType => ({ group: GROUP, version: VERSION, plural: PLURAL[kind], kind, namespaced });

export const R = {
  pods: core('pods', 'Pod'),
  services: core('services', 'Service'),
  events: core('events', 'Event'),
  secrets: core('secrets', 'Secret'),
  namespaces: core('namespaces', 'Namespace', false),
  deployments: { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  leases: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  daskClusters: dask('DaskCluster'),
  daskWorkerGroups: dask('DaskWorkerGroup'),
  daskJobs: dask('DaskJob'),
  daskAutoscalingPolicies: dask('DaskAutoscalingPolicy', false),
} satisfies Record<string, ResourceType>;

export function apiVersionOf(r: ResourceType): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** "pods", "deployments.apps": how Kubernetes names a resource in messages and metrics. */
export function resourceName(r: ResourceType): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

/** The REST path of a collection or of one object (and its subresource). */
export function resourcePath(r: ResourceType, namespace: string | undefined, name?: string, subresource?: string): string {
  let path = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespaced && namespace !== undefined) path += `/namespaces/${encodeURIComponent(namespace)}`;
  else if (r.namespaced && name !== undefined) throw new Error(`${resourceName(r)} "${name}": a namespace is required`);
  path += `/${r.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}
