// The reconcilers' errors: a pass that failed leaves as one ReconcileError naming every step
// that failed; a cluster's TLS Secret that cannot be used is a TlsSecretError.
export interface StepFailure { step: string; error: unknown }

export class ReconcileError extends Error {
  override name = 'ReconcileError';
  declare readonly failures: StepFailure[];
  constructor(failures: StepFailure[]) {
    super(failureMessage(failures), { cause: failures[0]?.error });
    // Not enumerable: a logged ReconcileError shows its message (every step) and its cause, not
    // an array of errors that JSON writes as {}.
    Object.defineProperty(this, 'failures', { value: failures, enumerable: false });
  }

  /** The names of the steps that failed, in order. */
  get steps(): string[] { return this.failures.map((f) => f.step); }
}

/** The condition reason for a failed pass: what its first failure was about. */
export function failureReason(failures: StepFailure[]): string {
  return failures[0]?.error instanceof TlsSecretError ? 'TLSSecretInvalid' : 'ApiError';
}

export function failureMessage(failures: StepFailure[]): string {
  return failures.map((f) => `${f.step}: ${(f.error as Error)?.message ?? String(f.error)}`).join('; ');
}


/** The Secret named by spec.security.tls.secretName is missing or lacks a part. */
export class TlsSecretError extends Error {
  override name = 'TlsSecretError';
}
