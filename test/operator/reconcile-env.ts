// Reconcilers in process: the API emulator with our CRDs (no kubelet, no child processes), the
// operator's real Kubernetes client and informer caches pointed at it, a scripted scheduler
// Control, a clock the test moves, and events kept in memory. Tests call one reconcile at a
// time and play the kubelet's part by writing pod statuses.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { startApiServer, type RunningApiServer } from '../../sim/server/api-server.js';
import { KubeApi, type KubeObject } from '../../operator/k8s/kube-api.js';
import { R, type ResourceType } from '../../operator/k8s/resources.js';
import { LABELS, MANAGER } from '../../operator/api/types.js';
import type { ClusterMetrics, RetireResult, ScalingDecisionReport, SchedulerControl, WatchHandlers, WatchRequest, WorkerMetrics } from '../../operator/control/scheduler-control.js';
import type { Logger } from '../../protocol/log.js';
import type { ReconcileResult } from '../../operator/runtime/work-queue.js';
import { createCaches } from '../../operator/reconcile/caches.js';
import { reconcileCluster } from '../../operator/reconcile/cluster.js';
import type { Caches, Obj, ReconcileContext } from '../../operator/reconcile/context.js';
import { DrainTracker } from '../../operator/reconcile/drains.js';
import { Expectations } from '../../operator/reconcile/expectations.js';
import { reconcileJob } from '../../operator/reconcile/job.js';
import { reconcileWorkerGroup } from '../../operator/reconcile/worker-group.js';
import { waitUntil } from '../helpers/wait.js';

export const NS = 'default';
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A scheduler as the operator sees it over Control, answering what the test says. */
export class FakeSchedulerControl implements SchedulerControl {
  /** Workers registered with the scheduler, by pod name. */
  readonly workers = new Map<string, Partial<WorkerMetrics>>();
  /** false: GetMetrics fails as an unreachable scheduler's would. */
  reachable = true;
  idleSeconds = 0;
  readonly retireCalls: string[][] = [];
  readonly forgotten: string[] = [];
  /** How RetireWorkers answers; by default every worker asked for is retired. */
  answerRetire: (names: string[]) => RetireResult = (names) => ({ retired: names, refused: {} });
  /** Metrics streams opened by the autoscaler; a test pushes updates through their handlers. */
  readonly watches: { address: string; request: WatchRequest; handlers: WatchHandlers; closed: boolean }[] = [];
  readonly decisions: ScalingDecisionReport[] = [];
  /** How RecordDecision answers; by default the decision is kept. */
  answerDecision: (d: ScalingDecisionReport) => Promise<boolean> = () => Promise.resolve(true);

  register(...names: string[]): void {
    for (const n of names) this.workers.set(n, {});
  }

  metrics(address: string): Promise<ClusterMetrics> {
    if (!this.reachable) return Promise.reject(new Error(`Control.GetMetrics at ${address}: UNAVAILABLE`));
    const workerMetrics = [...this.workers].map(([name, w]) => ({
      name, group: '', tasksProcessing: 0, keysHeld: 0, memoryUsed: 0, idleSeconds: this.idleSeconds, retiring: false, ...w,
    }));
    return Promise.resolve({
      workers: workerMetrics.length, tasksQueued: 0, tasksNoWorker: 0, tasksProcessing: 0, tasksWaiting: 0, tasksInMemory: 0,
      memoryUsed: 0, idleSeconds: this.idleSeconds, workerMetrics,
    });
  }

  watch(address: string, request: WatchRequest, handlers: WatchHandlers): { close(): void } {
    const w = { address, request, handlers, closed: false };
    this.watches.push(w);
    return { close() { w.closed = true; } };
  }

  recordDecision(_address: string, d: ScalingDecisionReport): Promise<boolean> {
    this.decisions.push(d);
    return this.answerDecision(d);
  }

  retire(_address: string, names: string[]): Promise<RetireResult> {
    this.retireCalls.push(names);
    const answer = this.answerRetire(names);
    for (const n of answer.retired) this.workers.delete(n);
    return Promise.resolve(answer);
  }

  forget(address: string): void { this.forgotten.push(address); }
  close(): void {}
}

export interface RecordedEvent { kind?: string; name?: string; type: string; reason: string; message: string }

export interface Pass {
  result: ReconcileResult;
  error?: Error & { steps?: string[] };
  /** The steps that ran, in order. */
  steps: string[];
}

export interface ReconcileEnv {
  server: RunningApiServer;
  api: KubeApi;
  ctx: ReconcileContext;
  control: FakeSchedulerControl;
  events: RecordedEvent[];
  enqueued: string[];
  advance(ms: number): void;
  /** Waits until every cache shows what the server holds. */
  settle(): Promise<void>;
  cluster(name: string): Promise<Pass>;
  group(name: string): Promise<Pass>;
  job(name: string): Promise<Pass>;
  get<T = KubeObject>(r: ResourceType, name: string): Promise<(T & KubeObject) | undefined>;
  pods(labels: Record<string, string>): Promise<KubeObject[]>;
  /** Writes a pod's status as the kubelet would. */
  setPod(name: string, state: PodState, exitCode?: number): Promise<void>;
  /** Writes a status (conditions) on one of our objects, as its own reconciler would. */
  setStatus(r: ResourceType, name: string, status: object): Promise<void>;
  close(): Promise<void>;
}

export type PodState = 'Ready' | 'Running' | 'Failed' | 'Succeeded';

const CRD: ResourceType = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

