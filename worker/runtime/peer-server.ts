// The WorkerData service every worker serves: peers Fetch dependencies from it, the scheduler
// Puts scattered values into it. Values stream as DataChunks of CHUNK_BYTES (an Arrow table
// travels as its IPC stream bytes), with flow control so a big value never sits in memory twice.
import * as grpc from '@grpc/grpc-js';
import { ChunkAssembler, batchChunks, missingChunk, toChunks } from '../../protocol/chunks.js';
import { toServiceError } from '../../protocol/wire-errors.js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import { WorkerDataService, serverOptions } from '../../protocol/services.js';
import { HealthService, healthHandlers } from '../../protocol/health.js';
import type { DataStore } from './data-store.js';
import type { KeptLogLine } from './log-buffer.js';
import type { EncodedValue } from '../../protocol/values.js';
import type { ExchangePart } from './mailbox.js';

type DataChunk = kubedask.v1.DataChunk;
type FetchRequest = kubedask.v1.FetchRequest;

export interface PutValue {
  key: string;
  nbytes: number;
  encoding: number;
}

export interface PeerServerOptions {
  store: DataStore;
  /** Called once a Put stream has ended, with the values it stored. */
  onPut?: (values: PutValue[]) => void;
  host: string;
  /** 0 = any free port. */
  port: number;
  chunkBytes?: number;
  /** Server credentials (TLS); plain by default. */
  credentials?: grpc.ServerCredentials;
  /** The worker's `n` most recent log lines (all kept when 0), for Logs; none without it. */
  logs?: (n: number) => KeptLogLine[];
  /** Part `index` of `count` of the key's value, cut by the built-in kernel `cutter`; undefined when not held. */
  part?: (key: string, part: ValuePart) => Promise<EncodedValue | undefined>;
  /** A part of a collective from a peer's task (mailbox.ts); throws to refuse it. None without it. */
  exchange?: (part: ExchangePart) => void;
}

export interface ValuePart { index: number; count: number; cutter: string }

export interface PeerServer {
  server: grpc.Server;
  port: number;
  close(graceMs?: number): Promise<void>;
}

type ExchangeCall = grpc.ServerDuplexStream<kubedask.v1.ExchangeRequest, kubedask.v1.ExchangeAck.$Properties>;

function workerDataHandlers(
  options: Pick<PeerServerOptions, 'store' | 'onPut' | 'chunkBytes' | 'logs' | 'part' | 'exchange'>,
  /** The peers' open Exchange streams, ended when the server closes (they are kept open between parts). */
  exchanges: Set<ExchangeCall>,
): grpc.UntypedServiceImplementation {
  const { store, onPut, chunkBytes, logs, part, exchange } = options;
  return {
    exchange(call: ExchangeCall): void {
      exchanges.add(call);
      call.on('data', (r: kubedask.v1.ExchangeRequest) => {
        // Ended by close(): a part still arriving is neither delivered nor acked (its sender is told the stream ended).
        if (!exchanges.has(call)) return;
        let error = '';
        try {
          if (!exchange) throw new Error('this worker takes no collective parts');
          exchange({ group: r.group, step: r.step, rank: r.rank, ...(r.failed ? { failed: r.failed } : { data: r.data }) });
        } catch (err) {
          error = (err as Error).message || String(err);
        }
        call.write({ error });
      });
      call.on('end', () => {
        exchanges.delete(call);
        call.end();
      });
      // The peer went away: the parts it sent stay in the mailbox.
      call.on('error', () => exchanges.delete(call));
    },

    logs(call: grpc.ServerUnaryCall<kubedask.v1.LogsRequest, kubedask.v1.LogsReply.$Properties>, callback: grpc.sendUnaryData<kubedask.v1.LogsReply.$Properties>): void {
      const lines = logs?.(call.request.n) ?? [];
      callback(null, { lines: lines.map((l) => ({ timeMs: l.time, level: l.level, message: l.message, key: l.key })) });
    },

    fetch(call: grpc.ServerWritableStream<FetchRequest, kubedask.v1.DataChunks.$Properties>): void {
      void (async () => {
        const p = call.request.part;
        const read = p?.count && part
          ? (key: string) => part(key, { index: p.index ?? 0, count: p.count ?? 0, cutter: p.cutter ?? '' })
          : (key: string) => store.get(key);
        for await (const chunks of batchChunks(chunksOf(read, call.request.keys, chunkBytes), chunkBytes)) {
          if (call.cancelled) return;
          if (!call.write({ chunks })) await drained(call);
        }
        call.end();
      })().catch((err: unknown) => call.emit('error', toServiceError(err)));
    },

    put(call: grpc.ServerReadableStream<DataChunk, kubedask.v1.PutReply.$Properties>, callback: grpc.sendUnaryData<kubedask.v1.PutReply.$Properties>): void {
      const assembler = new ChunkAssembler();
      const stored: PutValue[] = [];
      let failed = false;
      call.on('data', (chunk: DataChunk) => {
        if (failed) return;
        try {
          const done = assembler.push(chunk);
          if (done && 'value' in done) {
            store.put(done.key, done.value);
            stored.push({ key: done.key, nbytes: done.value.data.byteLength, encoding: done.value.encoding });
          }
        } catch (err) {
          failed = true;
          callback(toServiceError(err));
        }
      });
      call.on('end', () => {
        if (failed) return;
        if (stored.length > 0) onPut?.(stored);
        callback(null, { keys: stored.map((v) => v.key) });
      });
      call.on('error', () => {
        failed = true; // the client went away; what arrived whole stays stored
        if (stored.length > 0) onPut?.(stored);
      });
    },
  };
}

/** The keys' chunks in order; a key this worker cannot produce becomes a `missing` chunk. */
async function* chunksOf(read: (key: string) => Promise<EncodedValue | undefined>, keys: string[], chunkBytes?: number): AsyncGenerator<kubedask.v1.DataChunk.$Properties> {
  for (const key of keys) {
    let value;
    try {
      value = await read(key);
    } catch (err) {
      yield missingChunk(key, (err as Error).message);
      continue;
    }
    if (!value) yield missingChunk(key, 'not held by this worker');
    else yield* toChunks(key, value, chunkBytes);
  }
}

function drained(call: grpc.ServerWritableStream<FetchRequest, kubedask.v1.DataChunks.$Properties>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
  });
}

/** host:port, with brackets for IPv6 literals. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

export async function startPeerServer(options: PeerServerOptions): Promise<PeerServer> {
  const server = new grpc.Server(serverOptions);
  const exchanges = new Set<ExchangeCall>();
  server.addService(WorkerDataService, workerDataHandlers(options, exchanges));
  server.addService(HealthService, healthHandlers(['kubedask.v1.WorkerData'], () => true));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(joinHostPort(options.host, options.port), options.credentials ?? grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) reject(err);
      else resolve(bound);
    });
  });
  return {
    server,
    port,
    close: (graceMs = 2_000) => new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
      for (const call of exchanges) call.end();
      exchanges.clear();
    }),
  };
}
