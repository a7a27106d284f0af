// Shards kept on the workers: one future per partition, each a shard in a worker's data store.
// A call runs one ml/map task per shard (in that worker's task pool, on the shard's shared
// memory) and brings back only the kernels' small results, in shard order. A shard lost with
// its worker is built again from its lineage (the partition's plan) by the scheduler.
import type { Client } from '../../client/client.js';
import type { Future } from '../../client/future.js';
import { builtinFunction } from '../../client/task-functions.js';
import type { Summable } from './matrix.js';
import { sumInOrder, type Shards } from './shards.js';
import type { ShardTask } from './thread-entry.js';

export class ClusterShards implements Shards {
  readonly nRows: number;
  private released = false;

  /** `rows`: each shard's row count, in shard order. */
  constructor(private readonly client: Client, private readonly futures: readonly Future[], readonly rows: readonly number[], readonly nFeatures: number) {
    this.nRows = rows.reduce((a, b) => a + b, 0);
  }

  get nShards(): number {
    return this.futures.length;
  }

  /** The shard keys on the cluster (for tests and diagnostics). */
  get keys(): string[] {
    return this.futures.map((f) => f.key);
  }

  async map<R>(name: string, params: unknown): Promise<R[]> {
    if (this.released) throw new Error(`shards released: cannot run ${name} on them`);
    return mapShards<R>(this.client, this.futures, name, params);
  }

  async mapShard<R>(index: number, name: string, params: unknown): Promise<R> {
    if (this.released) throw new Error(`shards released: cannot run ${name} on them`);
    const shard = this.futures[index];
    if (!shard) throw new RangeError(`no shard ${index} of ${this.futures.length}`);
    return (await mapShards<R>(this.client, [shard], name, params))[0]!;
  }

  async sum<R extends Summable>(name: string, params: unknown): Promise<R> {
    return sumInOrder(await this.map<R>(name, params));
  }

  derive(name: string, params: unknown): Shards {
    if (this.released) throw new Error(`shards released: cannot derive ${name} from them`);
    // Each new shard's task keeps its source as lineage: a lost one is rebuilt from there.
    const futures = this.futures.map((shard, partition) => this.client.submitWith({ group: 'ml-derive', stayWithData: true }, builtinFunction('ml/derive'), { kernel: name, params, partition }, shard));
    return new ClusterShards(this.client, futures, this.rows, this.nFeatures);
  }

  async release(): Promise<void> {
    this.released = true;
    for (const f of this.futures) f.release();
  }
}

/** Runs shard kernel `name` on every shard future: one task each, results in their order. */
export async function mapShards<R>(client: Client, shards: readonly Future[], name: string, params: unknown): Promise<R[]> {
  const task: ShardTask = { kernel: name, params };
  const futures = shards.map((shard) => client.submitWith({ group: `ml-${name.replace(/\W+/g, '-')}`, stayWithData: true }, builtinFunction('ml/map'), task, shard));
  try {
    return (await client.gather(futures)) as R[];
  } finally {
    for (const f of futures) f.release();
  }
}
