// Named errors of the pure scheduler. Each carries typed fields so callers (the gRPC server,
// tests) can react to the kind of failure without parsing messages.
import type { TaskState } from './types.js';

// A refused graph is the client's error, defined once where the wire mapping finds it: the
// state throws the very class the client catches (protocol/errors.ts imports nothing).
export { GraphValidationError, type GraphErrorReason } from '../../protocol/errors.js';

/** The scheduler state's own failures: bugs (InvalidTransition) and bad options. */
export class SchedulerStateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A transition that the table does not allow: always a scheduler bug, never bad input. */
export class InvalidTransition extends SchedulerStateError {
  readonly key: string;
  readonly from: TaskState;
  readonly to: TaskState;
  readonly stimulusId: string;

  constructor(key: string, from: TaskState, to: TaskState, stimulusId: string) {
    super(`task "${key}" cannot go from ${from} to ${to} (stimulus ${stimulusId})`);
    this.key = key;
    this.from = from;
    this.to = to;
    this.stimulusId = stimulusId;
  }
}

export class InvalidSchedulerOption extends SchedulerStateError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string) {
    super(`scheduler option ${option} must be ${expected}, got ${String(value)}`);
    this.option = option;
    this.value = value;
  }
}
