// Named errors of the pure scheduler. Each carries typed fields so callers (the gRPC server,
// tests) can react to the kind of failure without parsing messages.
import type { TaskState } from './types.js';

export class SchedulerStateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export type GraphErrorReason =
  | 'cycle' | 'missing-dependency' | 'unknown-function' | 'duplicate-key' | 'invalid-key'
  | 'invalid-resources' | 'invalid-retries' | 'invalid-priority';

/** A submitted graph was refused as a whole; `key` names the offending task. */
export class GraphValidationError extends SchedulerStateError {
  readonly key: string;
  readonly reason: GraphErrorReason;
  /** For reason 'cycle': the keys on the cycle, in dependency order. */
  readonly cycle: string[] | undefined;

  constructor(message: string, fields: { key: string; reason: GraphErrorReason; cycle?: string[]; cause?: unknown }) {
    super(message, { cause: fields.cause });
    this.key = fields.key;
    this.reason = fields.reason;
    this.cycle = fields.cycle;
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
