// What Client.clusterInfo() returns: plain, hand-written types (public API), filled in from the
// scheduler's reply by client/scheduler-rpc.ts. They import nothing, so a user's types never
// reach the generated protobuf ones through them.

/** One worker, as the scheduler last heard from it. */
export interface WorkerInfo {
  id: string;
  name: string;
  /** host:port of its data service. */
  address: string;
  nthreads: number;
  /** Bytes; 0 when unlimited. */
  memoryLimit: number;
  /** Resources it advertises, e.g. { GPU: 1 }. */
  resources: Record<string, number>;
  /** Bytes its stored results take in memory. */
  memoryUsed: number;
  /** Bytes of its stored results written to disk (past its memory target). */
  spilledBytes: number;
  /** Tasks assigned to it and not yet finished. */
  processing: number;
  /** Results it holds. */
  inMemory: number;
  /** Its worker group ('' when none). */
  group: string;
}

/** Client.clusterInfo(): the scheduler and its workers. */
export interface ClusterInfo {
  schedulerId: string;
  address: string;
  /** Dashboard URL ('' when it serves none). */
  dashboard: string;
  /** Tasks the scheduler knows, in any state. */
  tasks: number;
  workers: WorkerInfo[];
}
