// The client's RPC edge: promise-shaped calls on the Scheduler service. The only client file
// that sees generated protobuf types: it builds the gRPC client, splits values into chunks and
// reassembles them, converts messages to client/messages.ts, and every gRPC error to a named
// error (protocol/wire-errors.ts).
import type * as grpc from '@grpc/grpc-js';
import * as grpcRuntime from '@grpc/grpc-js';
import { ChunkAssembler, toChunks } from '../protocol/chunks.js';
import { DEFAULT_LOGS_TIMEOUT_MS } from '../protocol/data-client.js';
import type { kubedask } from '../protocol/generated/kubedask.js';
import { SchedulerClient, channelOptions, pb } from '../protocol/services.js';
import { routeGrpcLogsByEnv } from '../protocol/grpc-log.js';
import { SCHEDULER_PORT_HINT, waitUntilReachable } from '../protocol/reachability.js';
import { channelCredentials, type Tls } from '../protocol/tls.js';
import { fromServiceError, fromWireError } from '../protocol/wire-errors.js';
import { ConnectionLostError, KubedaskError, SchedulerUnreachableError } from '../protocol/errors.js';
import { specBytes, type ClusterInfo, type GatheredValue, type GraphSubmission, type KeyEvent, type KeyValue } from './messages.js';
import type { WorkerLogLine, WorkerLogs } from './worker-logs.js';
import type { DeltaRequest } from '../scheduler/history/types.js';
import type { KeysProgress } from './progress-types.js';

type Cb<T> = (err: grpc.ServiceError | null, reply?: T) => void;
interface RawSchedulerClient extends grpc.Client {
  session(): grpc.ClientDuplexStream<kubedask.v1.ClientRequest.$Properties, kubedask.v1.ClientEvent>;
  submitGraph(req: kubedask.v1.SubmitGraphRequest.$Properties, options: grpc.CallOptions, cb: Cb<kubedask.v1.SubmitGraphReply>): void;
  gather(req: kubedask.v1.GatherRequest.$Properties): grpc.ClientReadableStream<kubedask.v1.DataChunks>;
  scatter(metadata: grpc.Metadata, cb: Cb<kubedask.v1.ScatterReply>): grpc.ClientWritableStream<kubedask.v1.DataChunk.$Properties>;
  uploadModule(req: kubedask.v1.UploadModuleRequest.$Properties, cb: Cb<kubedask.v1.UploadModuleReply>): void;
  cancel(req: kubedask.v1.CancelRequest.$Properties, cb: Cb<kubedask.v1.CancelReply>): void;
  clusterInfo(req: kubedask.v1.ClusterInfoRequest.$Properties, cb: Cb<kubedask.v1.ClusterInfoReply>): void;
  workerLogs(req: kubedask.v1.WorkerLogsRequest.$Properties, options: grpc.CallOptions, cb: Cb<kubedask.v1.WorkerLogsReply>): void;
  history(req: kubedask.v1.HistoryRequest.$Properties, cb: Cb<kubedask.v1.HistoryReply>): void;
  progress(req: kubedask.v1.ProgressRequest.$Properties, options: grpc.CallOptions, cb: Cb<kubedask.v1.ProgressReply>): void;
  rebalance(req: kubedask.v1.RebalanceRequest.$Properties, options: grpc.CallOptions, cb: Cb<kubedask.v1.RebalanceReply>): void;
}

/** A graph is validated and queued, never run, within a call: a minute is generous. */
const SUBMIT_DEADLINE_MS = 60_000;
/** Graphs bigger than this (by their arguments and function sources) go by the SubmitGraph call, not on the session. */
export const SESSION_GRAPH_BYTES = 4 * 1024 * 1024;

/** About the encoded size of a graph: its tasks' (specBytes) and its function sources'. */
function graphBytes(req: GraphSubmission): number {
  let n = 0;
  for (const t of req.tasks) n += specBytes(t);
  for (const f of req.functions) n += f.source?.length ?? 0;
  return n;
}

/** What Client.rebalance did: keys moved to another worker and their bytes, extra copies of keys
 *  freed, and moves that could not finish. */
export interface RebalanceResult { moved: number; bytes: number; dropped: number; abandoned: number }

