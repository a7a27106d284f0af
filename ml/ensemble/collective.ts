// A block of a boosting fit's iterations grown by the workers among themselves (booster.ts):
// one task on each worker that holds shards. Its members are task threads (one per idle
// thread, at least one, each with a run of its shards), and each member runs the driver's own loop
// from the driver's snapshot (block-thread.ts). The members talk over links of their own
// (peer-links.ts); this side, on the worker's main thread, only introduces them: each member
// listens, the workers swap their members' addresses over Exchange (step 0 of the group), and
// every member is told the whole list. After each round each member sends its shards'
// histograms to every other member and adds up all of them in shard order, as the driver
// would, so every member grows the same trees, to the bit; only histograms travel.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Collective, Kernel } from '../../worker/runtime/builtins.js';
import { splitAddress, type LinkAddress } from '../../worker/runtime/peer-links.js';
import { joinHostPort } from '../../worker/runtime/peer-server.js';
import { decodeValue, type EncodedValue } from '../../protocol/value-codec.js';
import type { CollectiveRank } from '../core/shards.js';
import { DIGEST_BYTES, GROW_KERNEL, grownBlockDigest, type GrowParams } from './booster.js';
import { BLOCK_KERNEL, FIRST_WAIT_MS, type BlockParams, type FromMember, type ToMember } from './block-thread.js';

/** The longest a timer can wait (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a worker tells the others of its members: each one's address, token and shards. */
interface Hello { members: Array<LinkAddress & { shards: number[] }> }

export const growTogether: Kernel = async (params, inputs, context) => {
  const p = params as GrowParams & CollectiveRank;
  const c = context.collective;
  if (!c) throw new Error(`${GROW_KERNEL} runs only as a built-in task on a worker`);
  const others = p.peers.map((_, r) => r).filter((r) => r !== p.rank);
  const channels: MessageChannel[] = [];
  let finished = false;
  const runs: Array<Promise<EncodedValue>> = [];
  const abort = (why: string) => channels.forEach((ch) => ch.port1.postMessage({ abort: why } satisfies ToMember));
  const onAbort = () => abort(`the task was interrupted: ${String(context.signal?.reason)}`);
  try {
    // A peer that gave up while this task waited to start: nothing to do.
    const ended = c.ended(p.group);
    if (ended) throw new Error(`${GROW_KERNEL}: ${ended}`);
    if (c.address !== p.peers[p.rank]) throw new Error(`${GROW_KERNEL}: rank ${p.rank} was to run on ${p.peers[p.rank]}, not on ${c.address} (its shards moved)`);
    const mine = p.shards[p.rank]!;
    if (inputs.length !== mine.length || inputs.length === 0) throw new Error(`internal: ${GROW_KERNEL} rank ${p.rank} got ${inputs.length} shards, not ${mine.length}`);
    if (!inputs.every((v) => 'native' in v)) throw new Error(`${GROW_KERNEL}: a shard's state is not in this worker's memory (spilled or copied)`);
    // As many members as there are idle threads (at least one): a member waits for its peers
    // with its thread held, so none should wait for a thread behind another task.
    const runsOf = memberRuns(inputs.length, Math.max(1, c.idleThreads()));
    for (const [from, to] of runsOf) {
      const ch = new MessageChannel();
      channels.push(ch);
      const blockParams: BlockParams = { snapshot: p.snapshot, iterations: p.iterations, shards: mine.slice(from, to), links: c.links };
      runs.push(c.runPool(BLOCK_KERNEL, blockParams, inputs.slice(from, to), { port: ch.port2, whole: true }));
    }
    // Each run is awaited below; a failure before then is that wait's.
    for (const r of runs) r.catch(() => {});
    context.signal?.addEventListener('abort', onAbort);
    const listening = await untilPeerFails(c, p, others, Promise.all(channels.map((ch, i) => firstMessage(ch.port1, runs[i]!))));
    const { host } = splitAddress(c.address);
    const hello: Hello = { members: listening.map((l, i) => ({ address: joinHostPort(host, l.port), token: l.token, shards: mine.slice(...runsOf[i]!) })) };
    const theirs = await swapHellos(c, p, others, hello);
    const members = p.peers.flatMap((_, r) => (r === p.rank ? hello : theirs.get(r)!).members);
    const owners: number[] = [];
    members.forEach((m, i) => m.shards.forEach((s) => (owners[s] = i)));
    const first = p.peers.slice(0, p.rank).reduce((n, _, r) => n + theirs.get(r)!.members.length, 0);
    channels.forEach((ch, i) => ch.port1.postMessage({ members: members.map(({ address, token }) => ({ address, token })), owners, self: first + i } satisfies ToMember));
    // No part comes at step 1: this take ends when a peer says it failed (a member of a worker
    // that lost one of its own may be waiting on links that will never connect), or at close.
    if (others.length > 0) c.take(p.group, WATCH_STEP, others, MAX_TIMER_MS).catch((err: Error) => !finished && abort(err.message));
    const encoded = await Promise.all(runs);
    // Each member's bytes (encodeGrownBlock): a digest, and the block from the one that has it.
    const results = encoded.map((v) => {
      const bytes = decodeValue(v);
      if (!(bytes instanceof Uint8Array)) throw new Error(`internal: ${BLOCK_KERNEL} returned ${typeof bytes}, not bytes`);
      return bytes;
    });
    // Every member grew the block from the same sums: a difference is a bug.
    const digest = grownBlockDigest(results[0]!);
    if (results.some((r) => grownBlockDigest(r) !== digest)) throw new Error(`internal: ${GROW_KERNEL}: this worker's members grew different trees`);
    // As the member encoded it: the one with the block, if any.
    return encoded[Math.max(0, results.findIndex((r) => r.byteLength > DIGEST_BYTES))]!;
  } catch (err) {
    // The members stop (they update the shards' states in place: none may still run when this
    // task ends), and the peers stop waiting for this rank.
    const failed = (err as Error).message || String(err);
    abort(failed);
    await Promise.allSettled(others.map((r) => c.send(p.peers[r]!, { group: p.group, step: 0, rank: p.rank, failed })));
    await Promise.allSettled(runs);
    throw err;
  } finally {
    finished = true;
    context.signal?.removeEventListener('abort', onAbort);
    for (const ch of channels) ch.port1.close();
    c.close(p.group);
  }
};

