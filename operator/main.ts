// The operator process: informers feed one work queue whose keys name a DaskCluster, a
// DaskWorkerGroup or a DaskJob; reconcilers run only while this replica leads (when leader
// election is on); probes, Prometheus metrics and JSON logs on the side; a clean stop on signal.
import { hostname } from 'node:os';
import { Registry } from 'prom-client';
import { LABELS, MANAGER } from './api/types.js';
import { grpcSchedulerControl, type SchedulerControl } from './control/scheduler-control.js';
import { serviceDialer } from './control/scheduler-dialer.js';
import { EventRecorder } from './k8s/events.js';
import type { InformerEvent } from './k8s/informer.js';
import { KubeApi, type KubeObject } from './k8s/kube-api.js';
import { LeaderElector } from './k8s/leader.js';
import { createLogger, type LogLevel } from '../protocol/log.js';
import { routeGrpcLogs } from '../protocol/grpc-log.js';
import { exposition } from '../protocol/prometheus.js';
import { startProbeServer } from './runtime/http-server.js';
import { operatorMetrics } from './runtime/metrics.js';
import { WorkQueue, type ReconcileResult } from './runtime/work-queue.js';
import { reconcileCluster } from './reconcile/cluster.js';
import { createCaches } from './reconcile/caches.js';
import { key, splitKey, type Pod, type ReconcileContext } from './reconcile/context.js';
import { DrainTracker } from './reconcile/drains.js';
import { Expectations } from './reconcile/expectations.js';
import { reconcileJob } from './reconcile/job.js';
import { reconcileWorkerGroup } from './reconcile/worker-group.js';
import { forgetCluster } from './reconcile/observe.js';
import { Autoscaler } from './autoscaler/runner.js';

export interface OperatorOptions {
  /** Namespaces to manage; empty for all. */
  namespaces: string[];
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  identity: string;
  host: string;
  healthPort: number;
  metricsPort: number;
  qps: number;
  burst: number;
  resyncMs: number;
  workers: number;
  logLevel: LogLevel;
  control?: SchedulerControl;
  api?: KubeApi;
  /** Called after every reconcile (benchmarks). */
  onReconcile?: (r: { key: string; outcome: string; durationMs: number }) => void;
}

export interface RunningOperator {
  healthPort: number;
  metricsPort: number;
  readonly leading: boolean;
  metrics: Registry;
  /** Resolves when the operator has stopped: undefined after close(), an error when leadership was lost. */
  closed: Promise<Error | undefined>;
  close(): Promise<void>;
}

