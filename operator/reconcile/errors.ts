// The reconcilers' errors: a pass that failed leaves as one ReconcileError naming every step
// that failed.
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

