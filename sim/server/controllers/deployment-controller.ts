// A minimal Deployment controller (no ReplicaSets): keeps `spec.replicas` pods of the current
// template, owned by the Deployment, and reports replica counts from pod readiness.
import { createHash } from 'node:crypto';
import { ApiError } from '../errors.js';
import type { ResourceType, TypeRegistry } from '../resource-types.js';
import type { ResourceService } from '../rest.js';
import type { ObjectStore, StoreEvent } from '../store.js';
import { clone, isObject, jsonEqual, nowIso, type KubeObject } from '../types.js';
import { WorkQueue } from './work-queue.js';

const DEPLOYMENTS = 'apps/deployments';
const PODS = '/pods';
const HASH_LABEL = 'pod-template-hash';

function templateHash(template: unknown): string {
  const hex = createHash('sha256').update(JSON.stringify(template ?? {})).digest('hex');
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...hex.slice(0, 10)].map((c) => alphabet[parseInt(c, 16)]).join('');
}

function isReady(pod: KubeObject): boolean {
  const status = pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined;
  return (status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function isActive(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return !pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

export class DeploymentController {
  private readonly queue = new WorkQueue();

  constructor(private readonly store: ObjectStore, private readonly types: TypeRegistry, private readonly rest: ResourceService) {
    this.queue.stopWith(store.subscribe((e) => this.onEvent(e)));
  }

  stop(): void {
    this.queue.stop();
  }

  get errors(): unknown[] {
    return this.queue.errors;
  }

  private onEvent(e: StoreEvent): void {
    if (e.key === DEPLOYMENTS && e.type !== 'DELETED') {
      const { namespace, name } = e.object.metadata;
      this.queue.add(`${namespace}/${name}`, () => this.reconcile(namespace ?? '', name ?? ''));
    }
    if (e.key === PODS) {
      for (const ref of e.object.metadata.ownerReferences ?? []) {
        if (ref.kind === 'Deployment' && ref.controller) {
          const ns = e.object.metadata.namespace ?? '';
          this.queue.add(`${ns}/${ref.name}`, () => this.reconcile(ns, ref.name));
        }
      }
    }
  }

  private podType(): ResourceType {
    return this.types.find('', 'v1', 'pods') as ResourceType;
  }

  private deploymentType(): ResourceType {
    return this.types.find('apps', 'v1', 'deployments') as ResourceType;
  }

  private reconcile(namespace: string, name: string): void {
    const deploy = this.store.get(DEPLOYMENTS, namespace, name);
    if (!deploy || deploy.metadata.deletionTimestamp) return;
    const spec = (deploy.spec ?? {}) as { replicas?: number; template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown }; paused?: boolean };
    const desired = spec.replicas ?? 1;
    const hash = templateHash(spec.template);
    const owned = this.store.list(PODS, namespace).filter((p) => (p.metadata.ownerReferences ?? []).some((r) => r.uid === deploy.metadata.uid && r.controller));
    const active = owned.filter(isActive);
    const current = active.filter((p) => p.metadata.labels?.[HASH_LABEL] === hash);
    const outdated = active.filter((p) => p.metadata.labels?.[HASH_LABEL] !== hash);
    const podTarget = { type: this.podType(), version: 'v1', namespace };
    if (!spec.paused) {
      for (const pod of outdated) this.deletePod(namespace, pod.metadata.name ?? '');
      const surplus = current.length - desired;
      const byReadiness = [...current].sort((a, b) => Number(isReady(a)) - Number(isReady(b)));
      for (const pod of byReadiness.slice(0, Math.max(0, surplus))) this.deletePod(namespace, pod.metadata.name ?? '');
      for (let i = current.length; i < desired; i++) {
        const template = spec.template ?? {};
        const pod: KubeObject = {
          apiVersion: 'v1', kind: 'Pod',
          metadata: {
            generateName: `${name}-${hash}-`, namespace,
            labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash },
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: deploy.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
          },
          spec: clone(template.spec ?? {}),
        };
        if (template.metadata?.annotations) pod.metadata.annotations = { ...template.metadata.annotations };
        this.rest.create(podTarget, pod, { fieldManager: 'deployment-controller' });
      }
    }
    this.writeStatus(deploy, desired, active, current);
  }

  private deletePod(namespace: string, name: string): void {
    try {
      this.rest.delete({ type: this.podType(), version: 'v1', namespace, name });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }

  private writeStatus(deploy: KubeObject, desired: number, active: KubeObject[], current: KubeObject[]): void {
    const fresh = this.store.get(DEPLOYMENTS, deploy.metadata.namespace, deploy.metadata.name ?? '');
    if (!fresh) return;
    const ready = active.filter(isReady).length;
    const old = (isObject(fresh.status) ? fresh.status : {}) as { conditions?: Array<Record<string, unknown>> };
    const condition = (type: string, ok: boolean, reason: string, message: string): Record<string, unknown> => {
      const prior = (old.conditions ?? []).find((c) => c.type === type);
      const status = ok ? 'True' : 'False';
      const now = nowIso();
      if (prior && prior.status === status && prior.reason === reason) return prior;
      return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
    };
    const status: Record<string, unknown> = {
      observedGeneration: fresh.metadata.generation,
      replicas: active.length,
      updatedReplicas: current.length,
      readyReplicas: ready,
      availableReplicas: ready,
      conditions: [
        condition('Available', ready >= desired, ready >= desired ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', ready >= desired ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.'),
        condition('Progressing', true, current.length === desired ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', `Deployment "${fresh.metadata.name}" is progressing.`),
      ],
    };
    if (active.length - ready > 0) status.unavailableReplicas = active.length - ready;
    for (const k of ['readyReplicas', 'availableReplicas', 'updatedReplicas', 'replicas']) if (status[k] === 0) delete status[k];
    if (jsonEqual(fresh.status, status)) return;
    const next = clone(fresh);
    next.status = status;
    this.rest.writeInternal(this.deploymentType(), next);
  }
}