/** Each member's run of the shards [from, to): one member a thread, at most one a shard. */
export function memberRuns(shards: number, threads: number): Array<[number, number]> {
  const k = Math.max(1, Math.min(shards, threads));
  return Array.from({ length: k }, (_, i) => [Math.floor((i * shards) / k), Math.floor(((i + 1) * shards) / k)]);
}

/** The member's first message (where it listens), or its run's failure. */
function firstMessage(port: MessagePort, run: Promise<unknown>): Promise<{ port: number; token: string }> {
  return new Promise((resolve, reject) => {
    port.once('message', (m: FromMember) => resolve(m));
    run.then(() => reject(new Error(`internal: ${BLOCK_KERNEL} ended before it listened`)), reject);
  });
}

/** No part is ever sent at this step: a take of it ends only when a peer says it failed (or at close). */
const WATCH_STEP = 1;

/** `waiting`, or a peer's failure (its notice in this worker's mailbox), whichever comes first. */
async function untilPeerFails<T>(c: Collective, p: CollectiveRank, others: number[], waiting: Promise<T>): Promise<T> {
  if (others.length === 0) return waiting;
  const stop = new AbortController();
  const failed = c.take(p.group, WATCH_STEP, others, MAX_TIMER_MS, stop.signal);
  failed.catch(() => {}); // its end after `waiting` is nobody's
  try {
    return await Promise.race([waiting, failed.then(() => { throw new Error(`internal: a part at step ${WATCH_STEP}`); })]);
  } finally {
    stop.abort();
  }
}

/** Sends this rank's hello to the others and takes theirs. */
async function swapHellos(c: Collective, p: CollectiveRank, others: number[], hello: Hello): Promise<Map<number, Hello>> {
  const data = new TextEncoder().encode(JSON.stringify(hello));
  const sent = Promise.all(others.map((r) => c.send(p.peers[r]!, { group: p.group, step: 0, rank: p.rank, data })));
  const taken = c.take(p.group, 0, others, FIRST_WAIT_MS);
  const [, parts] = await Promise.all([sent, taken]);
  return new Map([...parts].map(([r, bytes]) => [r, JSON.parse(new TextDecoder().decode(bytes)) as Hello]));
}
