// Shards kept on the workers: one future per partition, each a shard in a worker's data store.
// A call runs one ml/map task per shard (in that worker's task pool, on the shard's shared
// memory) and brings back only the kernels' small results, in shard order. A shard lost with
// its worker is built again from its lineage (the partition's plan) by the scheduler.
import type { Client } from '../../client/client.js';
import type { Future } from '../../client/future.js';
import { builtinFunction } from '../../client/task-functions.js';
import type { Summable } from './matrix.js';
import { newKey } from '../../client/graph-builder.js';
import { FAN_IN, sumFloats, sumInOrder, type CollectiveRank, type DeriveOptions, type ReleaseOptions, type Shards } from './shards.js';
import type { ShardTask } from './thread-entry.js';

/** How long release({ reuse }) waits for the shards' buffers to be given back. */
const RECYCLE_WAIT_MS = 2_000;

export class ClusterShards implements Shards {
  readonly nRows: number;
  private released = false;
  /** How many shards' buffers the last release({ reuse: true }) gave back (for tests and diagnostics). */
  givenBack = 0;

  /** `rows`: each shard's row count, in shard order; `signal` cancels every call after it fires; `mobile`: see ToShardsOptions. */
  constructor(
    private readonly client: Client, private readonly futures: readonly Future[], readonly rows: readonly number[], readonly nFeatures: number,
    private readonly options: { signal?: AbortSignal | undefined; mobile?: boolean } = {},
  ) {
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
    return mapShards<R>(this.client, this.futures, name, params, this.options);
  }

  async mapShard<R>(index: number, name: string, params: unknown): Promise<R> {
    if (this.released) throw new Error(`shards released: cannot run ${name} on them`);
    const shard = this.futures[index];
    if (!shard) throw new RangeError(`no shard ${index} of ${this.futures.length}`);
    return (await mapShards<R>(this.client, [shard], name, params, this.options))[0]!;
  }

  async sum<R extends Summable>(name: string, params: unknown): Promise<R> {
    return sumInOrder(await this.map<R>(name, params));
  }

  async sumFloats(name: string, params: unknown): Promise<Float64Array> {
    if (this.released) throw new Error(`shards released: cannot run ${name} on them`);
    const { signal } = this.options;
    signal?.throwIfAborted();
    const task: ShardTask = { kernel: name, params };
    const made = this.futures.map((shard) => this.client.submitWith({ group: groupOf(name), stayWithData: this.options.mobile !== true }, builtinFunction('ml/map'), task, shard));
    let level = made;
    while (level.length > FAN_IN) {
      const next: Future[] = [];
      for (let i = 0; i < level.length; i += FAN_IN) next.push(this.client.submitWith({ group: 'ml-sum' }, builtinFunction('ml/sum'), {}, ...level.slice(i, i + FAN_IN)));
      made.push(...next);
      level = next;
    }
    try {
      return sumFloats(await gatherOrAbort<Uint8Array>(this.client, level, signal));
    } catch (err) {
      // Not cancelled while they run: a kernel that updates its shard in place (a boosting
      // round) would be cut short, and the caller may run it again at once.
      if (!signal?.aborted) await Promise.allSettled(made.map((f) => this.client.waitFor(f.key)));
      throw err;
    } finally {
      for (const f of made) f.release();
    }
  }

  collective<R>(kernel: string, params: object): Promise<R[]> {
    // One at a time per client: two collectives whose tasks each hold a thread on one worker and
    // wait for their peers queued behind the other's would wait until their first step timed out.
    const turn = (collectiveTurns.get(this.client) ?? Promise.resolve()).then(() => this.runCollective<R>(kernel, params));
    collectiveTurns.set(this.client, turn.catch(() => {}));
    const { signal } = this.options;
    if (!signal) return turn;
    turn.catch(() => {}); // the abort may win the race
    return Promise.race([turn, abortedBy(signal)]);
  }

