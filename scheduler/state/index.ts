// The pure scheduler's public surface, for the server.
export { SchedulerState, type SchedulerStateOptions, type WorkerSummary } from './scheduler-state.js';
export {
  DEFAULT_TARGET_DURATION_MS, type AdaptiveMetrics, type AdaptiveRequest, type GroupMetrics, type GroupShape,
} from './adaptive.js';
export type { KeysGroupProgress, KeysProgress } from './progress.js';
export { validateGraph } from './validate.js';
export type { GroupCounts } from './group-progress.js';
export {
  GraphValidationError, InvalidSchedulerOption, InvalidTransition, SchedulerStateError, StateInvariantError,
  type GraphErrorReason, type StateIndex, type StateViolation,
} from './errors.js';
export type { LegalTransition } from './transitions.js';
export * from './types.js';
