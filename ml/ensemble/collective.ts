// A block of a boosting fit's iterations grown by the workers among themselves (booster.ts):
// one task on each worker that holds shards, each running the driver's own loop from the
// driver's snapshot over its shards' states (the loop on the worker's main thread, the rounds
// in its task threads). After each round the workers send one another their shards'
// histograms, one part a shard (WorkerData.Exchange), and each adds up all of them in shard order,
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
    // A peer that gave up while this task waited to start: nothing to do.
    const ended = c.ended(p.group);
    if (ended) throw new Error(`${GROW_KERNEL}: ${ended}`);
    if (c.address !== p.peers[p.rank]) throw new Error(`${GROW_KERNEL}: rank ${p.rank} was to run on ${p.peers[p.rank]}, not on ${c.address} (its shards moved)`);
    if (inputs.length !== p.shards[p.rank]?.length) throw new Error(`internal: ${GROW_KERNEL} rank ${p.rank} got ${inputs.length} shards, not ${p.shards[p.rank]?.length}`);
    if (!inputs.every((v) => 'native' in v)) throw new Error(`${GROW_KERNEL}: a shard's state is not in this worker's memory (spilled or copied)`);
    const rounds = new PeerRounds(p, others, inputs, c, context.signal);
    const booster = Booster.resume(rounds, p.snapshot);
    const block = booster.grownBlock(await booster.grownHere(p.iterations));
    await rounds.sent();
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
export class PeerRounds implements RoundShards {
  readonly nShards: number;
  private step = 0;
  private slowestMs = 0;
  /** The other ranks' shards: whose parts each step waits for. */
  private readonly theirs: number[];
  /** Why the last round failed: what a stale state's fallback (mapShard) reports. */
  private failure: unknown;
  /** Every part sent, until its peer has it. */
  private readonly sending = new Set<Promise<unknown>>();
  /** Why a part could not be sent: the next step fails with it. */
  private sendFailure: unknown;

  constructor(
    private readonly p: CollectiveRank, private readonly others: readonly number[], private readonly states: StoredValue[],
    private readonly c: Collective, private readonly signal: AbortSignal | undefined,
  ) {
    this.nShards = p.shards.reduce((n, s) => n + s.length, 0);
    this.theirs = this.others.flatMap((r) => p.shards[r]!);
  }

  async sumFloats(name: string, params: unknown): Promise<Float64Array> {
    try {
      return await this.round(name, params);
    } catch (err) {
      this.failure = err;
      throw err;
    }
  }

  private async round(name: string, params: unknown): Promise<Float64Array> {
    this.signal?.throwIfAborted();
    if (this.sendFailure !== undefined) throw this.sendFailure;
    const started = performance.now();
    // Every local round ends before this rank does (none is ever cut short), failed or not.
    const ran = await Promise.allSettled(this.states.map(async (s) => (await this.c.runPool('ml/map', { kernel: name, params }, [s])).data));
    const mine = ran.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    const step = this.step++;
    const { group, rank, shards, peers } = this.p;
    // One part a shard, each named by its shard's index. No step waits for its peers'
    // acknowledgements (theirs are often here first): a send that fails ends the wait for
    // their parts, and fails the next step.
    const sending = Promise.all(this.others.flatMap((r) => shards[rank]!.map((shard, i) => this.c.send(peers[r]!, { group, step, rank: shard, data: mine[i]! }))));
    this.sending.add(sending);
    sending.then(() => this.sending.delete(sending), (err: unknown) => {
      this.sending.delete(sending);
      this.sendFailure ??= err;
    });
    const wait = step === 0 ? FIRST_WAIT_MS : Math.max(MIN_WAIT_MS, WAIT_STEPS * this.slowestMs);
    const taking = this.theirs.length > 0 ? this.c.take(group, step, this.theirs, wait) : Promise.resolve(new Map<number, Uint8Array>());
    const theirs = await Promise.race([taking, sending.then(() => taking)]);
    // The first step waits for the peers' tasks to start as well.
    if (step > 0) this.slowestMs = Math.max(this.slowestMs, performance.now() - started);
    const parts: Uint8Array[] = new Array<Uint8Array>(this.nShards);
    shards[rank]!.forEach((shard, i) => (parts[shard] = mine[i]!));
    for (const [shard, data] of theirs) parts[shard] = data;
    return sumFloatTree(parts);
  }

  /** Resolves once every part sent so far is in its peer's mailbox; rejects when one could not be sent. */
  async sent(): Promise<void> {
    await Promise.all(this.sending);
    if (this.sendFailure !== undefined) throw this.sendFailure;
  }

  mapShard<R>(): Promise<R> {
    // What the driver does for a stale state (replay the journal) is the driver's: this rank
    // fails with why its round did.
    return Promise.reject(this.failure instanceof Error ? this.failure : new Error(`${GROW_KERNEL}: a shard's state is not at the block's round`));
  }

  async release(): Promise<void> {}
}
