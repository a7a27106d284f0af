// What every reconciler gets: the API, the informer caches, the scheduler's Control channel,
// the event recorder and the expectations that guard against a stale cache. Reconcilers read
// from the caches and write through the API; they never hold state of their own beyond the
// in-flight drains kept in DrainTracker.
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IService } from 'kubernetes-models/v1/Service';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { Informer } from '../k8s/informer.js';
import type { KubeApi, KubeObject } from '../k8s/kube-api.js';
import type { Logger } from '../../protocol/log.js';
import type { SchedulerControl } from '../control/scheduler-control.js';
import type { DaskAutoscalingPolicy, DaskCluster, DaskJob, DaskWorkerGroup, ObjectMeta } from '../api/types.js';
import type { Expectations } from './expectations.js';
import type { DrainTracker } from './drains.js';
import type { Autoscaler } from '../autoscaler/runner.js';

export type Pod = IPod & KubeObject;
export type Deployment = IDeployment & KubeObject;
export type Service = IService & KubeObject;
export type Secret = ISecret & KubeObject;

export interface Caches {
  clusters: Informer<DaskCluster & KubeObject>;
  groups: Informer<DaskWorkerGroup & KubeObject>;
  jobs: Informer<DaskJob & KubeObject>;
  policies: Informer<DaskAutoscalingPolicy & KubeObject>;
  pods: Informer<Pod>;
  deployments: Informer<Deployment>;
  services: Informer<Service>;
}

/** Any object the API returns or accepts: our resources and the built-in kinds alike. */
export interface Obj { apiVersion?: string; kind?: string; metadata?: ObjectMeta }

/** The part of EventRecorder reconcilers use. */
export interface Recorder {
  /** `transition` names a family of state events (e.g. 'phase'): one equal to the last of its
   *  family about the object is a stale cache's repeat and is dropped, not counted. */
  record(object: Obj, type: 'Normal' | 'Warning', reason: string, message: string, transition?: string): void;
}

export interface Enqueue {
  cluster(namespace: string, name: string): void;
  group(namespace: string, name: string): void;
  job(namespace: string, name: string): void;
}

export interface ReconcileContext {
  api: KubeApi;
  caches: Caches;
  control: SchedulerControl;
  events: Recorder;
  expectations: Expectations;
  drains: DrainTracker;
  /** Set once the context exists (it needs the context); reconcilers treat it as always there. */
  autoscaler?: Pick<Autoscaler, 'sync' | 'removalOrder' | 'forget'>;
  enqueue: Enqueue;
  log: Logger;
  now(): number;
  /** Sees each step of a reconcile as it starts (tests, debugging). */
  onStep?(reconciler: 'cluster' | 'group' | 'job', key: string, step: string): void;
}

export const key = (namespace: string, name: string): string => `${namespace}/${name}`;

export function splitKey(k: string): { namespace: string; name: string } {
  const i = k.indexOf('/');
  return { namespace: k.slice(0, i), name: k.slice(i + 1) };
}