  private async runCollective<R>(kernel: string, params: object): Promise<R[]> {
    if (this.released) throw new Error(`shards released: cannot run ${kernel} on them`);
    const { signal } = this.options;
    signal?.throwIfAborted();
    const holders = await this.holders();
    const byWorker = new Map<string, number[]>();
    holders.forEach((at, i) => {
      if (at.length !== 1) throw new CollectiveUnavailableError(`shard ${i} is held by ${at.length} workers (${at.join(', ')})`);
      byWorker.set(at[0]!, [...byWorker.get(at[0]!) ?? [], i]);
    });
    const peers = [...byWorker.keys()];
    const shards = peers.map((p) => byWorker.get(p)!);
    const group = newKey('collective');
    const tasks: Future[] = [];
    try {
      for (const [rank] of peers.entries()) {
        const rankParams: CollectiveRank = { group, rank, peers, shards };
        tasks.push(this.client.submitWith({ group: kernel.replace(/\W+/g, '-'), stayWithData: true }, builtinFunction(kernel), { ...params, ...rankParams }, ...shards[rank]!.map((i) => this.futures[i]!)));
      }
      return await gatherOrAbort<R>(this.client, tasks, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      // Every rank ends before the shards are used again (each stops once a peer fails, or
      // when its wait for a part times out): they may update them in place.
      await Promise.allSettled(tasks.map((f) => this.client.waitFor(f.key)));
      throw new CollectiveFailedError(`${kernel}: ${(err as Error).message}`, { cause: err });
    } finally {
      for (const f of tasks) f.release();
    }
  }

  /** Each shard's holders, from a barrier task (it reads none of them). */
  private async holders(): Promise<string[][]> {
    // df/barrier returns its inputs' [key, holders] in argument order.
    const where = this.client.submitWith({ group: 'ml-where', barrier: true }, builtinFunction('df/barrier'), {}, ...this.futures);
    try {
      const [receipts] = await gatherOrAbort<Array<[string, string[]]>>(this.client, [where], this.options.signal);
      return receipts!.map(([, at]) => at);
    } catch (err) {
      if (this.options.signal?.aborted) throw err;
      throw new CollectiveUnavailableError(`where the shards are: ${(err as Error).message}`, { cause: err });
    } finally {
      where.release();
    }
  }

  derive(name: string, params: unknown, options: DeriveOptions = {}): Shards {
    if (this.released) throw new Error(`shards released: cannot derive ${name} from them`);
    // Each new shard's task keeps its source as lineage: a lost one is rebuilt from there.
    const futures = this.futures.map((shard, partition) => this.client.submitWith({ group: 'ml-derive', stayWithData: true }, builtinFunction('ml/derive'), { kernel: name, params, partition }, shard));
    return new ClusterShards(this.client, futures, this.rows, this.nFeatures, options.pinned ? { ...this.options, mobile: false } : this.options);
  }

  async release(options: ReleaseOptions = {}): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (options.reuse) {
      const given = this.futures.map((shard) => this.client.submitWith({ group: 'ml-recycle', stayWithData: true }, builtinFunction('ml/recycle'), {}, shard));
      // Best effort: a shard not where it was made (spilled, fetched) is let go as it is, and
      // one lost with its worker is not waited for (its task would first build it again).
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), RECYCLE_WAIT_MS); });
      const results = await Promise.race([this.client.gather(given).catch(() => undefined), waited]) as Uint8Array[] | undefined;
      clearTimeout(timer);
      this.givenBack = results?.filter((r) => r[0] === 1).length ?? 0;
      for (const f of given) f.release();
    }
    for (const f of this.futures) f.release();
  }
}

/**
 * Runs shard kernel `name` on every shard future: one task each, results in their order, each
 * where its shard is unless `mobile`. When `signal` fires, nothing more is submitted and a call
 * waiting on its tasks rejects with the signal's reason; releasing them then cancels those not yet run.
 */
export async function mapShards<R>(client: Client, shards: readonly Future[], name: string, params: unknown, options: { signal?: AbortSignal | undefined; mobile?: boolean } = {}): Promise<R[]> {
  const { signal } = options;
  signal?.throwIfAborted();
  const task: ShardTask = { kernel: name, params };
  const futures = shards.map((shard) => client.submitWith({ group: groupOf(name), stayWithData: options.mobile !== true }, builtinFunction('ml/map'), task, shard));
  try {
    return await gatherOrAbort<R>(client, futures, signal);
  } finally {
    for (const f of futures) f.release();
  }
}

/** Each client's last Shards.collective: the next waits for it. */
const collectiveTurns = new WeakMap<Client, Promise<unknown>>();

/** Shards.collective could not start (nothing ran): the caller may go on without it. */
export class CollectiveUnavailableError extends Error {
  override name = 'CollectiveUnavailableError';
}

/** A task of Shards.collective failed (a worker lost, a peer out of reach); all have ended. */
export class CollectiveFailedError extends Error {
  override name = 'CollectiveFailedError';
}

/** The tasks' group: the kernel's name, as the dashboard shows it. */
const groupOf = (name: string): string => `ml-${name.replace(/\W+/g, '-')}`;

/** The futures' values, or the signal's reason as soon as it fires. */
async function gatherOrAbort<R>(client: Client, futures: readonly Future[], signal: AbortSignal | undefined): Promise<R[]> {
  const gathered = client.gather(futures) as Promise<R[]>;
  if (!signal) return await gathered;
  gathered.catch(() => {}); // the abort may win the race: this one's rejection is then nobody's
  return await Promise.race([gathered, abortedBy(signal)]);
}

/**
 * One promise per signal that rejects with its reason when it fires: every call in flight races
 * the same one (a listener per call would pass Node's limit of 10 with a search's 16 calls).
 */
const abortPromises = new WeakMap<AbortSignal, Promise<never>>();
function abortedBy(signal: AbortSignal): Promise<never> {
  let aborted = abortPromises.get(signal);
  if (!aborted) {
    aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    aborted.catch(() => {}); // nobody may be racing it when it fires
    abortPromises.set(signal, aborted);
  }
  return aborted;
}
