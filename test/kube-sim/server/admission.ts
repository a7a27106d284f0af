// The one place the server calls the schema package (test/kube-sim/schema).
import { admitCustomResource, validateBuiltin, validateCrd, type FieldCause, type JSONSchemaProps } from '../schema/index.js';
import type { KubeObject } from './types.js';

/**
 * TEMPORARY FALLBACK — remove when test/kube-sim/schema is implemented.
 * While the schema package still throws 'not implemented yet', its checks count as passing.
 * Any other error is a real failure and propagates.
 */
function untilSchemaIsImplemented<T>(call: () => T, fallback: T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof Error && err.message.includes('not implemented yet')) return fallback;
    throw err;
  }
}

export function admitCrd(crd: KubeObject): FieldCause[] {
  return untilSchemaIsImplemented(() => validateCrd(crd), []);
}

/** Prunes, defaults and validates a custom resource; returns the admitted object and causes. */
export function admitCustom(schema: JSONSchemaProps | undefined, obj: KubeObject, old?: KubeObject): { object: KubeObject; causes: FieldCause[] } {
  if (!schema) return { object: obj, causes: [] };
  const admitted = untilSchemaIsImplemented(() => admitCustomResource(schema, obj, old), { object: obj, causes: [] });
  return { object: admitted.object as KubeObject, causes: admitted.causes };
}

export function admitBuiltin(apiVersion: string, kind: string, obj: KubeObject): FieldCause[] {
  return untilSchemaIsImplemented(() => validateBuiltin(apiVersion, kind, obj), []);
}
