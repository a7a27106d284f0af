// Helpers for the pure scheduler's tests: build events with fresh stimulus ids, check the
// state after each (validateState), pick messages apart, and play workers that finish
// whatever they are sent.
import { SchedulerState, type SchedulerStateOptions } from '../../scheduler/state/scheduler-state.js';
import type { SchedulerEvent, SchedulerMessage, TaskDef } from '../../scheduler/state/types.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type EventInput = DistributiveOmit<SchedulerEvent, 'stimulusId'>;
export type Msg<T extends SchedulerMessage['type']> = Extract<SchedulerMessage, { type: T }>;

export const addr = (workerId: string): string => `${workerId}.local:8788`;

export function task(key: string, dependencies: string[] = [], extra: Partial<TaskDef> = {}): TaskDef {
  return { key, functionId: 'f', dependencies, resources: {}, retries: 0, priority: 0, group: 'g', spec: { key }, ...extra };
}

export function of<T extends SchedulerMessage['type']>(msgs: SchedulerMessage[], type: T): Array<Msg<T>> {
  return msgs.filter((m): m is Msg<T> => m.type === type);
}

/** "worker:key" for each compute, in order: compact to assert on. */
export function computed(msgs: SchedulerMessage[]): string[] {
  return of(msgs, 'compute').map((m) => `${m.workerId}:${m.key}`);
}

/** "client:key:state" for each client-key, in order. */
export function told(msgs: SchedulerMessage[]): string[] {
  return of(msgs, 'client-key').map((m) => `${m.clientId}:${m.key}:${m.state}`);
}

/** Every key freed on a worker, as "worker:key". */
export function freed(msgs: SchedulerMessage[]): string[] {
  return of(msgs, 'free-keys').flatMap((m) => m.keys.map((k) => `${m.workerId}:${k}`));
}

export interface HarnessOptions extends SchedulerStateOptions {
  /**
   * Validate the state after every n-th event (default 1: after each). Validation is linear in
   * the state's size, so only the 10,000-task scale tests thin it out (and validate at the end).
   */
  validateEvery?: number;
}

export class Harness {
  readonly s: SchedulerState;
  private n = 0;
  private readonly validateEvery: number;

  constructor({ validateEvery = 1, ...options }: HarnessOptions = {}) {
    this.s = new SchedulerState(options);
    this.validateEvery = validateEvery;
  }

  /** Handles the event, then checks every derived index (validateState) before returning. */
  ev(e: EventInput): SchedulerMessage[] {
    const event = { ...e, stimulusId: `${e.type}-${this.n++}` } as SchedulerEvent;
    const out = this.s.handle(event);
    if (this.n % this.validateEvery === 0) this.validate(`after event ${event.stimulusId}`);
    return out;
  }

  /** Throws, naming `when`, if any derived index disagrees with the records. */
  validate(when = 'now'): void {
    try {
      this.s.validate();
    } catch (err) {
      throw new Error(`${when}: ${(err as Error).message}`, { cause: err });
    }
  }

  addWorker(workerId: string, nthreads = 1, resources: Record<string, number> = {}): SchedulerMessage[] {
    return this.ev({
      type: 'worker-added',
      worker: { workerId, name: `${workerId}-name`, address: addr(workerId), nthreads, memoryLimit: 1e9, resources, group: '' },
    });
  }

  removeWorker(workerId: string, graceful = false): SchedulerMessage[] {
    return this.ev({ type: 'worker-removed', workerId, reason: 'test', graceful });
  }

  submit(tasks: TaskDef[], wanted: string[] = tasks.map((t) => t.key), clientId = 'c1'): SchedulerMessage[] {
    return this.ev({ type: 'update-graph', clientId, tasks, wanted });
  }

  finish(workerId: string, key: string, nbytes = 100, durationMs = 10): SchedulerMessage[] {
    return this.ev({ type: 'task-finished', workerId, key, nbytes, durationMs });
  }

  fail(workerId: string, key: string, message = 'boom'): SchedulerMessage[] {
    const error = { name: 'TypeError', message, stack: `TypeError: ${message}\n    at f (task.js:1:1)`, worker: workerId };
    return this.ev({ type: 'task-erred', workerId, key, error, durationMs: 1 });
  }

  release(keys: string[], clientId = 'c1'): SchedulerMessage[] {
    return this.ev({ type: 'client-releases-keys', clientId, keys });
  }

  /**
   * Plays the workers: finishes every compute sent (oldest first), including those its own
   * finishes cause, until none is outstanding. Returns every message seen.
   */
  runAll(first: SchedulerMessage[], nbytes = 100, durationMs = 10): SchedulerMessage[] {
    const all = [...first];
    const pending = of(first, 'compute');
    for (let i = 0; i < pending.length; i++) {
      const m = pending[i] as Msg<'compute'>;
      const out = this.finish(m.workerId, m.key, nbytes, durationMs);
      all.push(...out);
      pending.push(...of(out, 'compute'));
    }
    return all;
  }
}
