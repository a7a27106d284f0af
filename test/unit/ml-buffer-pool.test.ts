// The buffers a finished fit gives back (ml/recycle) and the next shards reuse: the same buffer,
// zeroed, only for a request of its kind and about its size, within the pool's bound and idle
// time; the shard given back reads as no shard afterwards. And the boosting driver gives its
// states back only when no round of its own may still be writing into them.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import pl from 'nodejs-polars';
import { allocShard, recycleShard, shardBytes, shardFromBytes } from '../../ml/core/shared-shard.js';
import { clearPool, giveBack, IDLE_MS, pooledBytes, reuseBuffer, setPoolLimit } from '../../ml/core/buffer-pool.js';
import { kernels } from '../../ml/core/worker-kernels.js';
import { memoryPressure } from '../../worker/runtime/memory-pressure.js';
import { LocalShards, type ReleaseOptions, type Shards } from '../../ml/core/shards.js';
import { Booster, type BoostParams } from '../../ml/ensemble/booster.js';
import { initState, view } from '../../ml/ensemble/state.js';
import type { NativeValue } from '../../worker/runtime/data-store.js';
import type { Shard } from '../../ml/core/matrix.js';
import { kernelContext } from '../helpers/kernel-context.js';

afterEach(() => {
  clearPool();
  setPoolLimit(0);
});

/** A shard of `rows` x 2 with y, every value 7. */
function sevens(rows: number, wasm = false): Shard {
  const s = allocShard(rows, 2, true, { wasm });
  s.x.data.fill(7);
  s.y!.fill(7);
  return s;
}

describe('buffers given back for reuse', () => {
  it('the next shard of about the size gets the same buffer, zeroed; the one given back reads as no shard', () => {
    const first = sevens(1000);
    const bytes = new Uint8Array(shardBytes(first).buffer, 0, shardBytes(first).byteLength);
    assert.equal(recycleShard(first), true);
    assert.throws(() => shardFromBytes(bytes), /not a shard: bad header/);
    // 900 rows: 0.9 of the buffer, within what it serves.
    const next = allocShard(900, 2, true);
    assert.equal(next.x.data.buffer, first.x.data.buffer, 'the same buffer');
    assert.deepEqual([next.x.rows, next.x.cols], [900, 2]);
    assert.ok(next.x.data.every((v) => v === 0) && next.y!.every((v) => v === 0), 'zeroed');
    const tail = new Float64Array(next.x.data.buffer, shardBytes(next).byteLength);
    assert.ok(tail.length > 0 && tail.every((v) => v === 0), 'and the rest of the buffer, past the new shard');
    assert.equal(pooledBytes(), 0, 'taken out of the pool');
    assert.notEqual(allocShard(900, 2, true).x.data.buffer, first.x.data.buffer, 'a buffer serves one shard at a time');
  });

  it('only a request of its kind and about its size: a WebAssembly memory for a state, a plain buffer for a shard', () => {
    const plain = sevens(10_000); // 240 KB
    const wasm = sevens(10_000, true); // 4 pages of 64 KiB
    assert.ok(wasm.memory, 'made in a WebAssembly.Memory');
    assert.ok(recycleShard(plain) && recycleShard(wasm));
    assert.notEqual(allocShard(12_000, 2, true).x.data.buffer, plain.x.data.buffer, 'too small');
    assert.notEqual(allocShard(5_000, 2, true).x.data.buffer, plain.x.data.buffer, 'too big: most of it would lie idle');
    const state = allocShard(9_900, 2, true, { wasm: true });
    assert.equal(state.memory, wasm.memory, 'the WebAssembly memory, with its buffer');
    assert.equal(state.x.data.buffer, wasm.memory!.buffer);
    assert.equal(allocShard(9_900, 2, true).x.data.buffer, plain.x.data.buffer);
    assert.equal(pooledBytes(), 0);
  });

  it('within the bound (a quarter of the worker\'s memory limit) and the idle time, and not when the worker is short of memory', () => {
    setPoolLimit(4 * 100_000);
    const small = sevens(2000); // 48 KB
    const big = sevens(6000); // 144 KB: past what is left of 100 KB
    assert.equal(recycleShard(small), true);
    assert.equal(recycleShard(big), false);
    assert.equal(big.x.data[0], 7, 'a shard not taken keeps its header and values');
    assert.equal(shardFromBytes(new Uint8Array(shardBytes(big))).x.rows, 6000);
    // A buffer idle for IDLE_MS is dropped.
    clearPool();
    const buffer = new SharedArrayBuffer(4096);
    assert.equal(giveBack({ buffer }, 1_000), true);
    assert.equal(reuseBuffer(4096, false, 1_000 + IDLE_MS - 1)?.buffer, buffer);
    assert.equal(giveBack({ buffer }, 1_000), true);
    assert.equal(reuseBuffer(4096, false, 1_000 + IDLE_MS), undefined);
    assert.equal(pooledBytes(), 0);
    // All go when the worker's data store has to spill.
    assert.equal(giveBack({ buffer }), true);
    memoryPressure();
    assert.equal(pooledBytes(), 0);
  });

  it('not a view into another buffer, nor a shard already given back', () => {
    const whole = sevens(100);
    const bytes = shardBytes(whole);
    const offset = new Uint8Array(new SharedArrayBuffer(bytes.byteLength + 8));
    offset.set(bytes, 8);
    assert.equal(recycleShard(shardFromBytes(offset.subarray(8))), false, 'its header is not at the buffer\'s start');
    assert.equal(recycleShard(whole), true);
    assert.equal(recycleShard(whole), false, 'twice');
    assert.equal(pooledBytes(), bytes.buffer.byteLength);
    // Its buffer holds another shard now: the old object (still in a store until released) cannot give it back again.
    const next = allocShard(100, 2, true);
    assert.equal(next.x.data.buffer, whole.x.data.buffer);
    assert.equal(recycleShard(whole), false, 'the buffer is the new shard\'s');
    assert.equal(shardFromBytes(shardBytes(next)).x.rows, 100, 'its header intact');
    assert.equal(pooledBytes(), 0);
  });

  it('ml/recycle gives a worker\'s shard back (as the next ml/shard\'s buffer); not bytes (a spilled or fetched copy)', async () => {
    const frame = pl.DataFrame([pl.Series('a', [1, 2, 3], pl.Float64), pl.Series('y', [0, 1, 0], pl.Float64)]);
    const build = () => kernels['ml/shard']!({ partition: 0, features: ['a'], target: 'y' }, [{ encoding: 3, native: frame }], kernelContext('s')) as Promise<NativeValue>;
    const built = await build();
    const copy = { encoding: built.encoding, data: built.encode() };
    const refused = await kernels['ml/recycle']!({}, [copy], kernelContext('r')) as { data: Uint8Array };
    assert.deepEqual([...refused.data], [0]);
    const given = await kernels['ml/recycle']!({}, [built], { ...kernelContext('r'), memoryLimit: 2 ** 30 }) as { data: Uint8Array };
    assert.deepEqual([...given.data], [1]);
    const again = (await build()).native as Shard;
    assert.equal(again.x.data.buffer, (built.native as Shard).x.data.buffer);
    assert.deepEqual([...again.x.data, ...again.y!], [1, 2, 3, 0, 1, 0]);
  });
});

