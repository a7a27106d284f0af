// What Client.progressOf() returns and the progress bars draw: public API, importing nothing.

/** One task group's tasks among those the keys need, by state. */
export interface TaskGroupProgress {
  group: string;
  total: number;
  /** Computed: in memory, or released after it was. */
  done: number;
  erred: number;
  processing: number;
  /** Ready: waiting for a free thread, or for a worker able to run it. */
  queued: number;
  /** Waiting on its dependencies. */
  waiting: number;
}

/** The progress of some keys: they and every task they depend on that the scheduler still knows. */
export interface KeysProgress {
  /** In submission order. */
  groups: TaskGroupProgress[];
  /** Distinct keys asked about; of those, finished, erred, and not known to the scheduler. */
  keys: number;
  finished: number;
  erred: number;
  unknown: number;
  /** Every key known and finished or erred. */
  allDone: boolean;
}
