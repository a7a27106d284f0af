// kubedask's public API.
export { Client, defaultClient, type Completed, type ConnectOptions, type ClusterTarget } from './client/client.js';
export { Future } from './client/future.js';
export type { KeyStatus } from './client/key-tracker.js';
export { LocalCluster, type LocalClusterOptions, type ScaleResult } from './client/local-cluster.js';
export { delayed, Delayed } from './client/delayed.js';
export type { TaskOptions } from './client/graph-builder.js';
export type { ModuleFunction, ModuleFunctions, TaskFunction } from './client/task-functions.js';
export type { ArgOf, ArgsOf, DelayedArgsOf, FuturesOf, Gathered, ResultOf } from './client/typed-args.js';
export { startScheduler, type SchedulerOptions, type RunningScheduler } from './scheduler/server/scheduler-server.js';
export { startWorker, type WorkerOptions, type RunningWorker } from './worker/runtime/worker.js';
export type { Tls } from './protocol/tls.js';
export type { ClusterInfo, WorkerInfo } from './client/cluster-info.js';
export type { RebalanceResult } from './client/scheduler-rpc.js';
export type { WorkerLogLine, WorkerLogs, WorkerLogsOptions } from './client/worker-logs.js';
export type { PerformanceReportOptions, TraceEventsOptions } from './client/history.js';
export type * from './scheduler/history/types.js';
export { ENTRY_KIND } from './scheduler/history/types.js';
export { sliceHistory } from './scheduler/history/slice.js';
export { applyDelta } from './scheduler/history/merge.js';
export { toChromeTrace, type ChromeTrace, type TraceEvent } from './scheduler/history/trace.js';
export { InvalidHistoryRequest } from './scheduler/history/request.js';
export {
  KubedaskError, GraphValidationError, RemoteTaskError, CancelledError, ConnectionLostError, ValueEncodingError,
  FetchError, NoWorkersError, ProtocolError, SchedulerUnreachableError, type GraphErrorReason, type UnreachableReason,
} from './protocol/errors.js';
export { ScatterFailedError, ValueMissingError, WaitTimeoutError, KubeClusterError } from './client/errors.js';
export { progress, type ProgressOptions, type ProgressResult, type ProgressStream, type ProgressTarget } from './client/progress.js';
export type { KeysProgress, TaskGroupProgress } from './client/progress-types.js';
export { wait, type ReturnWhen, type WaitOptions, type WaitResult } from './client/wait.js';
export { KubeCluster, type KubeClusterOptions, type AdaptOptions, type AttachOptions } from './client/kube-cluster.js';
export { DataFrame, GroupBy, type JoinOptions, type SortOptions, type RepartitionOptions, type MapPartitionsOptions } from './dataframe/frame.js';
export { readParquet, readCsv, fromPolars, fromArrow, type ReadParquetOptions, type ReadCsvOptions, type FromFrameOptions } from './dataframe/sources.js';
export type { RunOptions } from './dataframe/execute.js';
export { DataFrameError, SourceError } from './dataframe/errors.js';
export { PlanError } from './dataframe/plan/errors.js';
export { ScanError, KernelInputError } from './dataframe/kernels/errors.js';
export * as ml from './ml/index.js';