/** Shards that record how they were released. */
class Recording extends LocalShards {
  releases: ReleaseOptions[] = [];
  failRounds = false;
  override async release(options: ReleaseOptions = {}): Promise<void> {
    this.releases.push(options);
  }
  override derive(name: string, params: unknown): Shards {
    const derived = new Recording(shardsOf(super.derive(name, params)));
    derived.failRounds = this.failRounds;
    this.derived.push(derived);
    return derived;
  }
  override async sumFloats(name: string, params: unknown): Promise<Float64Array> {
    if (this.failRounds) throw new Error('a worker was lost');
    return super.sumFloats(name, params);
  }
  derived: Recording[] = [];
}

/** The shards a LocalShards holds (its constructor's). */
const shardsOf = (s: Shards): Shard[] => (s as unknown as { shards: Shard[] }).shards;

const PARAMS: BoostParams = {
  learningRate: 0.1, maxLeafNodes: 4, maxDepth: null, maxBins: 16, minSamplesLeaf: 2, l2Regularization: 0, minHessianToSplit: 1e-3,
  categorical: [false], validationFraction: 0, nIterNoChange: 10, tol: 1e-7, seed: 0,
};

function data(): Shard[] {
  return [0, 1].map((p) => {
    const s = allocShard(40, 1, true);
    for (let r = 0; r < 40; r++) {
      s.x.data[r] = r + p;
      s.y![r] = r % 3 === 0 ? 1 : 0;
    }
    return s;
  });
}

describe('a boosting fit gives its states back', () => {
  it('after its rounds, when none failed and none runs', async () => {
    const shards = new Recording(data());
    const booster = await Booster.start(shards, 'binary', 2, ['x'], PARAMS, 'test');
    await booster.iterate(3);
    const [states] = shards.derived;
    assert.ok(states && view(shardsOf(states)[0]!).meta[1]! > 0, 'rounds ran on the states');
    assert.equal(await booster.release(), true);
    assert.deepEqual(states.releases, [{ reuse: true }]);
  });

  it('not after a round failed, nor while one runs', async () => {
    const failing = new Recording(data());
    failing.failRounds = true;
    const failed = await Booster.start(failing, 'binary', 2, ['x'], PARAMS, 'test');
    await assert.rejects(failed.iterate(3), /a worker was lost/);
    assert.equal(await failed.release(), false);
    assert.deepEqual(failing.derived[0]!.releases, [{ reuse: false }]);

    const shards = new Recording(data());
    const booster = await Booster.start(shards, 'binary', 2, ['x'], PARAMS, 'test');
    const running = booster.iterate(3);
    assert.equal(await booster.release(), false, 'a round is running');
    await running;
    assert.deepEqual(shards.derived[0]!.releases, [{ reuse: false }]);
  });

  it('initState in a reused WebAssembly memory: the same state as in a fresh one', () => {
    // Rows enough for the state to fill most of its 64 KiB pages (one much bigger is not reused).
    const shard = allocShard(20_000, 1, true);
    shard.x.data.forEach((_, r) => { shard.x.data[r] = r % 37; shard.y![r] = r % 2; });
    const init = { bins: [{ kind: 'numeric' as const, edges: [5, 10, 20, 30] }], loss: 'binary' as const, outputs: 1, baseline: [0.3], validationFraction: 0.2, seed: 1, maxNodes: 20 };
    const fresh = initState(init, shard, 0);
    const bytes = [...new Uint8Array(shardBytes(fresh))];
    const dirty = allocShard(1, fresh.x.cols, false, { wasm: true });
    new Uint8Array(dirty.x.data.buffer, dirty.x.data.byteOffset).fill(0xff);
    assert.ok(recycleShard(dirty));
    const reused = initState(init, shard, 0);
    assert.equal(reused.memory, dirty.memory);
    assert.deepEqual([...new Uint8Array(shardBytes(reused))], bytes);
  });
});
