// Types shared by the admission modules (re-exported by index.ts, the contract).

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
