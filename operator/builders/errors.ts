// Errors of the builders: the inputs lacked something a manifest cannot do without.

/** A field the builders need is missing from an input object (e.g. an owner without a uid). */
export class MissingFieldError extends Error {
  override name = 'MissingFieldError';
  constructor(
    readonly kind: string,
    readonly field: string,
    options?: { cause?: unknown },
  ) {
    super(`${kind}: ${field} is required to build its dependents`, options);
  }
}