export async function startReconcileEnv(): Promise<ReconcileEnv> {
  const server = await startApiServer();
  // Retries of reads after a 5xx would hide the faults tests inject; writes are never retried.
  const api = KubeApi.fromKubeconfigYaml(server.kubeconfig(), { qps: 10_000, burst: 10_000, maxRetries: 0 });
  await installCrds(api);
  const watchErrors: unknown[] = [];
  const caches = createCaches(api, { namespaces: [NS], resyncMs: 0, onError: (_kind, err) => watchErrors.push(err) });
  await Promise.all(Object.values(caches).map((c) => c.start()));

  let clock = Date.now();
  const now = () => clock;
  const control = new FakeSchedulerControl();
  const events: RecordedEvent[] = [];
  const enqueued: string[] = [];
  let steps: string[] = [];
  const ctx: ReconcileContext = {
    api, caches, control, now, log: silent,
    events: { record: (o: Obj, type, reason, message) => events.push({ kind: o.kind, name: o.metadata?.name, type, reason, message }) },
    expectations: new Expectations(now),
    drains: new DrainTracker(now),
    enqueue: {
      cluster: (ns, n) => enqueued.push(`cluster:${ns}/${n}`),
      group: (ns, n) => enqueued.push(`group:${ns}/${n}`),
      job: (ns, n) => enqueued.push(`job:${ns}/${n}`),
    },
    onStep: (_kind, _key, step) => steps.push(step),
  };

  const cachesMatch = async (): Promise<boolean> => {
    for (const [name, informer] of Object.entries(caches) as [keyof Caches, Caches[keyof Caches]][]) {
      const { r, selector } = CACHED[name];
      const { items } = await api.list(r, { ...(r.namespaced ? { namespace: NS } : {}), ...(selector ? { labelSelector: selector } : {}) });
      const have = new Map(informer.list().map((o) => [o.metadata.name, o.metadata.resourceVersion]));
      if (have.size !== items.length || items.some((o) => have.get(o.metadata.name) !== o.metadata.resourceVersion)) return false;
    }
    return true;
  };
  const settle = async (): Promise<void> => {
    await waitUntil(cachesMatch, 'the informer caches to show what the API server holds', 5_000);
  };

  // Each pass starts on settled caches. Cluster and group passes start a second later than the
  // last, so the scheduler view the operator keeps for a second is always read afresh; job
  // passes read no scheduler and leave the clock to the test.
  const pass = async (fn: (c: ReconcileContext, ns: string, n: string) => Promise<ReconcileResult>, name: string, advanceMs: number): Promise<Pass> => {
    await settle();
    clock += advanceMs;
    steps = [];
    try {
      return { result: await fn(ctx, NS, name), steps };
    } catch (error) {
      return { result: undefined, error: error as Error, steps };
    }
  };

  const podStatus = (state: PodState, exitCode: number): object => {
    const at = new Date(clock).toISOString();
    const terminated = { exitCode, reason: exitCode ? 'Error' : 'Completed', startedAt: at, finishedAt: at };
    const container = (running: boolean) => ({ name: 'main', image: 'kubedask', imageID: '', ready: state === 'Ready', restartCount: 0,
      started: running, state: running ? { running: { startedAt: at } } : { terminated } });
    const ready = { type: 'Ready', status: state === 'Ready' ? 'True' : 'False', lastTransitionTime: at };
    return state === 'Ready' || state === 'Running'
      ? { phase: 'Running', podIP: '10.0.0.9', conditions: [ready], containerStatuses: [container(true)] }
      : { phase: state, conditions: [ready], containerStatuses: [container(false)] };
  };

  return {
    server, api, ctx, control, events, enqueued, settle,
    advance: (ms) => { clock += ms; },
    cluster: (n) => pass(reconcileCluster, n, 1_001),
    group: (n) => pass(reconcileWorkerGroup, n, 1_001),
    job: (n) => pass(reconcileJob, n, 0),
    get: (r, name) => api.get(r, NS, name),
    pods: async (labels) => (await api.list(R.pods, { namespace: NS, labelSelector: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',') })).items,
    setPod: async (name, state, exitCode = state === 'Failed' ? 1 : 0) => {
      await api.patch(R.pods, NS, name, { status: podStatus(state, exitCode) }, { type: 'merge', subresource: 'status' });
    },
    setStatus: async (r, name, status) => {
      await api.patch(r, NS, name, { status }, { type: 'merge', subresource: 'status' });
    },
    close: async () => {
      for (const c of Object.values(caches)) c.stop();
      api.close();
      await server.close();
      if (watchErrors.length) throw new Error(`watch errors: ${watchErrors.map(String).join('; ')}`);
    },
  };
}

const managed = `${LABELS.managedBy}=${MANAGER}`;
const CACHED: Record<keyof Caches, { r: ResourceType; selector?: string }> = {
  clusters: { r: R.daskClusters }, groups: { r: R.daskWorkerGroups }, jobs: { r: R.daskJobs }, policies: { r: R.daskAutoscalingPolicies },
  pods: { r: R.pods, selector: managed }, deployments: { r: R.deployments, selector: managed }, services: { r: R.services, selector: managed },
};

async function installCrds(api: KubeApi): Promise<void> {
  const dir = join(repoRoot, 'crds');
  const names: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
    const crd = parseAllDocuments(readFileSync(join(dir, f), 'utf8'))[0]!.toJSON() as KubeObject;
    await api.create(CRD, undefined, crd);
    names.push(crd.metadata.name!);
  }
  await waitUntil(async () => {
    for (const n of names) {
      const crd = await api.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(CRD, undefined, n);
      if (!crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return false;
    }
    return true;
  }, 'the CRDs to be established', 5_000);
}

/** A condition of an object's status by type. */
export const conditionOf = (o: { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } } | undefined, type: string) =>
  o?.status?.conditions?.find((c) => c.type === type);
