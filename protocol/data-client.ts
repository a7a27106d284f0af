// Client side of a worker's WorkerData service, used by workers (dependencies from peers)
// and by the scheduler (gather, scatter): one channel per address, reused.
import * as grpc from '@grpc/grpc-js';
import { ChunkAssembler, toChunks } from './chunks.js';
import { FetchError } from './errors.js';
import { fromServiceError } from './wire-errors.js';
import type { kubedask } from './generated/kubedask.js';
import { WorkerDataClient, channelOptions } from './services.js';
import type { EncodedValue } from './values.js';

type DataChunks = kubedask.v1.DataChunks;

interface DataClient extends grpc.Client {
  fetch(request: kubedask.v1.FetchRequest.$Properties, options?: grpc.CallOptions): grpc.ClientReadableStream<DataChunks>;
  put(options: grpc.CallOptions, callback: grpc.requestCallback<kubedask.v1.PutReply>): grpc.ClientWritableStream<kubedask.v1.DataChunk.$Properties>;
  logs(request: kubedask.v1.LogsRequest.$Properties, options: grpc.CallOptions, callback: grpc.requestCallback<kubedask.v1.LogsReply>): void;
  exchange(): grpc.ClientDuplexStream<kubedask.v1.ExchangeRequest.$Properties, kubedask.v1.ExchangeAck>;
}

/** An open Exchange stream to one peer, and its parts not yet acknowledged, oldest first (acks come in order). */
interface ExchangeStream {
  call: grpc.ClientDuplexStream<kubedask.v1.ExchangeRequest.$Properties, kubedask.v1.ExchangeAck>;
  pending: Array<{ group: string; resolve: () => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>;
  idle?: NodeJS.Timeout;
  ended: boolean;
}

/** An Exchange stream with no part in flight for this long is ended (a new part opens another). */
const EXCHANGE_IDLE_MS = 30_000;

export interface FetchResult {
  values: Array<{ key: string; value: EncodedValue }>;
  missing: Array<{ key: string; reason: string }>;
}

export interface PeerClientsOptions {
  /** Channel credentials (TLS); plain connections by default. */
  credentials?: grpc.ChannelCredentials;
  /** Deadline of one Fetch or Put call (default 300 s: big values on slow links). */
  deadlineMs?: number;
}

/** How long a worker has to answer Logs when the asker does not say (getWorkerLogs). */
export const DEFAULT_LOGS_TIMEOUT_MS = 5_000;

export class PeerClients {
  private readonly clients = new Map<string, DataClient>();
  private readonly exchanges = new Map<string, ExchangeStream>();
  private readonly deadlineMs: number;

  private readonly credentials: grpc.ChannelCredentials;

  constructor(options: PeerClientsOptions = {}) {
    this.deadlineMs = options.deadlineMs ?? 300_000;
    this.credentials = options.credentials ?? grpc.credentials.createInsecure();
  }

  /** The keys' values from the worker at `address`; with `part`, only that part of each, cut there. */
  fetch(address: string, keys: string[], part?: kubedask.v1.ValuePart.$Properties): Promise<FetchResult> {
    return new Promise<FetchResult>((resolve, reject) => {
      const result: FetchResult = { values: [], missing: [] };
      const assembler = new ChunkAssembler();
      const call = this.client(address).fetch({ keys, part }, { deadline: Date.now() + this.deadlineMs });
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        call.cancel();
        const cause = isServiceError(err) ? fromServiceError(err) : err;
        if (isServiceError(err) && (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED)) this.drop(address);
        reject(new FetchError(address, keys, { cause }));
      };
      call.on('data', (batch: DataChunks) => {
        try {
          for (const chunk of batch.chunks) {
            const done = assembler.push(chunk as kubedask.v1.DataChunk);
            if (!done) continue;
            if ('value' in done) result.values.push(done);
            else result.missing.push({ key: done.key, reason: done.missing });
          }
        } catch (err) {
          fail(err as Error);
        }
      });
      call.on('error', fail);
      call.on('end', () => {
        if (settled) return;
        settled = true;
        resolve(result);
      });
    });
  }

  /** The raw batches of a Fetch, for relaying them unopened (the scheduler's gather). */
  fetchBatches(address: string, keys: string[]): grpc.ClientReadableStream<DataChunks> {
    return this.client(address).fetch({ keys }, { deadline: Date.now() + this.deadlineMs });
  }

