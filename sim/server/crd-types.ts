// From a CustomResourceDefinition to the resource type it serves, and its accepted status.
import type { ResourceType, PrinterColumn } from './resource-types.js';
import { clone, isObject, nowIso, type KubeObject } from './types.js';

interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: Record<string, unknown> };
  subresources?: { status?: unknown; scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string } };
  additionalPrinterColumns?: PrinterColumn[];
}

interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions: CrdVersion[];
}

export function crdSpec(crd: KubeObject): CrdSpec {
  return crd.spec as CrdSpec;
}

export function crdToResourceType(crd: KubeObject): ResourceType {
  const spec = crdSpec(crd);
  const served = spec.versions.filter((v) => v.served !== false);
  const storage = served.find((v) => v.storage) ?? served[0];
  const ordered = [storage, ...served.filter((v) => v !== storage)];
  const schemas: ResourceType['schemas'] = {};
  const printerColumns: ResourceType['printerColumns'] = {};
  for (const v of ordered) {
    schemas[v.name] = v.schema?.openAPIV3Schema;
    printerColumns[v.name] = v.additionalPrinterColumns;
  }
  return {
    group: spec.group,
    versions: ordered.map((v) => v.name),
    plural: spec.names.plural,
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
    kind: spec.names.kind,
    listKind: spec.names.listKind ?? `${spec.names.kind}List`,
    namespaced: spec.scope !== 'Cluster',
    shortNames: spec.names.shortNames ?? [],
    categories: spec.names.categories ?? [],
    status: storage.subresources?.status !== undefined,
    scale: storage.subresources?.scale,
    builtin: false,
    tracksGeneration: true,
    schemas,
    printerColumns,
    crdName: crd.metadata.name,
  };
}

/** Structural problems the server itself checks before the schema package sees the CRD. */
export function crdShapeProblems(crd: KubeObject): Array<{ field: string; message: string; reason: string }> {
  const spec = crd.spec as Partial<CrdSpec> | undefined;
  const problems: Array<{ field: string; message: string; reason: string }> = [];
  if (!isObject(spec)) return [{ field: 'spec', message: 'Required value', reason: 'FieldValueRequired' }];
  if (!spec.group) problems.push({ field: 'spec.group', message: 'Required value', reason: 'FieldValueRequired' });
  if (!spec.names?.plural) problems.push({ field: 'spec.names.plural', message: 'Required value', reason: 'FieldValueRequired' });
  if (!spec.names?.kind) problems.push({ field: 'spec.names.kind', message: 'Required value', reason: 'FieldValueRequired' });
  if (!Array.isArray(spec.versions) || spec.versions.length === 0) {
    problems.push({ field: 'spec.versions', message: 'Invalid value: null: must have exactly one version marked as storage version', reason: 'FieldValueInvalid' });
  } else if (spec.versions.filter((v) => v.storage).length !== 1) {
    problems.push({ field: 'spec.versions', message: `Invalid value: ${JSON.stringify(spec.versions.map((v) => v.name))}: must have exactly one version marked as storage version`, reason: 'FieldValueInvalid' });
  }
  if (spec.group && spec.names?.plural && crd.metadata.name !== `${spec.names.plural}.${spec.group}`) {
    problems.push({ field: 'metadata.name', message: `Invalid value: "${crd.metadata.name}": must be spec.names.plural+"."+spec.group`, reason: 'FieldValueInvalid' });
  }
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    problems.push({ field: 'spec.scope', message: `Unsupported value: "${String(spec.scope)}": supported values: "Cluster", "Namespaced"`, reason: 'FieldValueNotSupported' });
  }
  return problems;
}

/** The status a real server gives an accepted CRD: NamesAccepted and Established. */
export function establishedStatus(crd: KubeObject): Record<string, unknown> {
  const spec = crdSpec(crd);
  const now = nowIso();
  const condition = (type: string, reason: string, message: string): Record<string, unknown> => ({ type, status: 'True', lastTransitionTime: now, reason, message });
  const names = clone(spec.names) as Record<string, unknown>;
  names.singular = spec.names.singular ?? spec.names.kind.toLowerCase();
  names.listKind = spec.names.listKind ?? `${spec.names.kind}List`;
  return {
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    acceptedNames: names,
    storedVersions: spec.versions.filter((v) => v.storage).map((v) => v.name),
  };
}
