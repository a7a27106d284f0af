// Labels, selectors and owner references shared by every built object (DESIGN.md, Kubernetes).
import type { IOwnerReference } from '@kubernetes-models/apimachinery/apis/meta/v1/OwnerReference';
import { LABELS, MANAGER, type ObjectMeta } from '../api/types.js';
import { MissingFieldError } from './errors.js';

export type Component = 'scheduler' | 'worker' | 'job-runner';

export interface Owner {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; uid?: string; namespace?: string };
}

/** The controller reference: deleting the owner deletes what it made. */
export function ownerReference(owner: Owner): IOwnerReference {
  const { name, uid } = owner.metadata;
  if (!name) throw new MissingFieldError(owner.kind, 'metadata.name');
  if (!uid) throw new MissingFieldError(owner.kind, 'metadata.uid');
  return { apiVersion: owner.apiVersion, kind: owner.kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/** Name and namespace of an owner, or an error naming what is missing. */
export function nameOf(o: { kind: string; metadata: ObjectMeta }): string {
  if (!o.metadata.name) throw new MissingFieldError(o.kind, 'metadata.name');
  return o.metadata.name;
}

function clusterName(cluster: string | { metadata: ObjectMeta }): string {
  return typeof cluster === 'string' ? cluster : cluster.metadata.name ?? '';
}

/** Every label an object of this cluster and component carries. */
export function clusterLabels(cluster: string | { metadata: ObjectMeta }, component: Component): Record<string, string> {
  const name = clusterName(cluster);
  return {
    [LABELS.name]: 'kubedask',
    [LABELS.instance]: name,
    [LABELS.component]: component,
    [LABELS.managedBy]: MANAGER,
    [LABELS.cluster]: name,
    [LABELS.role]: component,
  };
}

// Selectors use only the kubedask.io/* labels: a Deployment's selector is immutable, and the
// app.kubernetes.io/* labels are the ones a user may want to restyle.

/** Selects the scheduler pod of a cluster (the Deployment's and the Service's selector). */
export function schedulerSelector(clusterName: string): Record<string, string> {
  return { [LABELS.cluster]: clusterName, [LABELS.role]: 'scheduler' };
}

/** Selects the worker pods of one group (the group's pods and its scale subresource). */
export function workerGroupSelector(clusterName: string, groupName: string): Record<string, string> {
  return { [LABELS.cluster]: clusterName, [LABELS.role]: 'worker', [LABELS.group]: groupName };
}

/** {a: '1', b: '2'} -> 'a=1,b=2' (a label selector string, keys sorted for a stable value). */
export function selectorString(labels: Record<string, string>): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');
}
