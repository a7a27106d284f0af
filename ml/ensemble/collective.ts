// A block of a boosting fit's iterations grown by the workers among themselves (booster.ts):
// one task on each worker that holds shards, each running the driver's own loop from the
// driver's snapshot over its shards' states. After each round the workers send one another
// their shards' histograms (WorkerData.Exchange) and each adds up all of them in shard order,
// as the driver would, so every worker grows the same trees, to the bit; only histograms
// travel, worker to worker, and no round waits on the driver or the scheduler.
import { createHash } from 'node:crypto';
import type { Collective, Kernel } from '../../worker/runtime/builtins.js';
import type { StoredValue } from '../../worker/runtime/data-store.js';
import { encodeValue } from '../../protocol/value-codec.js';
import { sumFloatTree, type CollectiveRank } from '../core/shards.js';
import { Booster, GROW_KERNEL, type GrownBlockResult, type GrowParams, type RoundShards } from './booster.js';

/** How long a rank waits for its peers' first parts (their tasks may start later than its own)... */
const FIRST_WAIT_MS = 60_000;
/** ...and for each later step's: this at least, or this many times its slowest step so far. */
const MIN_WAIT_MS = 5_000;
const WAIT_STEPS = 50;

export const growTogether: Kernel = async (params, inputs, context) => {
  const p = params as GrowParams & CollectiveRank;
  const c = context.collective;
  if (!c) throw new Error(`${GROW_KERNEL} runs only as a built-in task on a worker`);
  const others = p.peers.map((_, r) => r).filter((r) => r !== p.rank);
  try {
    if (c.address !== p.peers[p.rank]) throw new Error(`${GROW_KERNEL}: rank ${p.rank} was to run on ${p.peers[p.rank]}, not on ${c.address} (its shards moved)`);
    if (inputs.length !== p.shards[p.rank]?.length) throw new Error(`internal: ${GROW_KERNEL} rank ${p.rank} got ${inputs.length} shards, not ${p.shards[p.rank]?.length}`);
    if (!inputs.every((v) => 'native' in v)) throw new Error(`${GROW_KERNEL}: a shard's state is not in this worker's memory (spilled or copied)`);
    const booster = Booster.resume(new PeerRounds(p, inputs, c, context.signal), p.snapshot);
    const block = booster.grownBlock(await booster.grownHere(p.iterations));
    const digest = createHash('sha256').update(encodeValue(block).data).digest('hex');
    return encodeValue((p.rank === 0 ? { digest, block } : { digest }) satisfies GrownBlockResult);
  } catch (err) {
    // The peers stop waiting for this rank's parts.
    const failed = (err as Error).message || String(err);
    await Promise.allSettled(others.map((r) => c.send(p.peers[r]!, { group: p.group, step: 0, rank: p.rank, failed })));
    throw err;
  } finally {
    c.close(p.group);
  }
};

/** A rank's rounds: its own shards' in its task threads, everyone's summed after an exchange. */
class PeerRounds implements RoundShards {
  readonly nShards: number;
  private step = 0;
  private slowestMs = 0;
  private readonly others: number[];

  constructor(
    private readonly p: CollectiveRank, private readonly states: StoredValue[], private readonly c: Collective,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.nShards = p.shards.reduce((n, s) => n + s.length, 0);
    this.others = p.peers.map((_, r) => r).filter((r) => r !== p.rank);
  }

  async sumFloats(name: string, params: unknown): Promise<Float64Array> {
    this.signal?.throwIfAborted();
    const started = performance.now();
    const mine = await Promise.all(this.states.map(async (s) => (await this.c.runPool('ml/map', { kernel: name, params }, [s])).data));
    const step = this.step++;
    const { group, rank, peers } = this.p;
    const data = concat(mine);
    await Promise.all(this.others.map((r) => this.c.send(peers[r]!, { group, step, rank, data })));
    const wait = step === 0 ? FIRST_WAIT_MS : Math.max(MIN_WAIT_MS, WAIT_STEPS * this.slowestMs);
    const theirs = this.others.length > 0 ? await this.c.take(group, step, this.others, wait) : new Map<number, Uint8Array>();
    // The first step waits for the peers' tasks to start as well.
    if (step > 0) this.slowestMs = Math.max(this.slowestMs, performance.now() - started);
    const parts: Uint8Array[] = new Array<Uint8Array>(this.nShards);
    this.p.shards.forEach((indices, r) => {
      const got = r === rank ? mine : split(theirs.get(r)!, indices.length);
      indices.forEach((shard, i) => (parts[shard] = got[i]!));
    });
    return sumFloatTree(parts);
  }

  mapShard<R>(): Promise<R> {
    // A stale state (rebuilt after its worker was lost): the driver replays the journal.
    return Promise.reject(new Error(`${GROW_KERNEL}: a shard's state is not at the block's round`));
  }

  async release(): Promise<void> {}
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of parts) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

/** `count` equal parts of a peer's concatenated results. */
function split(bytes: Uint8Array, count: number): Uint8Array[] {
  const size = bytes.byteLength / count;
  if (!Number.isInteger(size)) throw new Error(`internal: ${bytes.byteLength} bytes from a peer for ${count} shards`);
  return Array.from({ length: count }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
}
