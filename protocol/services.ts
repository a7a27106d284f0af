// gRPC service definitions built from the generated protobuf codecs. This is the only place
// that pairs method paths with message types; servers and clients import these.
import * as grpc from '@grpc/grpc-js';
import { kubedask } from './generated/kubedask.js';

export const pb = kubedask.v1;

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

function method<Req, Res>(
  service: string, name: string, req: Codec<Req>, res: Codec<Res>,
  requestStream: boolean, responseStream: boolean,
): grpc.MethodDefinition<Req, Res> {
  return {
    path: `/kubedask.v1.${service}/${name}`,
    requestStream,
    responseStream,
    requestSerialize: (m: Req) => Buffer.from(toBytes(req.encode(m).finish())),
    requestDeserialize: (b: Buffer) => req.decode(b),
    responseSerialize: (m: Res) => Buffer.from(toBytes(res.encode(m).finish())),
    responseDeserialize: (b: Buffer) => res.decode(b),
  };
}

// Avoid a copy when protobufjs already produced a Buffer view.
function toBytes(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export const SchedulerService = {
  session: method('Scheduler', 'Session', pb.ClientRequest, pb.ClientEvent, true, true),
  submitGraph: method('Scheduler', 'SubmitGraph', pb.SubmitGraphRequest, pb.SubmitGraphReply, false, false),
  gather: method('Scheduler', 'Gather', pb.GatherRequest, pb.DataChunks, false, true),
  scatter: method('Scheduler', 'Scatter', pb.DataChunk, pb.ScatterReply, true, false),
  uploadModule: method('Scheduler', 'UploadModule', pb.UploadModuleRequest, pb.UploadModuleReply, false, false),
  cancel: method('Scheduler', 'Cancel', pb.CancelRequest, pb.CancelReply, false, false),
  clusterInfo: method('Scheduler', 'ClusterInfo', pb.ClusterInfoRequest, pb.ClusterInfoReply, false, false),
  workerLogs: method('Scheduler', 'WorkerLogs', pb.WorkerLogsRequest, pb.WorkerLogsReply, false, false),
  history: method('Scheduler', 'History', pb.HistoryRequest, pb.HistoryReply, false, false),
  progress: method('Scheduler', 'Progress', pb.ProgressRequest, pb.ProgressReply, false, false),
  rebalance: method('Scheduler', 'Rebalance', pb.RebalanceRequest, pb.RebalanceReply, false, false),
};

export const WorkerStreamService = {
  connect: method('WorkerStream', 'Connect', pb.WorkerBatch, pb.SchedulerBatch, true, true),
};

export const WorkerDataService = {
  fetch: method('WorkerData', 'Fetch', pb.FetchRequest, pb.DataChunks, false, true),
  put: method('WorkerData', 'Put', pb.DataChunk, pb.PutReply, true, false),
  logs: method('WorkerData', 'Logs', pb.LogsRequest, pb.LogsReply, false, false),
  exchange: method('WorkerData', 'Exchange', pb.ExchangeRequest, pb.ExchangeAck, true, true),
};

export const ControlService = {
  getMetrics: method('Control', 'GetMetrics', pb.MetricsRequest, pb.ClusterMetrics, false, false),
  retireWorkers: method('Control', 'RetireWorkers', pb.RetireWorkersRequest, pb.RetireWorkersReply, false, false),
  shutdown: method('Control', 'Shutdown', pb.ShutdownRequest, pb.ShutdownReply, false, false),
  watchMetrics: method('Control', 'WatchMetrics', pb.WatchMetricsRequest, pb.MetricsUpdate, false, true),
  recordDecision: method('Control', 'RecordDecision', pb.AutoscalingDecision, pb.RecordDecisionReply, false, false),
};

export const SchedulerClient = grpc.makeGenericClientConstructor(SchedulerService, 'Scheduler');
export const WorkerStreamClient = grpc.makeGenericClientConstructor(WorkerStreamService, 'WorkerStream');
export const WorkerDataClient = grpc.makeGenericClientConstructor(WorkerDataService, 'WorkerData');
export const ControlClient = grpc.makeGenericClientConstructor(ControlService, 'Control');

/** Messages up to this size are accepted; values larger than a chunk travel as chunks. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * Bytes of values sent along with finishes (TaskFinished.value, KeyEvent.value) in one batch at
 * most: past it a finish goes without its value (read by a Gather), so a batch of many small
 * results stays far below MAX_MESSAGE_BYTES.
 */
export const INLINE_BYTES_PER_BATCH = 16 * 1024 * 1024;

/** Counts the inline bytes of the batch being filled (see INLINE_BYTES_PER_BATCH). */
export class InlineBudget {
  private used = 0;

  /** Whether `bytes` more fit in this batch (then counted). */
  take(bytes: number): boolean {
    if (this.used + bytes > INLINE_BYTES_PER_BATCH) return false;
    this.used += bytes;
    return true;
  }

  /** The batch left: a new one starts empty. */
  reset(): void {
    this.used = 0;
  }
}

export const CHUNK_BYTES = 1024 * 1024;

// Both ends raise the message limit and ping: pings find a peer whose machine vanished
// without closing the connection. A channel (grpc-js reads this on the client side only)
// takes up to 16 MiB before it must acknowledge (HTTP/2's default is 64 KiB): a 4 MB result
// fetched over loopback took 220-370 ms, waiting for window updates, and 110-280 ms with this.
const sharedOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc-node.flow_control_window': 16 * 1024 * 1024,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
};

export const channelOptions: grpc.ChannelOptions = sharedOptions;
export const serverOptions: grpc.ServerOptions = sharedOptions;
