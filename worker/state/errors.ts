// Named errors of the pure worker state. All are bugs in WorkerState, never bad input: the
// runtime's errors (worker/runtime/errors.ts) cover what can go wrong around it.

export class WorkerStateError extends Error {
  override name = 'WorkerStateError';
}

/** A key made a state change that TRANSITIONS does not allow. */
export class InvalidTransitionError extends WorkerStateError {
  override name = 'InvalidTransitionError';
  constructor(readonly key: string, readonly from: string, readonly to: string, readonly stimulusId: string) {
    super(`key ${key}: no transition ${from} -> ${to} (stimulus ${stimulusId})`);
  }
}
