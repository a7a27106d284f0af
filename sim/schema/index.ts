// Admission for the Kubernetes API emulator: CRD structural checks, custom resource pruning,
// defaulting and validation (OpenAPI v3 + CEL), and built-in kind validation.
// CONTRACT between the emulator's server (sim/server) and this folder.
import { checkCrd } from './structural.js';
import { admit } from './admit.js';
import { checkBuiltin } from './builtin.js';

export type { FieldCause, JSONSchemaProps, Admitted } from './types.js';
import type { FieldCause, JSONSchemaProps, Admitted } from './types.js';

/** Checks a CustomResourceDefinition (structural schemas, compilable CEL rules). */
export function validateCrd(crd: Record<string, unknown>): FieldCause[] {
  return checkCrd(crd);
}

/**
 * Prunes, defaults and validates a custom resource; `old` is set on update (for oldSelf rules).
 * Compiled CEL rules are cached per schema object (and by content, for fresh copies).
 */
export function admitCustomResource(schema: JSONSchemaProps, object: Record<string, unknown>, old?: Record<string, unknown>): Admitted {
  return admit(schema, object, old);
}

/** Validates a built-in kind (Pod, Service, Deployment, ...) against its real OpenAPI schema. */
export function validateBuiltin(apiVersion: string, kind: string, object: Record<string, unknown>): FieldCause[] {
  return checkBuiltin(apiVersion, kind, object);
}

export { isKnownBuiltin } from './builtin.js';
export { checkSchema as validateCrdSchema } from './structural.js';
export { prune as pruneUnknownFields, applyDefaults } from './admit.js';
