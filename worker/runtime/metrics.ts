// What a worker tells its Prometheus metrics as things happen (prometheus.ts implements it).
// Kept apart from prom-client: a worker started without --metrics-port never loads it.

export interface WorkerMetricsSink {
  /** A task's run ended (ok: its result is stored; else it erred), after `seconds` of running. */
  task(group: string, ok: boolean, seconds: number): void;
  /** Dependencies fetched from a peer: `bytes` in one transfer that took `seconds`. */
  transfer(bytes: number, seconds: number): void;
  /** A value was written to the spill directory. */
  spill(bytes: number): void;
}

/** What the worker's gauges read at each scrape. */
export interface WorkerGaugeSources {
  name: string;
  group: string;
  nthreads: number;
  /** Bytes; 0 = none. */
  memoryLimit: number;
  /** Bytes of results held in memory. */
  memoryUsed(): number;
  /** Bytes of results in the spill directory. */
  spilledBytes(): number;
  /** Tasks running now, and tasks ready to run waiting for a thread. */
  tasks(): { executing: number; ready: number };
}
