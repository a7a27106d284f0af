// Named errors of the pure scheduler. Each carries typed fields so callers (the gRPC server,
// tests) can react to the kind of failure without parsing messages.
import type { TaskState } from './types.js';

// A refused graph is the client's error, defined once where the wire mapping finds it: the
// state throws the very class the client catches (protocol/errors.ts imports nothing).
export { GraphValidationError, type GraphErrorReason } from '../../protocol/errors.js';

/** The scheduler state's own failures: bugs (InvalidTransition, StateInvariantError) and bad options. */
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

/** The derived indexes validateState checks against the task and worker records. */
export type StateIndex =
  | 'tasks' | 'state-counts' | 'memory-bytes' | 'dependencies' | 'dependents' | 'waiters' | 'waiting-on'
  | 'who-has' | 'has-what' | 'processing' | 'work-ms' | 'used-resources' | 'steal-buckets' | 'steals'
  | 'ready-queues' | 'no-worker' | 'pending-counts' | 'clients' | 'retiring' | 'replicating' | 'moves' | 'capable-cache'
  | 'life-cycle' | 'settled' | 'group-progress' | 'held';

/** One disagreement between an index and the records it is derived from. */
export interface StateViolation {
  readonly index: StateIndex;
  /** What it concerns: `task "x"`, `worker "w1"`, `client "c1"`, `lane "|root"`... */
  readonly subject: string;
  readonly problem: string;
}

/** validateState found the scheduler's state inconsistent: always a scheduler bug. */
export class StateInvariantError extends SchedulerStateError {
  readonly violations: readonly StateViolation[];

  /** `total` counts every violation found; only the first few are kept. */
  constructor(violations: readonly StateViolation[], total: number) {
    const lines = violations.map((v) => `[${v.index}] ${v.subject}: ${v.problem}`);
    const more = total > violations.length ? `\n  ... and ${total - violations.length} more` : '';
    super(`scheduler state is inconsistent (${total} problem${total === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}${more}`);
    this.violations = violations;
  }
}
