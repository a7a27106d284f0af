// The reconcilers' errors: a pass that failed leaves as one ReconcileError naming every step
// that failed; a cluster's TLS Secret that cannot be used is a TlsSecretError.
export interface StepFailure { step: string; error: unknown }

export class ReconcileError extends Error {
  override name = 'ReconcileError';
  constructor(readonly failures: StepFailure[]) {
    super(failureMessage(failures), { cause: failures[0]?.error });
  }

  /** The names of the steps that failed, in order. */
  get steps(): string[] { return this.failures.map((f) => f.step); }
}

export function failureMessage(failures: StepFailure[]): string {
  return failures.map((f) => `${f.step}: ${(f.error as Error)?.message ?? String(f.error)}`).join('; ');
}


/** The Secret named by spec.security.tls.secretName is missing or lacks a part. */
export class TlsSecretError extends Error {
  override name = 'TlsSecretError';
}
