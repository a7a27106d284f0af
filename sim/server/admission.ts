// The one place the server calls the schema package (sim/schema).
import { admitCustomResource, validateBuiltin, validateCrd, type FieldCause, type JSONSchemaProps } from '../schema/index.js';
import type { KubeObject } from './types.js';

export function admitCrd(crd: KubeObject): FieldCause[] {
  return validateCrd(crd);
}

/** Prunes, defaults and validates a custom resource; returns the admitted object and causes. */
export function admitCustom(schema: JSONSchemaProps | undefined, obj: KubeObject, old?: KubeObject): { object: KubeObject; causes: FieldCause[] } {
  if (!schema) return { object: obj, causes: [] };
  const admitted = admitCustomResource(schema, obj, old);
  return { object: admitted.object as KubeObject, causes: admitted.causes };
}

export function admitBuiltin(apiVersion: string, kind: string, obj: KubeObject): FieldCause[] {
  return validateBuiltin(apiVersion, kind, obj);
}
