// The scheduler's client side of workers' WorkerData service: one channel per worker address.
import * as grpc from '@grpc/grpc-js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import { WorkerDataClient, channelOptions } from '../../protocol/services.js';

type DataChunk = kubedask.v1.DataChunk;

export class DataPeers {
  private readonly clients = new Map<string, grpc.Client>();

  private client(address: string): grpc.Client {
    let c = this.clients.get(address);
    if (!c) {
      c = new WorkerDataClient(address, grpc.credentials.createInsecure(), channelOptions);
      this.clients.set(address, c);
    }
    return c;
  }

  /** Streams the keys' chunks from one worker. */
  fetch(address: string, keys: string[]): grpc.ClientReadableStream<DataChunk> {
    const c = this.client(address) as unknown as {
      fetch(req: kubedask.v1.FetchRequest.$Properties, options: grpc.CallOptions): grpc.ClientReadableStream<DataChunk>;
    };
    return c.fetch({ keys }, { deadline: Date.now() + 10 * 60_000 });
  }

  /** Sends chunks to one worker's Put; resolves with the keys it stored. */
  put(address: string, chunks: Iterable<kubedask.v1.DataChunk.$Properties>): Promise<string[]> {
    const c = this.client(address) as unknown as {
      put(options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, reply?: kubedask.v1.PutReply) => void):
        grpc.ClientWritableStream<kubedask.v1.DataChunk.$Properties>;
    };
    return new Promise((resolve, reject) => {
      const call = c.put({ deadline: Date.now() + 10 * 60_000 }, (err, reply) => (err ? reject(err) : resolve(reply?.keys ?? [])));
      for (const chunk of chunks) call.write(chunk);
      call.end();
    });
  }

  forget(address: string): void {
    this.clients.get(address)?.close();
    this.clients.delete(address);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
