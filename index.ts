// kubedask's public API.
export { Client, type ConnectOptions, type ClusterTarget } from './client/client.js';
export { Future } from './client/future.js';
export { LocalCluster, type LocalClusterOptions } from './client/local-cluster.js';
export { delayed, Delayed } from './client/delayed.js';
export type { TaskOptions } from './client/graph-builder.js';
export type { ModuleFunction, TaskFunction } from './client/task-functions.js';
export { startScheduler, type SchedulerOptions, type RunningScheduler } from './scheduler/server/scheduler-server.js';
export type { ClusterInfo, WorkerInfo } from './client/messages.js';
export {
  KubedaskError, GraphValidationError, RemoteTaskError, CancelledError, ConnectionLostError, ValueEncodingError,
  FetchError, NoWorkersError, ProtocolError, SchedulerUnreachableError, type GraphErrorReason, type UnreachableReason,
} from './protocol/errors.js';
export { ValueMissingError } from './client/errors.js';
