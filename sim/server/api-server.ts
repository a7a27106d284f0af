// The Kubernetes API server emulator: start it on a port, point kubectl, helm or
// @kubernetes/client-node at it through the kubeconfig it writes.
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CrdController } from './controllers/crd-controller.js';
import { DeploymentController } from './controllers/deployment-controller.js';
import { GarbageCollector } from './controllers/garbage-collector.js';
import { NamespaceDefaults } from './controllers/namespace-defaults.js';
import { Faults } from './faults.js';
import { handleRequest, type RouterContext } from './http-router.js';
import { typeKey, TypeRegistry, type ResourceType } from './resource-types.js';
import { ResourceService } from './rest.js';
import { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';
import { handleUpgrade } from './upgrade.js';
import type { WatchHandle } from './watch.js';

export interface ApiServerOptions {
  host?: string;
  port?: number;
  /** Change events kept for watch resumes (default 1000); older resumes get 410 Expired. */
  watchHistory?: number;
  /**
   * kube-controller-manager's part (default true): owner-reference GC, namespace deletion, each
   * namespace's `default` ServiceAccount. false mimics a bare apiserver.
   */
  garbageCollection?: boolean;
  /** The built-in Deployment controller (default true). */
  deploymentController?: boolean;
  /** How often watches with allowWatchBookmarks get a BOOKMARK (default 60000 ms, like the real server). */
  bookmarkIntervalMs?: number;
}

export interface RunningApiServer {
  url: string;
  host: string;
  port: number;
  store: ObjectStore;
  types: TypeRegistry;
  rest: ResourceService;
  faults: Faults;
  /** Errors thrown inside the built-in controllers (should stay empty). */
  controllerErrors(): unknown[];
  /** Reads an object straight from storage (tests), or undefined. */
  getObject(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  kubeconfig(opts?: { namespace?: string }): string;
  writeKubeconfig(path: string, opts?: { namespace?: string }): Promise<void>;
  close(): Promise<void>;
}

const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function startApiServer(options: ApiServerOptions = {}): Promise<RunningApiServer> {
  const host = options.host ?? '127.0.0.1';
  const store = new ObjectStore(options.watchHistory ?? 1000);
  const types = new TypeRegistry();
  const crds = new CrdController(store, types);
  const rest = new ResourceService(store, (crd) => crds.onCrdWritten(crd));
  crds.attach(rest);
  const gc = options.garbageCollection === false ? undefined : new GarbageCollector(store, types, rest);
  const nsDefaults = options.garbageCollection === false ? undefined : new NamespaceDefaults(store, types, rest);
  const deployments = options.deploymentController === false ? undefined : new DeploymentController(store, types, rest);
  const watches = new Set<WatchHandle>();
  const faults = new Faults(store, watches);
  const nsType = types.find('', 'v1', 'namespaces') as ResourceType;
  for (const name of INITIAL_NAMESPACES) rest.create({ type: nsType, version: 'v1' }, { metadata: { name } });

  let address = '';
  const sockets = new Set<Socket>();
  const ctx: RouterContext = { store, types, rest, faults, watches, serverAddress: () => address, bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000 };
  const server: Server = createServer((req, res) => void handleRequest(ctx, req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => handleUpgrade(ctx, req, socket, head));
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  address = `${host}:${port}`;
  const url = `http://${address}`;

  const kubeconfig = (opts: { namespace?: string } = {}): string => [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: kube-sim',
    '  cluster:',
    `    server: ${url}`,
    // client-node refuses plain http unless TLS verification is marked skipped; kubectl and helm accept it too.
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: kube-sim',
    '  user: {}',
    'contexts:',
    '- name: kube-sim',
    '  context:',
    '    cluster: kube-sim',
    '    user: kube-sim',
    `    namespace: ${opts.namespace ?? 'default'}`,
    'current-context: kube-sim',
    '',
  ].join('\n');

  return {
    url, host, port, store, types, rest, faults,
    controllerErrors: () => [...(gc?.errors ?? []), ...(deployments?.errors ?? []), ...(nsDefaults?.errors ?? [])],
    getObject: (apiVersion, kind, namespace, name) => {
      const t = types.byKind(apiVersion, kind);
      return t ? store.get(typeKey(t), t.namespaced ? namespace : undefined, name) : undefined;
    },
    kubeconfig,
    writeKubeconfig: (path, opts) => writeFile(path, kubeconfig(opts), { mode: 0o600 }),
    close: async () => {
      crds.stop();
      gc?.stop();
      nsDefaults?.stop();
      deployments?.stop();
      for (const w of [...watches]) w.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
