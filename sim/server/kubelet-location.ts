// Where the API server sends pods/log and pods/exec: the kubelet of the pod's node, found as the
// real server finds it (the Node's InternalIP and status.daemonEndpoints.kubeletEndpoint.Port),
// after the same checks on the pod and container name.
import { badRequest, notFound } from './errors.js';
import type { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';

export interface KubeletLocation {
  host: string;
  port: number;
}

interface PodShape {
  spec?: { nodeName?: string; containers?: { name: string }[]; initContainers?: { name: string }[]; ephemeralContainers?: { name: string }[] };
}

/** The real kubelet's default port, which a Node that names none is reached on. */
const DEFAULT_KUBELET_PORT = 10250;

/** The container a request means: the one named, or the pod's only one (ValidateContainer). */
export function validateContainer(pod: KubeObject, container: string | null): string {
  const spec = (pod as PodShape).spec ?? {};
  const names = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])].map((c) => c.name);
  const name = pod.metadata.name;
  if (container) {
    if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
    return container;
  }
  const containers = spec.containers ?? [];
  if (containers.length === 1) return containers[0]!.name;
  if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
  throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
}

/** The kubelet running the pod, or undefined while it is not scheduled. */
export function kubeletOf(store: ObjectStore, pod: KubeObject): KubeletLocation | undefined {
  const nodeName = (pod as PodShape).spec?.nodeName;
  if (!nodeName) return undefined;
  const node = store.get('/nodes', undefined, nodeName);
  if (!node) throw notFound('', 'nodes', nodeName);
  const status = node.status as { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } } | undefined;
  const addresses = status?.addresses ?? [];
  const host = (addresses.find((a) => a.type === 'InternalIP') ?? addresses.find((a) => a.type === 'Hostname'))?.address ?? nodeName;
  return { host, port: status?.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_KUBELET_PORT };
}

/** The kubelet path for a pod's container, `/<verb>/<ns>/<pod>/<container>`. */
export function kubeletPath(verb: 'containerLogs' | 'exec', pod: KubeObject, container: string, query: URLSearchParams): string {
  const path = [verb, pod.metadata.namespace ?? 'default', pod.metadata.name, container].map((p) => encodeURIComponent(p ?? '')).join('/');
  const q = query.toString();
  return `/${path}${q ? `?${q}` : ''}`;
}
