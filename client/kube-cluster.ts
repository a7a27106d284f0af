// A DaskCluster from code, as dask-kubernetes' KubeCluster: create (or attach to) one, wait
// until the operator says it is Ready, connect a Client; scale, adapt, close. The Kubernetes
// client loads only when one is made (kube-cluster-session.ts), so importing kubedask stays lean.
import type { Tls } from '../protocol/tls.js';
import { Client } from './client.js';
import { KubeClusterError } from './errors.js';
import { adaptedSpec, clusterManifest, readiness, specForScale, type AdaptOptions, type KubeClusterOptions } from './kube-cluster-spec.js';
import type { KubeSession, SchedulerRoute } from './kube-cluster-session.js';
import { deleteAtExit } from './kube-cluster-exit.js';
import type { DaskCluster } from '../operator/api/types.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { tlsSecretName } from '../operator/builders/tls.js';

export type { AdaptOptions, KubeClusterOptions };

export type AttachOptions = Pick<KubeClusterOptions, 'kubeconfig' | 'timeoutMs' | 'connection'>;

const DEFAULT_TIMEOUT_MS = 180_000;
const POLL_MS = 500;
/** How long a failed create() waits for the cluster it made to be gone. */
const DELETE_AFTER_FAILURE_MS = 60_000;

export class KubeCluster {
  private closing?: Promise<void>;
  /** Drops this cluster from the ones deleted at exit (close() deletes it, or keeps it on purpose). */
  private forgetAtExit = () => undefined as void;

  private constructor(
    private readonly session: KubeSession,
    readonly name: string,
    readonly namespace: string,
    private readonly uid: string,
    /** True when create() made the DaskCluster: close() then deletes it. */
    readonly owned: boolean,
    private readonly route: SchedulerRoute,
    /** The client connected at create()/attach(); closed by close(). */
    readonly client: Client,
    /** The cluster's client certificate, when it uses TLS (Client.connect(cluster) takes it). */
    readonly tls: Tls | undefined,
  ) {}

  /** Where a Client reaches the scheduler: a local port-forward, or the Service's name in a pod. */
  get address(): string {
    return this.route.address;
  }

  /**
   * The dashboard, reachable from this process: through a local port-forward from outside the
   * cluster (client.dashboardLink is the in-cluster URL the scheduler reports), the Service's name in a pod.
   */
  get dashboardLink(): string {
    return this.route.dashboard;
  }

  /**
   * Creates a DaskCluster, waits until the operator reports it Ready, and connects a Client.
   * If it does not become Ready (timeout, or the operator reports it Failed) it is deleted
   * again and the error names its conditions.
   */
  static async create(options: KubeClusterOptions): Promise<KubeCluster> {
    const session = await openSession(options.kubeconfig);
    const namespace = options.namespace ?? session.defaultNamespace;
    let created: DaskCluster | undefined;
    let forgetAtExit = () => undefined as void;
    try {
      const manifest = clusterManifest(options, namespace);
      created = await session.create(manifest).catch(async (err: Error & { status?: number; reason?: string; details?: { kind?: string } }) => {
        if (err.reason === 'AlreadyExists') {
          const there = await session.get(namespace, options.name).catch(() => undefined);
          if (there?.metadata.deletionTimestamp) throw new KubeClusterError(`DaskCluster ${namespace}/${options.name} is being deleted: create it again once it is gone`, { cause: err });
          throw new KubeClusterError(`DaskCluster ${namespace}/${options.name} already exists: use KubeCluster.attach('${options.name}', '${namespace}')`, { cause: err });
        }
        if (err.status === 404 && err.details?.kind === 'namespaces') throw new KubeClusterError(`namespace ${namespace} does not exist: ${err.message}`, { cause: err });
        if (err.status === 404) throw new KubeClusterError(`the DaskCluster resource is not installed in this Kubernetes (install the kubedask CRDs and operator: see docs/operator-install.md): ${err.message}`, { cause: err });
        throw err;
      });
      if (options.shutdownOnExit ?? true) forgetAtExit = deleteAtExit({ session, namespace, name: options.name, uid: created.metadata.uid! });
      const cluster = await KubeCluster.connect(session, created, true, options);
      cluster.forgetAtExit = forgetAtExit;
      return cluster;
    } catch (err) {
      if (!created) { session.close(); throw err; }
      forgetAtExit();
      // Waits (bounded) so that a create() of the same name right after does not meet it.
      const deleted = await deleteAndWait(session, namespace, options.name, created.metadata.uid!, DELETE_AFTER_FAILURE_MS)
        .then(() => 'deleted it again', (e: Error) => `could not delete it again: ${e.message}`);
      session.close();
      throw new KubeClusterError(`${(err as Error).message}; ${deleted}`, { cause: err });
    }
  }