/** A progress count is one walk of the graph: far under this even with 100,000s of tasks. */
const PROGRESS_DEADLINE_MS = 30_000;

function unary<T>(call: (cb: Cb<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, reply) => (err ? reject(fromServiceError(err)) : resolve(reply as T))));
}

export class SchedulerRpc {
  private readonly raw: RawSchedulerClient;
  private session?: grpc.ClientDuplexStream<kubedask.v1.ClientRequest.$Properties, kubedask.v1.ClientEvent>;
  /** The session is welcomed by a scheduler that takes graphs on it, and has not failed. */
  private graphsOnSession = false;
  /** Graphs sent on the session, by seq, until their SubmitAck. */
  private readonly awaitingAck = new Map<number, { resolve: (accepted: number) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  private lastSeq = 0;

  private readonly tls: boolean;

  /** Connects lazily: the channel opens with openSession. Throws on unusable TLS material. */
  constructor(private readonly address: string, tls?: Tls) {
    this.tls = tls !== undefined;
    routeGrpcLogsByEnv('client');
    const client: grpc.Client = new SchedulerClient(address, channelCredentials(tls), channelOptions);
    this.raw = client as RawSchedulerClient;
  }

  /** Opens the session stream and resolves once the scheduler has welcomed the client. Rejects
   *  with SchedulerUnreachableError when the scheduler was never reached (at once when refused). */
  openSession(clientId: string, timeoutMs: number, onEvents: (events: KeyEvent[]) => void, onLost: (err: Error) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      let welcomed = false;
      const fail = (err: Error) => {
        this.graphsOnSession = false;
        this.settleAllAcks(err);
        if (!welcomed) reject(err);
        else onLost(err);
      };
      const timer = setTimeout(() => {
        if (!welcomed) { this.session?.cancel(); reject(new SchedulerUnreachableError(this.address, 'timeout', `no answer within ${timeoutMs} ms`)); }
      }, timeoutMs);
      waitUntilReachable(this.raw, this.address, timeoutMs, { tls: this.tls }).then(() => {
        const s = this.raw.session();
        this.session = s;
        s.on('data', (msg: kubedask.v1.ClientEvent) => {
          if (msg.welcome && !welcomed) { welcomed = true; this.graphsOnSession = msg.graphsOnSession; clearTimeout(timer); resolve(); }
          for (const ack of msg.acks) this.settleAck(ack);
          if (msg.events.length) onEvents(msg.events.flatMap(toKeyEvent));
        });
        s.on('error', (e: grpc.ServiceError) => {
          clearTimeout(timer);
          if (e.code === grpcRuntime.status.CANCELLED) return;
          // An HTTP/2 or gRPC server without our Scheduler service answers UNIMPLEMENTED.
          if (!welcomed && e.code === grpcRuntime.status.UNIMPLEMENTED) {
            fail(new SchedulerUnreachableError(this.address, 'not-grpc', `something answers there, but not a kubedask scheduler (${e.details}); ${SCHEDULER_PORT_HINT}`, { cause: e }));
          } else fail(fromServiceError(e));
        });
        s.on('end', () => { clearTimeout(timer); fail(new ConnectionLostError('the scheduler closed the session')); });
        s.write({ hello: { clientId } });
      }, (err: Error) => { clearTimeout(timer); reject(err); });
    });
  }

  release(keys: string[]): void {
    this.session?.write({ release: { keys } });
  }

  /** Asks the scheduler to report these keys' current state again. */
  want(keys: string[]): void {
    this.session?.write({ want: { keys } });
  }

  /**
   * Adds a graph; resolves to the tasks accepted. On the session when the scheduler takes graphs
   * there (a call costs an HTTP/2 stream of its own, a few hundred microseconds of CPU on both
   * sides, and an iterative fit submits a graph every few milliseconds); else, and for a graph
   * of more than SESSION_GRAPH_BYTES, by the SubmitGraph call: a big graph would hold up the
   * session's other messages, and one the transport cannot send (past gRPC's message limit)
   * would end the session, and with it the client, where it fails only its call.
   */
  async submitGraph(req: GraphSubmission): Promise<number> {
    const session = this.session;
    if (!this.graphsOnSession || !session || graphBytes(req) > SESSION_GRAPH_BYTES) {
      // The plain submission is already a valid SubmitGraphRequest: no copy is made.
      const reply = await unary<kubedask.v1.SubmitGraphReply>((cb) => this.raw.submitGraph(req, { deadline: Date.now() + SUBMIT_DEADLINE_MS }, cb));
      return reply.accepted;
    }
    const seq = this.lastSeq = this.lastSeq >= 0xffff_ffff ? 1 : this.lastSeq + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.awaitingAck.delete(seq);
        reject(new KubedaskError(`the scheduler did not answer a graph of ${req.tasks.length} tasks within ${SUBMIT_DEADLINE_MS / 1000} s`));
      }, SUBMIT_DEADLINE_MS);
      this.awaitingAck.set(seq, { resolve, reject, timer });
      session.write({ submit: { ...req, seq } });
    });
  }

  private settleAck(ack: kubedask.v1.SubmitAck.$Properties): void {
    const seq = ack.seq ?? 0;
    const waiting = this.awaitingAck.get(seq);
    if (!waiting) return; // timed out already
    this.awaitingAck.delete(seq);
    clearTimeout(waiting.timer);
    const e = ack.error;
    if (e) waiting.reject(fromWireError(e));
    else waiting.resolve(ack.accepted ?? 0);
  }

  /** Fails every graph still waiting for its ack: the session that would bring it is gone. */
  private settleAllAcks(err: Error): void {
    for (const [seq, waiting] of this.awaitingAck) {
      this.awaitingAck.delete(seq);
      clearTimeout(waiting.timer);
      waiting.reject(err);
    }
  }

  /** Each key's whole value (or why it is missing) as its last chunk arrives. */
  async *gather(clientId: string, keys: string[]): AsyncGenerator<GatheredValue> {
    const assembler = new ChunkAssembler();
    for await (const batch of withNamedErrors(this.raw.gather({ clientId, keys }) as AsyncIterable<kubedask.v1.DataChunks>)) {
      for (const chunk of batch.chunks as kubedask.v1.DataChunk[]) {
        const whole = assembler.push(chunk);
        if (whole) yield whole;
      }
    }
  }

  /** Sends the values in chunks; resolves to the keys the scheduler placed. */
  async scatter(clientId: string, values: KeyValue[]): Promise<string[]> {
    const metadata = new grpcRuntime.Metadata();
    metadata.set('kubedask-client', clientId);
    const reply = await unary<kubedask.v1.ScatterReply>((cb) => {
      const call = this.raw.scatter(metadata, cb);
      for (const { key, value } of values) for (const chunk of toChunks(key, value)) call.write(chunk);
      call.end();
    });
    return reply.keys;
  }

  async uploadModule(name: string, source: string): Promise<void> {
    await unary((cb) => this.raw.uploadModule({ name, source }, cb));
  }

  async cancel(clientId: string, keys: string[]): Promise<number> {
    return (await unary<kubedask.v1.CancelReply>((cb) => this.raw.cancel({ clientId, keys }, cb))).cancelled;
  }

  async clusterInfo(): Promise<ClusterInfo> {
    const r = await unary<kubedask.v1.ClusterInfoReply>((cb) => this.raw.clusterInfo({}, cb));
    return {
      schedulerId: r.schedulerId, address: r.address, dashboard: r.dashboard, tasks: r.tasks,
      // uint64 fields decode as Long objects: numbers for users.
      workers: r.workers.map((w) => ({
        id: w.id ?? '', name: w.name ?? '', address: w.address ?? '', nthreads: w.nthreads ?? 0, memoryLimit: Number(w.memoryLimit ?? 0),
        resources: { ...w.resources }, memoryUsed: Number(w.memoryUsed ?? 0), spilledBytes: Number(w.spilledBytes ?? 0), processing: w.processing ?? 0, inMemory: w.inMemory ?? 0, group: w.group ?? '',
      })),
    };
  }

  /** Workers' recent log lines keyed by worker address (timeoutMs 0: the scheduler's default). */
  async workerLogs(req: { n: number; workers: string[]; timeoutMs: number }): Promise<Record<string, WorkerLogs>> {
    // The scheduler answers once every worker has or its timeout passed: allow for that.
    const deadline = Date.now() + (req.timeoutMs || DEFAULT_LOGS_TIMEOUT_MS) + 10_000;
    const reply = await unary<kubedask.v1.WorkerLogsReply>((cb) => this.raw.workerLogs(req, { deadline }, cb));
    const out: Record<string, WorkerLogs> = {};
    for (const w of reply.workers) {
      const lines = (w.lines ?? []).map((l): WorkerLogLine => ({
        time: new Date(l.timeMs ?? 0), level: (l.level || 'info') as WorkerLogLine['level'], message: l.message ?? '', ...(l.key ? { key: l.key } : {}),
      }));
      out[w.address ?? ''] = { name: w.name ?? '', lines, ...(w.error ? { error: w.error } : {}), ...(w.linesLeftOut ? { linesLeftOut: w.linesLeftOut } : {}) };
    }
    return out;
  }

  /** The session's history as the scheduler's JSON: a snapshot (of at most `maxEntries`
   *  entries), or a delta after `request`. */
  async history(request: DeltaRequest | { maxEntries?: number }): Promise<unknown> {
    const req = 'cursor' in request ? { delta: true, ...request } : { delta: false, maxEntries: request.maxEntries ?? 0 };
    const reply = await unary<kubedask.v1.HistoryReply>((cb) => this.raw.history(req, cb));
    return JSON.parse(reply.json) as unknown;
  }

  async progress(keys: string[]): Promise<KeysProgress> {
    const r = await unary<kubedask.v1.ProgressReply>((cb) => this.raw.progress({ keys }, { deadline: Date.now() + PROGRESS_DEADLINE_MS }, cb));
    return {
      groups: r.groups.map((g) => ({
        group: g.group ?? '', total: g.total ?? 0, done: g.done ?? 0, erred: g.erred ?? 0, processing: g.processing ?? 0,
        queued: g.queued ?? 0, waiting: g.waiting ?? 0,
      })),
      keys: r.keys, finished: r.finished, erred: r.erred, unknown: r.unknown, allDone: r.allDone,
    };
  }

  /** Ends by the scheduler's own deadline (timeoutMs); this one only guards against a scheduler that never answers. */
  async rebalance(keys: string[], timeoutMs: number): Promise<RebalanceResult> {
    const r = await unary<kubedask.v1.RebalanceReply>((cb) => this.raw.rebalance({ keys, timeoutMs }, { deadline: Date.now() + timeoutMs + SUBMIT_DEADLINE_MS }, cb));
    return { moved: r.moved, bytes: Number(r.bytes), dropped: r.dropped, abandoned: r.abandoned };
  }

  close(): void {
    this.graphsOnSession = false;
    this.settleAllAcks(new KubedaskError('the client was closed before the scheduler answered its graph'));
    this.session?.end();
    this.session?.cancel();
    this.raw.close();
  }
}

/** A server stream whose errors arrive as named errors (protocol/wire-errors.ts). */
async function* withNamedErrors<T>(stream: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (err) {
    throw fromServiceError(err as grpc.ServiceError);
  }
}

const KeyState = pb.KeyEvent.State;

function toKeyEvent(e: kubedask.v1.KeyEvent.$Properties): KeyEvent[] {
  const key = e.key ?? '';
  const error = e.error;
  switch (e.state) {
    case KeyState.FINISHED: {
      const v = e.value;
      if (!v?.data) return [{ key, state: 'finished' }];
      // A copy: decoded bytes are views into the whole received message.
      const data = new Uint8Array(v.data);
      return [{ key, state: 'finished', value: { encoding: v.encoding ?? pb.Encoding.ENCODING_JSON, data } }];
    }
    case KeyState.ERRED: return [{
      key, state: 'erred',
      error: { name: error?.name || 'Error', message: error?.message ?? '', stack: error?.stack ?? '', worker: error?.worker ?? '' },
    }];
    case KeyState.CANCELLED: return [{ key, state: 'cancelled' }];
    case KeyState.LOST: return [{ key, state: 'lost', why: error?.message || 'released by the scheduler' }];
    default: return [];
  }
}
