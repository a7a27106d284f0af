// The Kubernetes half of KubeCluster: API calls and the way to the scheduler. Loaded only when a
// KubeCluster is made (a dynamic import in kube-cluster.ts), so `import 'kubedask'` does not load
// @kubernetes/client-node.
import { LABELS, PORTS, names, type DaskCluster, type DaskClusterSpec } from '../operator/api/types.js';
import { KubeApi, isConflict, type KubeObject } from '../operator/k8s/kube-api.js';
import { forwardService } from '../operator/k8s/port-forward.js';
import { R } from '../operator/k8s/resources.js';
import { checkTls, tlsFromSecretData, type Tls } from '../protocol/tls.js';
import { KubeClusterError } from './errors.js';

const MANAGER = 'kubedask-client';
type Cluster = DaskCluster & KubeObject;

export interface SchedulerRoute {
  /** host:port for the gRPC client. */
  address: string;
  /** The dashboard's URL as this process can open it (a second local port-forward from outside). */
  dashboard: string;
  /** Why the port-forward last failed to open a tunnel, if it did: what a connect timeout hides. */
  readonly lastError?: Error | undefined;
  close(): Promise<void>;
}

export interface KubeSession {
  /** The kubeconfig context's namespace (in a pod, its own). */
  readonly defaultNamespace: string;
  /** Talking to the cluster this process runs in (the pod's service account): Service names resolve. */
  readonly inCluster: boolean;
  get(namespace: string, name: string): Promise<DaskCluster | undefined>;
  create(cluster: DaskCluster): Promise<DaskCluster>;
  /** Reads the spec, applies `edit` (undefined: no change) and writes it back, again on a conflict. */
  editSpec(namespace: string, name: string, edit: (spec: DaskClusterSpec) => DaskClusterSpec | undefined): Promise<void>;
  delete(namespace: string, name: string, uid: string): Promise<void>;
  /** What still exists of the cluster: the DaskCluster and the objects labelled with its name. */
  remaining(namespace: string, name: string): Promise<string[]>;
  tls(namespace: string, secretName: string): Promise<Tls>;
  route(namespace: string, name: string, connection: 'service' | 'port-forward'): Promise<SchedulerRoute>;
  close(): void;
}

export function openKubeSession(kubeconfig?: string): KubeSession {
  const opts = { userAgent: MANAGER, fieldManager: MANAGER };
  const api = kubeconfig ? KubeApi.fromKubeconfig(kubeconfig, opts) : KubeApi.fromDefaultKubeconfig(opts);
  return {
    defaultNamespace: api.defaultNamespace,
    inCluster: api.inCluster,
    get: (namespace, name) => api.get<Cluster>(R.daskClusters, namespace, name),
    create: (cluster) => api.create<Cluster>(R.daskClusters, cluster.metadata.namespace, cluster, { fieldManager: MANAGER }),
    async editSpec(namespace, name, edit) {
      for (let attempt = 0; ; attempt++) {
        const c = await api.get<Cluster>(R.daskClusters, namespace, name);
        if (!c) throw new KubeClusterError(`DaskCluster ${namespace}/${name} not found`);
        const spec = edit(c.spec);
        if (!spec) return;
        try {
          await api.replace(R.daskClusters, namespace, name, { ...c, spec });
          return;
        } catch (err) {
          if (!isConflict(err) || attempt >= 5) throw err;
        }
      }
    },
    async delete(namespace, name, uid) {
      await api.delete(R.daskClusters, namespace, name, { uid });
    },
    async remaining(namespace, name) {
      const labelSelector = `${LABELS.cluster}=${name}`;
      const kinds = [R.pods, R.services, R.deployments, R.daskWorkerGroups] as const;
      const lists = await Promise.all(kinds.map((r) => api.list(r, { namespace, labelSelector })));
      const left = lists.flatMap((l, i) => l.items.map((o) => `${kinds[i]!.kind} ${o.metadata.name}`));
      if (await api.get(R.daskClusters, namespace, name)) left.unshift(`DaskCluster ${name}`);
      return left;
    },
    async tls(namespace, secretName) {
      const secret = await api.get<KubeObject & { data?: Record<string, string> }>(R.secrets, namespace, secretName);
      const where = `the cluster's TLS Secret ${namespace}/${secretName}`;
      if (!secret) throw new KubeClusterError(`${where} was not found`);
      return checkTls(tlsFromSecretData(secret.data, (key) => new KubeClusterError(`${where} has no ${key}`)));
    },
    async route(namespace, name, connection) {
      const service = names.scheduler(name);
      if (connection === 'service') {
        return { address: names.schedulerAddress(name, namespace), dashboard: `${names.dashboardUrl(name, namespace)}/`, close: async () => undefined };
      }
      // Tunnels open per connection, so the dashboard's forward costs nothing until it is browsed.
      const grpc = await forwardService(api.kubeConfig!, api, { namespace, service, port: PORTS.grpc });
      const dashboard = await forwardService(api.kubeConfig!, api, { namespace, service, port: PORTS.dashboard })
        .catch(async (err: unknown) => { await grpc.close(); throw err; });
      return {
        address: grpc.address,
        dashboard: `http://${dashboard.address}/`,
        get lastError() { return grpc.lastError; },
        close: async () => { await Promise.all([grpc.close(), dashboard.close()]); },
      };
    },
    close: () => api.close(),
  };
}
