// Admission for the Kubernetes API emulator: CRD structural checks, custom resource pruning,
// defaulting and validation (OpenAPI v3 + CEL), and built-in kind validation.
// CONTRACT between the emulator's server (test/kube-sim/server) and this folder.

/** One cause of a 422 Invalid, as the real API server reports it. */
export interface FieldCause {
  /** e.g. FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueTypeInvalid, FieldValueForbidden */
  reason: string;
  /** e.g. 'Invalid value: -1: spec.replicas in body should be greater than or equal to 0' */
  message: string;
  /** e.g. 'spec.replicas' */
  field: string;
}

/** The openAPIV3Schema of one served CRD version (JSONSchemaProps). */
export type JSONSchemaProps = Record<string, unknown>;

export interface Admitted {
  /** The object after pruning unknown fields and applying defaults. */
  object: Record<string, unknown>;
  causes: FieldCause[];
}

/** Checks a CustomResourceDefinition (structural schemas, compilable CEL rules). */
export function validateCrd(_crd: Record<string, unknown>): FieldCause[] {
  throw new Error('validateCrd: not implemented yet');
}

/** Prunes, defaults and validates a custom resource; `old` is set on update (for oldSelf rules). */
export function admitCustomResource(_schema: JSONSchemaProps, _object: Record<string, unknown>, _old?: Record<string, unknown>): Admitted {
  throw new Error('admitCustomResource: not implemented yet');
}

/** Validates a built-in kind (Pod, Service, Deployment, ...) against its real OpenAPI schema. */
export function validateBuiltin(_apiVersion: string, _kind: string, _object: Record<string, unknown>): FieldCause[] {
  throw new Error('validateBuiltin: not implemented yet');
}
