// A fit sees its data as shards (one per partition) that stay where they are: each iteration
// runs a named shard kernel on every shard and gets back only small results (a loss and a
// gradient, cluster sums). The cluster implementation keeps the shards on the workers; this
// file holds the interface and the in-process one that unit tests and tiny data use.
import { floatsOf, type Shard, type Summable } from './matrix.js';
import { runShardKernel } from '../kernels/registry.js';
import { runDeriveKernel } from '../kernels/derive.js';

export interface DeriveOptions {
  /**
   * The new shards' tasks always run where they are, even when these shards' may move (mobile):
   * for shards that rounds update in place (a boosting state), which a copy would leave behind.
   */
  pinned?: boolean;
}

export interface ReleaseOptions {
  reuse?: boolean;
}

export interface Shards {
  readonly nRows: number;
  readonly nFeatures: number;
  readonly nShards: number;
  /** Runs shard kernel `name` (ml/kernels/registry.ts) with `params` on every shard; results in shard order. */
  map<R>(name: string, params: unknown): Promise<R[]>;
  /** The same on shard `index` only (a sequential pass: SGD's partialFit, partition after partition). */
  mapShard<R>(index: number, name: string, params: unknown): Promise<R>;
  /**
   * The kernel's results added up element by element, in shard order, so a result is the same
   * to the bit whichever worker ran which shard.
   */
  sum<R extends Summable>(name: string, params: unknown): Promise<R>;
  /**
   * Runs shard kernel `name` on every shard, each result the bytes of a Float64Array of one
   * length, and returns their element-wise sum: on a cluster added up by the workers, FAN_IN
   * results a task, level after level, so one sum comes back (a tree reduction). The order of
   * the additions depends only on the number of shards, so the sum is the same to the bit
   * whichever worker ran what.
   */
  sumFloats(name: string, params: unknown): Promise<Float64Array>;
  /**
   * New shards, each this one transformed by derive kernel `name` (ml/kernels/derive.ts) where
   * it is. These stay until released; the new ones need nothing more from them.
   */
  derive(name: string, params: unknown, options?: DeriveOptions): Shards;
  /**
   * Lets the shards go (on a cluster: releases them on the workers). `reuse`: their buffers go
   * back to their workers' pools first, for the next shards made there (buffer-pool.ts): only
   * when nothing runs on them any more and nothing else holds them (a finished fit's own).
   */
  release(options?: ReleaseOptions): Promise<void>;
  /**
   * On a cluster only: runs built-in kernel `kernel` as one task on each worker that holds
   * shards, given those shards (in shard order) and `params` with its CollectiveRank, all at
   * once, so they can talk among themselves (a boosting fit's rounds, worker to worker). The
   * results come in rank order. It rejects when the shards cannot be reached so (a shard held
   * twice) or any task failed, and then only after every task has ended (unless the shards'
   * signal aborted the call).
   */
  collective?<R>(kernel: string, params: object): Promise<R[]>;
}

/** What each task of Shards.collective gets in its params besides the caller's. */
export interface CollectiveRank {
  /** Names this run of the tasks (their exchanges). */
  group: string;
  rank: number;
  /** Each rank's worker address. */
  peers: string[];
  /** Each rank's shards (their indices), in the order of its task's inputs. */
  shards: number[][];
}

/** Shards held in this process. */
export class LocalShards implements Shards {
  readonly nRows: number;
  readonly nFeatures: number;
  constructor(private readonly shards: readonly Shard[]) {
    this.nRows = shards.reduce((n, s) => n + s.x.rows, 0);
    this.nFeatures = shards[0]?.x.cols ?? 0;
  }
  get nShards(): number { return this.shards.length; }
  async map<R>(name: string, params: unknown): Promise<R[]> {
    return this.shards.map((s) => runShardKernel(name, params, s) as R);
  }
  async mapShard<R>(index: number, name: string, params: unknown): Promise<R> {
    const shard = this.shards[index];
    if (!shard) throw new RangeError(`no shard ${index} of ${this.shards.length}`);
    return runShardKernel(name, params, shard) as R;
  }
  async sum<R extends Summable>(name: string, params: unknown): Promise<R> {
    return sumInOrder(await this.map<R>(name, params));
  }
  async sumFloats(name: string, params: unknown): Promise<Float64Array> {
    return sumFloatTree(await this.map<Uint8Array>(name, params));
  }
  derive(name: string, params: unknown, _options?: DeriveOptions): Shards {
    return new LocalShards(this.shards.map((s, partition) => runDeriveKernel(name, params, s, partition)));
  }
  /** Nothing to give back: these shards are the process's own (reuse is for workers' buffers). */
  async release(_options?: ReleaseOptions): Promise<void> {}
}

/** Results a sum task adds up: the fan-in of sumFloats' tree reduction. */
export const FAN_IN = 8;

/** The element-wise sum of Float64 byte arrays, first to last. */
export function sumFloats(parts: readonly Uint8Array[]): Float64Array {
  if (parts.length === 0) throw new Error('internal: nothing to sum');
  const sum = floatsOf(parts[0]!).slice();
  for (const part of parts.slice(1)) {
    const f = floatsOf(part);
    if (f.length !== sum.length) throw new Error(`internal: summing arrays of ${sum.length} and ${f.length}`);
    for (let i = 0; i < sum.length; i++) sum[i]! += f[i]!;
  }
  return sum;
}

/** sumFloats in the order of a tree reduction of fan-in FAN_IN (what ClusterShards.sumFloats computes on the workers). */
export function sumFloatTree(parts: readonly Uint8Array[]): Float64Array {
  let level = [...parts];
  while (level.length > FAN_IN) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += FAN_IN) {
      const s = sumFloats(level.slice(i, i + FAN_IN));
      next.push(new Uint8Array(s.buffer));
    }
    level = next;
  }
  return sumFloats(level);
}

/** Adds up same-shaped results, first to last. */
export function sumInOrder<R extends Summable>(parts: readonly R[]): R {
  if (parts.length === 0) throw new Error('internal: nothing to sum');
  return parts.slice(1).reduce((acc, p) => add(acc, p) as R, clone(parts[0]!));
}

function clone<R extends Summable>(v: R): R {
  if (typeof v === 'number') return v;
  if (v instanceof Float64Array) return new Float64Array(v) as R;
  if (Array.isArray(v)) return [...v] as R;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])) as R;
}

function add(a: Summable, b: Summable): Summable {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if ((a instanceof Float64Array || Array.isArray(a)) && (b instanceof Float64Array || Array.isArray(b))) {
    if (a.length !== b.length) throw new Error(`internal: summing arrays of ${a.length} and ${b.length}`);
    for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
    return a;
  }
  if (typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b) && !(a instanceof Float64Array) && !(b instanceof Float64Array)) {
    const out: Record<string, Summable> = { ...a };
    for (const [k, x] of Object.entries(b)) out[k] = k in a ? add(a[k]!, x) : clone(x);
    return out;
  }
  throw new Error('internal: summing results of different shapes');
}