type Kind = 'cluster' | 'group' | 'job';
const RECONCILERS: Record<Kind, (ctx: ReconcileContext, ns: string, name: string) => Promise<ReconcileResult>> = {
  cluster: reconcileCluster,
  group: reconcileWorkerGroup,
  job: reconcileJob,
};

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const log = createLogger({ component: MANAGER, level: o.logLevel, destination: 'stdout' });
  routeGrpcLogs(log);
  const metrics = new Registry();
  // The queue is made below; the depth is read only when scraped.
  const m = operatorMetrics(metrics, { queueDepth: () => queue.depth });
  const api = o.api ?? KubeApi.fromDefaultKubeconfig({
    qps: o.qps, burst: o.burst,
    onRequest: (r) => m.apiRequests.inc({ verb: r.verb, resource: r.resource, code: String(r.status) }),
  });
  const namespaces = o.namespaces.length ? o.namespaces : undefined;
  const caches = createCaches(api, { namespaces, resyncMs: o.resyncMs, onError: (kind, err) => log.warn(`${kind} watch trouble; retrying`, { error: err }) });
  // Outside the cluster, Service names do not resolve: the dialer port-forwards to schedulers.
  // A failing tunnel (RBAC, no ready pod) is warned once per cluster, then kept to debug: it is
  // retried on every pass.
  const tunnelWarned = new Set<string>();
  const control = o.control ?? grpcSchedulerControl({
    dialer: serviceDialer(api, {
      onForward: (address, local) => log.info('scheduler Service name does not resolve here: reaching it by port-forward', { address, local }),
      onError: (address, err) => {
        const first = !tunnelWarned.has(address);
        tunnelWarned.add(address);
        log[first ? 'warn' : 'debug']('port-forward to a scheduler failed (retried)', { address, error: err });
      },
      onClose: (address) => {
        tunnelWarned.delete(address);
        log.info('closed the port-forward to a scheduler', { address });
      },
    }),
  });
  const now = () => Date.now();
  const events = new EventRecorder(api, { component: MANAGER, host: o.identity });
  const queue = new WorkQueue({
    onResult: (r) => {
      const kind = r.key.slice(0, r.key.indexOf(':'));
      m.reconciles.inc({ kind, outcome: r.outcome });
      m.duration.observe({ kind }, r.durationMs / 1000);
      o.onReconcile?.(r);
      if (r.outcome === 'error') {
        m.errors.inc({ kind });
        log.warn('reconcile failed; retrying with backoff', { key: r.key, error: r.error });
      }
    },
  });
  const enqueue = (kind: Kind) => (ns: string, name: string) => queue.add(`${kind}:${key(ns, name)}`);
  const ctx: ReconcileContext = {
    api, caches, control, events, log, now,
    expectations: new Expectations(now),
    drains: new DrainTracker(now),
    enqueue: { cluster: enqueue('cluster'), group: enqueue('group'), job: enqueue('job') },
  };
  const autoscaler = new Autoscaler(ctx, m.autoscaler);
  ctx.autoscaler = autoscaler;
  route(ctx);

  let closing = false;
  let started = false;
  let elector: LeaderElector | undefined;
  const renderMetrics = () => exposition(metrics);
  const probes = await startProbeServer({
    host: o.host, port: o.healthPort,
    healthz: () => !closing,
    readyz: () => Object.values(caches).every((c) => c.synced),
    metrics: renderMetrics,
  });
  const metricsServer = o.metricsPort === o.healthPort ? undefined : await startProbeServer({
    host: o.host, port: o.metricsPort, healthz: () => true, readyz: () => true,
    metrics: renderMetrics,
  });

  let resolveClosed!: (e: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((r) => (resolveClosed = r));
  const startWork = () => {
    if (started || closing) return;
    started = true;
    m.leader.set(1);
    log.info('reconciling', { namespaces: namespaces ?? 'all', workers: o.workers });
    queue.run(o.workers, async (k) => {
      const i = k.indexOf(':');
      const { namespace, name } = splitKey(k.slice(i + 1));
      const result = await RECONCILERS[k.slice(0, i) as Kind](ctx, namespace, name);
      if (result) log.debug('requeue', { key: k, afterMs: result.requeueAfterMs, reason: result.reason });
      return result;
    });
    // Everything in the cache gets a first look.
    for (const c of caches.clusters.list()) ctx.enqueue.cluster(c.metadata.namespace!, c.metadata.name!);
    for (const g of caches.groups.list()) ctx.enqueue.group(g.metadata.namespace!, g.metadata.name!);
    for (const j of caches.jobs.list()) ctx.enqueue.job(j.metadata.namespace!, j.metadata.name!);
  };

  const close = async (reason?: Error) => {
    if (closing) return;
    closing = true;
    log.info('stopping', reason ? { reason: reason.message } : {});
    // No new keys from here on; the lease is released only after the reconciles in flight have
    // finished, so a successor never reconciles beside them.
    await queue.shutdown();
    autoscaler.close();
    await elector?.stop();
    await events.flush().catch(() => undefined);
    for (const c of Object.values(caches)) c.stop();
    control.close();
    await probes.close();
    await metricsServer?.close();
    resolveClosed(reason);
  };

  log.info('serving probes and metrics', { healthPort: probes.port, metricsPort: metricsServer?.port ?? probes.port });
  await Promise.all(Object.values(caches).map((c) => c.start()));
  log.info('caches synced');
  if (o.leaderElect) {
    elector = new LeaderElector({
      // Its own client: lease renewals must not queue behind reconcile traffic in the rate limiter.
      api: o.api ?? KubeApi.fromDefaultKubeconfig({ qps: 5, burst: 5, timeoutMs: 5_000 }),
      namespace: o.leaderElectionNamespace, name: o.leaderElectionId, identity: o.identity,
      onStartedLeading: () => { log.info('became leader', { lease: `${o.leaderElectionNamespace}/${o.leaderElectionId}` }); startWork(); },
      // A replica that lost the lease stops at once, as controller-runtime does: another leads now.
      onStoppedLeading: () => { m.leader.set(0); if (!closing) void close(new Error('leader election lost')); },
    });
    elector.start();
  } else {
    startWork();
  }

  return {
    healthPort: probes.port,
    metricsPort: metricsServer?.port ?? probes.port,
    get leading() { return started && !closing; },
    metrics,
    closed,
    close: () => close(),
  };
}

/** Informer events to work-queue keys, and expectations observed. */
function route(ctx: ReconcileContext): void {
  const { caches, enqueue, expectations } = ctx;
  const ns = (o: KubeObject) => o.metadata.namespace!;
  caches.clusters.on(({ type, object: c }) => {
    enqueue.cluster(ns(c), c.metadata.name!);
    // Groups read their cluster's spec too (suspend, TLS, image): they look again on every change.
    for (const g of caches.groups.list({ namespace: ns(c), labels: { [LABELS.cluster]: c.metadata.name! } })) enqueue.group(ns(g), g.metadata.name!);
    const job = c.metadata.labels?.[LABELS.job];
    if (job) enqueue.job(ns(c), job);
    if (type === 'deleted') forgetCluster(ctx, c);
  });
  caches.groups.on(({ object: g }) => {
    enqueue.group(ns(g), g.metadata.name!);
    enqueue.cluster(ns(g), g.spec.cluster);
  });
  caches.jobs.on(({ object: j }) => enqueue.job(ns(j), j.metadata.name!));
  caches.pods.on((e: InformerEvent<Pod>) => {
    const p = e.object;
    for (const owner of p.metadata.ownerReferences ?? []) {
      if (owner.kind === 'DaskWorkerGroup') {
        const gk = key(ns(p), owner.name);
        if (e.type === 'added') expectations.observedCreate(gk, p.metadata.name!);
        if (e.type === 'deleted' || p.metadata.deletionTimestamp) expectations.observedDelete(gk, p.metadata.name!);
        enqueue.group(ns(p), owner.name);
      }
      if (owner.kind === 'DaskJob') enqueue.job(ns(p), owner.name);
    }
    const cluster = p.metadata.labels?.[LABELS.cluster];
    if (cluster) enqueue.cluster(ns(p), cluster);
  });
  const toCluster = ({ object }: { object: KubeObject }) => {
    const cluster = object.metadata.labels?.[LABELS.cluster];
    if (cluster) enqueue.cluster(ns(object), cluster);
  };
  caches.deployments.on(toCluster);
  caches.services.on(toCluster);
}

export const defaultIdentity = (): string => `${hostname()}-${process.pid}`;
