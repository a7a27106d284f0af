// What the emulator serves: built-in kinds and the kinds that established CRDs add.
import type { JSONSchemaProps } from '../schema/index.js';

export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  format?: string;
  priority?: number;
}

export interface ResourceType {
  group: string;
  /** Versions served; the first is the storage/preferred version. */
  versions: string[];
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  status: boolean;
  scale?: ScaleSubresource;
  /** Built-in kinds accept strategic merge patch; custom resources do not. */
  builtin: boolean;
  /** Whether metadata.generation is kept (CRs, CRDs, Deployments). */
  tracksGeneration: boolean;
  /** Set for custom resources: the openAPIV3Schema per version. */
  schemas?: Record<string, JSONSchemaProps | undefined>;
  printerColumns?: Record<string, PrinterColumn[] | undefined>;
  /** Name of the CRD that defines it. */
  crdName?: string;
  /** Extra subresources listed in discovery only (e.g. pods/log). */
  extraSubresources?: string[];
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** Storage key of a resource type: one store per group and plural, whatever the version. */
export function typeKey(t: Pick<ResourceType, 'group' | 'plural'>): string {
  return `${t.group}/${t.plural}`;
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

function builtin(group: string, version: string, kind: string, plural: string, namespaced: boolean, extra: Partial<ResourceType> = {}): ResourceType {
  return {
    group, versions: [version], plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List`, namespaced,
    shortNames: [], categories: [], status: false, builtin: true, tracksGeneration: false, ...extra,
  };
}

export function builtinTypes(): ResourceType[] {
  return [
    builtin('', 'v1', 'Namespace', 'namespaces', false, { shortNames: ['ns'], status: true, extraSubresources: ['finalize'] }),
    builtin('', 'v1', 'Pod', 'pods', true, { shortNames: ['po'], categories: ['all'], status: true, extraSubresources: ['log', 'exec', 'portforward', 'binding', 'eviction'] }),
    builtin('', 'v1', 'Service', 'services', true, { shortNames: ['svc'], categories: ['all'], status: true }),
    builtin('', 'v1', 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
    builtin('', 'v1', 'Secret', 'secrets', true),
    builtin('', 'v1', 'Event', 'events', true, { shortNames: ['ev'] }),
    builtin('', 'v1', 'ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'] }),
    builtin('', 'v1', 'Node', 'nodes', false, { shortNames: ['no'], status: true }),
    builtin('', 'v1', 'Endpoints', 'endpoints', true, { shortNames: ['ep'] }),
    builtin('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, { shortNames: ['pvc'], status: true }),
    builtin('events.k8s.io', 'v1', 'Event', 'events', true, { shortNames: ['ev'] }),
    builtin('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
    builtin('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
    builtin('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
    builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
    builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
    builtin('apps', 'v1', 'Deployment', 'deployments', true, {
      shortNames: ['deploy'], categories: ['all'], status: true, tracksGeneration: true,
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
    }),
    builtin('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, { shortNames: ['crd', 'crds'], categories: ['api-extensions'], status: true, tracksGeneration: true }),
  ];
}

/** Lookup of served types by group/version/plural, mutable as CRDs come and go. */
export class TypeRegistry {
  private readonly types = new Map<string, ResourceType>();

  constructor() {
    for (const t of builtinTypes()) this.add(t);
  }

  add(t: ResourceType): void {
    this.types.set(typeKey(t), t);
  }

  remove(group: string, plural: string): void {
    this.types.delete(typeKey({ group, plural }));
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  find(group: string, version: string, plural: string): ResourceType | undefined {
    const t = this.types.get(typeKey({ group, plural }));
    return t && t.versions.includes(version) ? t : undefined;
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    return this.all().find((t) => t.group === group && t.kind === kind && t.versions.includes(version));
  }

  /** Groups with their versions, core ('') excluded, in a stable order. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.all()) {
      if (!t.group) continue;
      const versions = out.get(t.group) ?? [];
      for (const v of t.versions) if (!versions.includes(v)) versions.push(v);
      out.set(t.group, versions);
    }
    return out;
  }
}
