// One runner for every reconciler: a reconcile is an ordered list of named steps over one
// pass's state. A step returns nothing to go on, or `done(result)` to end the pass there.
// A failing step ends the pass, unless it is marked `keepGoing`: then its failure is recorded
// and later steps still run, so the status steps can report it. A step marked `ifNoFailures`
// (one that deletes or decides the requeue) ends the pass instead when something failed
// before it. Failures leave as one ReconcileError that names each failed step.
import type { ReconcileResult } from '../runtime/work-queue.js';
import { ReconcileError, type StepFailure } from './errors.js';

export type StepOutcome = void | { done: ReconcileResult };

export interface ReconcileStep<S> {
  name: string;
  /** Its failure is recorded and later steps still run (it must leave the state usable). */
  keepGoing?: boolean;
  /** Runs only when no step failed before it; otherwise the pass ends there with the failures. */
  ifNoFailures?: boolean;
  run(state: S): Promise<StepOutcome> | StepOutcome;
}

/** Ends the pass with this result (undefined: nothing more to do until something changes). */
export const done = (result?: ReconcileResult): StepOutcome => ({ done: result });

/** What a pass's state carries so steps can record failures of their parts (one pod of many). */
export interface PassState {
  failures: StepFailure[];
}

/** Runs `fn` as part `what` of a keep-going step: a failure is recorded and the step goes on. */
export async function attempt(state: PassState, step: string, what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    state.failures.push({ step: `${step} (${what})`, error });
  }
}

export interface StepTrace {
  /** Called before each step runs. */
  step(name: string): void;
}

export async function runSteps<S extends PassState>(steps: readonly ReconcileStep<S>[], state: S, trace?: StepTrace): Promise<ReconcileResult> {
  for (const step of steps) {
    if (step.ifNoFailures && state.failures.length) throw new ReconcileError(state.failures);
    trace?.step(step.name);
    let outcome: StepOutcome;
    try {
      outcome = await step.run(state);
    } catch (error) {
      state.failures.push({ step: step.name, error });
      if (step.keepGoing) continue;
      throw new ReconcileError(state.failures);
    }
    // Only `done(...)` ends the pass: a step's stray return value (an arrow's expression) does not.
    if (typeof outcome === 'object' && outcome !== null && 'done' in outcome) {
      if (state.failures.length) throw new ReconcileError(state.failures);
      return outcome.done;
    }
  }
  if (state.failures.length) throw new ReconcileError(state.failures);
  return undefined;
}

/** A named step from a function: the list reads as the reconcile's outline. */
export const step = <S>(name: string, run: ReconcileStep<S>['run'], o: Pick<ReconcileStep<S>, 'keepGoing' | 'ifNoFailures'> = {}): ReconcileStep<S> =>
  ({ name, run, ...o });
