// A member of a boosting block (collective.ts) in its task thread: it listens for its peers'
// links, tells its worker where, is told every member's, connects, and then runs the driver's
// loop (Booster) over its own shards' states: each round runs here on the states (shared
// memory, in place), goes to every other member over the links, and is summed with theirs in
// shard order. Its worker's main thread is not in the loop: a round costs the kernel, one
// socket write and the wait for the slowest member.
import { MessagePort } from 'node:worker_threads';
import { PeerLinks, type LinkAddress, type LinkTls } from '../../worker/runtime/peer-links.js';
import { sumFloatTree } from '../core/shards.js';
import { runShardTask } from '../core/thread-entry.js';
import { Booster, encodeGrownBlock, GROW_KERNEL, type GrowParams, type RoundShards } from './booster.js';

/** The pool kernel a member runs (worker-kernels.ts). */
export const BLOCK_KERNEL = 'ml/gbdt-block';

export interface BlockParams extends GrowParams {
  /** This member's shards (their indices), in the order of its inputs. */
  shards: number[];
  /** Where to listen, and with what TLS (the worker's). */
  links: { host: string; tls?: LinkTls };
}

/** A member tells its worker where it listens... */
export type FromMember = { port: number; token: string };
/** ...and is told every member's address, whose shards are whose and which member it is; or to stop. */
export type ToMember = { members: LinkAddress[]; owners: number[]; self: number } | { abort: string };

/** How long a worker waits for its peers' hellos (their tasks may start later than its own), and a member for the first round's parts... */
export const FIRST_WAIT_MS = 60_000;
/** ...and for each later round's: this at least, or this many times its slowest round so far. */
const MIN_WAIT_MS = 5_000;
/** How long members wait for one another's links: every member listens before any is told where the others are. */
const LINK_WAIT_MS = 15_000;
/** The later rounds' wait: at least MIN_WAIT_MS, or this many times the slowest round so far. */
const WAIT_STEPS = 50;

/** The pool kernel: `rest` is the member's states (bytes in shared memory), then its port. */
export async function growBlock(params: BlockParams, ...rest: unknown[]): Promise<Uint8Array> {
  const port = rest.pop();
  if (!(port instanceof MessagePort)) throw new TypeError(`${BLOCK_KERNEL} runs only as a member of ${GROW_KERNEL}'s block, not as a task of its own`);
  const states = rest as Uint8Array[];
  let stopped: Error | undefined;
  let told: (m: Extract<ToMember, { members: unknown }>) => void;
  let refused: (err: Error) => void;
  const layout = new Promise<Extract<ToMember, { members: unknown }>>((resolve, reject) => ([told, refused] = [resolve, reject]));
  layout.catch(() => {}); // awaited below, unless listening failed first
  let links: PeerLinks | undefined;
  port.on('message', (m: ToMember) => {
    if ('members' in m) return told(m);
    stopped ??= new Error(`${GROW_KERNEL}: ${m.abort}`);
    refused(stopped);
    links?.abort(stopped);
  });
  try {
    links = await PeerLinks.listen(params.links.host, params.links.tls);
    port.postMessage({ port: links.port, token: links.token } satisfies FromMember);
    const { members, owners, self } = await layout;
    await links.connect(self, members, owners, LINK_WAIT_MS);
    const rounds = new MemberRounds(params.shards, owners, (i, kernel, p) => runShardTask({ kernel, params: p }, states[i]!) as Uint8Array, links, () => stopped);
    const booster = Booster.resume(rounds, params.snapshot);
    return encodeGrownBlock(booster.grownBlock(await booster.grownHere(params.iterations)), self === 0);
  } catch (err) {
    // The other members stop waiting for this one's parts.
    links?.fail((err as Error).message || String(err));
    throw err;
  } finally {
    links?.close();
    port.close();
  }
}

/** A member's rounds: its own shards' here, everyone's summed after they cross the links. */
export class MemberRounds implements RoundShards {
  readonly nShards: number;
  private step = 0;
  private slowestMs = 0;
  /** The other members' shards: whose parts each step waits for. */
  private readonly theirs: number[];
  /** Why the last round failed: what a stale state's fallback (mapShard) reports. */
  private failure: unknown;

  constructor(
    private readonly mine: readonly number[], owners: readonly number[],
    /** Runs shard kernel `name` on this member's i-th state. */
    private readonly runHere: (i: number, name: string, params: unknown) => Uint8Array,
    private readonly links: Pick<PeerLinks, 'send' | 'take'>, private readonly stopped: () => Error | undefined,
  ) {
    this.nShards = owners.length;
    const own = new Set(mine);
    this.theirs = owners.map((_, shard) => shard).filter((shard) => !own.has(shard));
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
    const stopped = this.stopped();
    if (stopped) throw stopped;
    const started = performance.now();
    const step = this.step++;
    const parts: Uint8Array[] = new Array<Uint8Array>(this.nShards);
    this.mine.forEach((shard, i) => {
      parts[shard] = this.runHere(i, name, params);
      this.links.send(step, shard, parts[shard]);
    });
    if (this.theirs.length > 0) {
      const wait = step === 0 ? FIRST_WAIT_MS : Math.max(MIN_WAIT_MS, WAIT_STEPS * this.slowestMs);
      for (const [shard, data] of await this.links.take(step, this.theirs, wait)) parts[shard] = data;
    }
    if (step > 0) this.slowestMs = Math.max(this.slowestMs, performance.now() - started);
    return sumFloatTree(parts);
  }

  mapShard<R>(): Promise<R> {
    // What the driver does for a stale state (replay the journal) is the driver's: this member
    // fails with why its round did.
    return Promise.reject(this.failure instanceof Error ? this.failure : new Error(`${GROW_KERNEL}: a shard's state is not at the block's round`));
  }

  async release(): Promise<void> {}
}