  /** Sends values to the worker at `address`; resolves with the keys it stored. */
  put(address: string, values: Array<{ key: string; value: EncodedValue }>): Promise<string[]> {
    return new Promise<string[]>((resolve, reject) => {
      const call = this.client(address).put({ deadline: Date.now() + this.deadlineMs }, (err, reply) => {
        if (err) reject(new FetchError(address, values.map((v) => v.key), { cause: fromServiceError(err) }));
        else resolve(reply?.keys ?? []);
      });
      void (async () => {
        for (const { key, value } of values) {
          for (const chunk of toChunks(key, value)) {
            if (!call.write(chunk)) await new Promise((r) => call.once('drain', r));
          }
        }
        call.end();
      })();
    });
  }

  /** The worker's `n` most recent log lines (0: all it keeps); rejects with the gRPC error
   *  (DEADLINE_EXCEEDED when it did not answer within `timeoutMs`). */
  logs(address: string, n: number, timeoutMs: number): Promise<kubedask.v1.LogLine.$Properties[]> {
    return new Promise((resolve, reject) => {
      this.client(address).logs({ n }, { deadline: Date.now() + timeoutMs }, (err, reply) => (err ? reject(err) : resolve(reply?.lines ?? [])));
    });
  }

  /**
   * Hands a part of a collective to the worker at `address` (its mailbox), over the one stream
   * kept open to it; resolves when that worker has it. Rejects with the cause when it is refused,
   * when the stream breaks, or when no ack comes within `timeoutMs` (the stream is then ended:
   * what it still carries is rejected too, and the next part opens a new one).
   */
  exchange(address: string, part: kubedask.v1.ExchangeRequest.$Properties, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const stream = this.exchangeStream(address);
      clearTimeout(stream.idle);
      const timer = setTimeout(() => {
        // A peer that does not answer: a fresh connection for the next part (as for a unary call's deadline).
        this.endExchange(address, stream, new Error(`no ack within ${timeoutMs} ms`));
        this.drop(address);
      }, timeoutMs);
      stream.pending.push({ group: part.group ?? '', resolve, reject, timer });
      stream.call.write(part);
    });
  }

  /** Ends the Exchange streams with no part in flight (a collective ended); the next part opens a new one. */
  endIdleExchanges(): void {
    for (const [address, stream] of this.exchanges) if (stream.pending.length === 0) this.endExchange(address, stream);
  }

  close(): void {
    for (const [address, stream] of this.exchanges) this.endExchange(address, stream, new Error('the client closed'));
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private exchangeStream(address: string): ExchangeStream {
    const open = this.exchanges.get(address);
    if (open) return open;
    const stream: ExchangeStream = { call: this.client(address).exchange(), pending: [], ended: false };
    this.exchanges.set(address, stream);
    stream.call.on('data', (ack: kubedask.v1.ExchangeAck) => {
      const sent = stream.pending.shift();
      if (!sent) return;
      clearTimeout(sent.timer);
      if (ack.error) sent.reject(new Error(`collective ${sent.group}: the part for ${address} did not go: ${ack.error}`));
      else sent.resolve();
      if (stream.pending.length === 0) stream.idle = setTimeout(() => this.endExchange(address, stream), EXCHANGE_IDLE_MS).unref();
    });
    stream.call.on('error', (err: grpc.ServiceError) => {
      if (err.code === grpc.status.UNAVAILABLE) this.drop(address);
      // Cancelled by the other side: the peer shut down (ours end the stream first, so stream.ended is set).
      this.endExchange(address, stream, err.code === grpc.status.CANCELLED ? new Error('the peer closed the stream (it shut down)') : fromServiceError(err));
    });
    stream.call.on('end', () => this.endExchange(address, stream, new Error('the peer ended the stream')));
    return stream;
  }

  /** Ends an Exchange stream; its parts not yet acknowledged fail with `why` (none when it was idle). */
  private endExchange(address: string, stream: ExchangeStream, why?: Error): void {
    if (this.exchanges.get(address) === stream) this.exchanges.delete(address);
    clearTimeout(stream.idle);
    for (const sent of stream.pending.splice(0)) {
      clearTimeout(sent.timer);
      sent.reject(new Error(`collective ${sent.group}: the part for ${address} did not go: ${why?.message ?? 'the stream ended'}`, { cause: why }));
    }
    if (stream.ended) return;
    stream.ended = true;
    if (why) stream.call.cancel();
    else stream.call.end();
  }

  private client(address: string): DataClient {
    let c = this.clients.get(address);
    if (!c) {
      c = new WorkerDataClient(address, this.credentials, channelOptions) as unknown as DataClient;
      this.clients.set(address, c);
    }
    return c;
  }

  /** Forget a peer's channel after it failed, so a restarted peer gets a fresh one. */
  private drop(address: string): void {
    this.clients.get(address)?.close();
    this.clients.delete(address);
  }
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number';
}
