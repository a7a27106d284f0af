// Update rules of built-in kinds the real server enforces: immutable pod specs, Deployment
// selectors, immutable ConfigMaps/Secrets; a Service keeps its allocated clusterIP.
import type { FieldCause } from '../schema/index.js';
import { clone, isObject, jsonEqual, type JsonObject, type KubeObject } from './types.js';

const POD_UPDATE_MESSAGE = 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** A pod spec with the fields an update may change blanked out, for comparison. */
function podSpecCore(spec: unknown): JsonObject {
  const s = clone(isObject(spec) ? spec : {});
  for (const list of ['containers', 'initContainers']) {
    if (Array.isArray(s[list])) for (const c of s[list] as unknown[]) if (isObject(c)) delete c.image;
  }
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  delete s.terminationGracePeriodSeconds;
  return s;
}

/** Fields a PUT may leave out that the server keeps (as the real Service strategy does). */
export function carryAllocatedFields(kind: string, old: KubeObject, next: KubeObject): void {
  if (kind !== 'Service' || !isObject(old.spec) || !isObject(next.spec)) return;
  for (const f of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy']) {
    if (next.spec[f] === undefined && old.spec[f] !== undefined) next.spec[f] = clone(old.spec[f]);
  }
}

export function immutabilityCauses(kind: string, old: KubeObject, next: KubeObject): FieldCause[] {
  const field = (name: string, value: unknown, message = 'field is immutable'): FieldCause =>
    ({ reason: 'FieldValueInvalid', field: name, message: `Invalid value: ${JSON.stringify(value)}: ${message}` });
  switch (kind) {
    case 'Pod':
      if (!jsonEqual(podSpecCore(old.spec), podSpecCore(next.spec))) return [{ reason: 'FieldValueForbidden', field: 'spec', message: POD_UPDATE_MESSAGE }];
      return [];
    case 'Deployment': {
      const a = isObject(old.spec) ? old.spec.selector : undefined;
      const b = isObject(next.spec) ? next.spec.selector : undefined;
      return jsonEqual(a, b) ? [] : [field('spec.selector', b)];
    }
    case 'Service': {
      const a = isObject(old.spec) ? old.spec.clusterIP : undefined;
      const b = isObject(next.spec) ? next.spec.clusterIP : undefined;
      return a === undefined || jsonEqual(a, b) ? [] : [field('spec.clusterIP', b ?? '')];
    }
    case 'ConfigMap':
    case 'Secret': {
      if (old.immutable !== true) return [];
      const causes: FieldCause[] = [];
      if (next.immutable !== true) causes.push({ reason: 'FieldValueForbidden', field: 'immutable', message: 'Forbidden: field is immutable when `immutable` is set' });
      for (const f of ['data', 'binaryData', 'stringData']) {
        if (!jsonEqual(old[f], next[f])) causes.push({ reason: 'FieldValueForbidden', field: f, message: 'Forbidden: field is immutable when `immutable` is set' });
      }
      return causes;
    }
    default:
      return [];
  }
}