  /** Connects to an existing DaskCluster (waiting until it is Ready). close() leaves it running. */
  static async attach(name: string, namespace?: string, options: AttachOptions = {}): Promise<KubeCluster> {
    const session = await openSession(options.kubeconfig);
    const ns = namespace ?? session.defaultNamespace;
    try {
      const found = await session.get(ns, name);
      if (!found) throw new KubeClusterError(`DaskCluster ${ns}/${name} not found`);
      return await KubeCluster.connect(session, found, false, options);
    } catch (err) {
      session.close();
      throw err;
    }
  }

  private static async connect(session: KubeSession, cluster: DaskCluster, owned: boolean, o: AttachOptions): Promise<KubeCluster> {
    const { name, namespace, uid } = cluster.metadata as { name: string; namespace: string; uid: string };
    const ready = await waitReady(session, namespace, name, o.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const secretName = tlsSecretName(ready.spec);
    const tls = secretName ? await session.tls(namespace, secretName) : undefined;
    const route = await session.route(namespace, name, connectionOf(o.connection, session.inCluster));
    try {
      const client = await Client.connect(route.address, tls ? { tls } : {});
      return new KubeCluster(session, name, namespace, uid, owned, route, client, tls);
    } catch (err) {
      await route.close();
      // A failed tunnel (pods/portforward denied, no ready pod, API server unreachable) looks to
      // the client like a scheduler that never answers: name it.
      const tunnel = route.lastError;
      if (tunnel) throw new KubeClusterError(`${(err as Error).message}; the port-forward to the scheduler failed: ${tunnel.message}`, { cause: err });
      throw err;
    }
  }

  /** The DaskCluster as the API server has it now. */
  async resource(): Promise<DaskCluster | undefined> {
    return this.session.get(this.namespace, this.name);
  }

  /**
   * A fixed size: `n` workers in the default (first) group, as spec.replicas (the field the scale
   * subresource and `kubectl scale` write), with adaptive scaling off, in one write. Returns once
   * written; the operator then adds workers or drains and removes them.
   */
  async scale(n: number): Promise<void> {
    this.open('scale');
    specForScale({}, n); // a bad n fails here, before any request
    await this.session.editSpec(this.namespace, this.name, (spec) => specForScale(spec, n));
  }

  /** Adaptive scaling of the default group between minimum (default 0) and maximum workers, by the operator's autoscaler. */
  async adapt(options: AdaptOptions): Promise<void> {
    this.open('adapt');
    adaptedSpec({}, options); // bad bounds fail here, before any request
    await this.session.editSpec(this.namespace, this.name, (spec) => adaptedSpec(spec, options));
  }

  /**
   * Disconnects. A cluster create() made is deleted, and close() resolves once it and its pods
   * are gone; an attached one keeps running unless `{ delete: true }`.
   */
  close(options: { delete?: boolean; timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      this.forgetAtExit();
      await this.client.close().catch(() => undefined);
      await this.route.close();
      try {
        if (options.delete ?? this.owned) await deleteAndWait(this.session, this.namespace, this.name, this.uid, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      } finally {
        this.session.close();
      }
    })();
    return this.closing;
  }

  private open(what: string): void {
    if (this.closing) throw new KubeClusterError(`KubeCluster.${what}: ${this.namespace}/${this.name} is closed`);
  }
}

async function openSession(kubeconfig: string | undefined): Promise<KubeSession> {
  const { openKubeSession } = await import('./kube-cluster-session.js');
  return openKubeSession(kubeconfig);
}

/** In a pod (the in-cluster config) the Service's name resolves; elsewhere the scheduler is reached by port-forward. */
export function connectionOf(c: KubeClusterOptions['connection'], inCluster: boolean): 'service' | 'port-forward' {
  if (c === 'service' || c === 'port-forward') return c;
  return inCluster ? 'service' : 'port-forward';
}

/** Deletes the cluster (this uid only) and waits until it and everything labelled with it are gone. */
async function deleteAndWait(session: KubeSession, namespace: string, name: string, uid: string, timeoutMs: number): Promise<void> {
  await session.delete(namespace, name, uid);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await session.remaining(namespace, name);
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new KubeClusterError(`${namespace}/${name} not gone after ${timeoutMs} ms; still there: ${left.join(', ')}`);
    await sleep(POLL_MS);
  }
}

async function waitReady(session: KubeSession, namespace: string, name: string, timeoutMs: number): Promise<DaskCluster> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await session.get(namespace, name);
    if (!c) throw new KubeClusterError(`DaskCluster ${namespace}/${name} was deleted while waiting for it to be Ready`);
    const r = readiness(c);
    if (r.state === 'ready') return c;
    if (r.state === 'failed') throw new KubeClusterError(`DaskCluster ${namespace}/${name} failed to start: ${r.why}`);
    if (Date.now() > deadline) throw new KubeClusterError(`DaskCluster ${namespace}/${name} not Ready after ${timeoutMs} ms: ${r.why}`);
    await sleep(POLL_MS);
  }
}
