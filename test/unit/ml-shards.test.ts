// Shards without a cluster: the shared-memory layout, a partition built into a shard as the
// worker does it, and a pool kernel reading the worker's shard in a task thread without a copy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pl from 'nodejs-polars';
import { allocShard, shardBytes, shardFromBytes } from '../../ml/core/shared-shard.js';
import { buildShard, indexLabels } from '../../ml/core/build-shard.js';
import { kernels, poolKernels } from '../../ml/core/worker-kernels.js';
import { LocalShards } from '../../ml/core/shards.js';
import { DataStore, type NativeValue } from '../../worker/runtime/data-store.js';
import { TaskPool } from '../../worker/runtime/task-pool.js';
import { decodeValue, encodeValue } from '../../protocol/value-codec.js';
import { MlDataError } from '../../ml/errors.js';
import { kernelContext } from '../helpers/kernel-context.js';
import type { Shard } from '../../ml/core/matrix.js';

const frame = () => pl.DataFrame([
  pl.Series('a', [1, null, 3], pl.Int32), pl.Series('b', [0.5, 1.5, null], pl.Float64),
  pl.Series('flag', [true, false, true], pl.Bool), pl.Series('label', [2, 7, 2], pl.Int64),
]);

describe('shards in shared memory', () => {
  it('lays a shard out in one SharedArrayBuffer that reads back from its bytes, copied or in place', () => {
    const shard = allocShard(2, 3, true);
    shard.x.data.set([1, 2, 3, 4, 5, 6]);
    shard.y!.set([0, 1]);
    assert.ok(shard.x.data.buffer instanceof SharedArrayBuffer);
    const copy = new Uint8Array(shardBytes(shard)); // what a peer or a spill file gets
    const back = shardFromBytes(copy);
    assert.deepEqual([back.x.rows, back.x.cols, [...back.x.data], [...back.y!]], [2, 3, [1, 2, 3, 4, 5, 6], [0, 1]]);
    assert.ok(back.x.data.buffer instanceof SharedArrayBuffer, 'copied into shared memory');
    const inPlace = shardFromBytes(shardBytes(shard));
    assert.equal(inPlace.x.data.buffer, shard.x.data.buffer, 'a shared view is read in place');
    assert.throws(() => shardFromBytes(new Uint8Array(40)), /not a shard/);
  });

  it('builds a partition into a row-major Float64 matrix, nulls NaN, y apart, labels as class indices', () => {
    const shard = buildShard({ partition: 0, features: ['a', 'b', 'flag'], target: 'label' }, [{ encoding: 3, native: frame() }], 'k');
    assert.deepEqual([...shard.x.data], [1, 0.5, 1, NaN, 1.5, 0, 3, NaN, 1]);
    assert.deepEqual([...shard.y!], [2, 7, 2]);
    const indexed = indexLabels(shard, [2, 7], 0);
    assert.deepEqual([[...indexed.x.data], [...indexed.y!]], [[...shard.x.data], [0, 1, 0]]);
    assert.notEqual(indexed.x.data.buffer, shard.x.data.buffer, 'a shard of its own');
    const raw = buildShard({ partition: 0, features: ['a'], target: 'label', separateY: true }, [{ encoding: 3, native: frame() }, { encoding: 3, native: frame().select('label') }], 'k');
    assert.deepEqual([...raw.y!], [2, 7, 2]);
  });

  it('refuses y with other row counts than X, nulls in y, or a label outside the classes, naming the partition', () => {
    const x = { encoding: 3, native: frame() };
    assert.throws(() => buildShard({ partition: 4, features: ['a'], target: 'label', separateY: true }, [x, { encoding: 3, native: frame().head(2) }], 'k'),
      (e: Error) => e instanceof MlDataError && /y has 2 rows in partition 4 where X has 3/.test(e.message));
    assert.throws(() => buildShard({ partition: 1, features: ['a'], target: 'b' }, [x], 'k'), /y \("b"\) has a null or NaN in partition 1, row 2/);
    const labelled = buildShard({ partition: 3, features: ['a'], target: 'label' }, [x], 'k');
    assert.throws(() => indexLabels(labelled, [2, 3], 3), /label 7 in partition 3, row 1, not among the classes 2, 3/);
  });

  it('a task thread gets the worker\'s shard memory, not a copy: its write is seen by the worker', async () => {
    const store = new DataStore({ memoryLimit: 0 });
    const pool = new TaskPool({ nthreads: 1 });
    try {
      const built = await kernels['ml/shard']!({ partition: 0, features: ['a', 'b'] }, [{ encoding: 3, native: frame() }], kernelContext('s')) as NativeValue;
      store.put('s', built);
      assert.equal(store.memoryUsed, shardBytes(built.native as Shard).byteLength, 'sized by its shared buffer');
      const input = poolKernels['ml/map']!.threadInput((await store.getStored('s'))!);
      const writer = { id: 'test:write-first', name: 'writeFirstValue', builtinUrl: new URL('../helpers/shard-writer.js', import.meta.url).href, export: 'writeFirstValue' };
      const out = await pool.run({ key: 't', fn: writer, args: [encodeValue({ value: 42 }), { key: 's' }], deps: [['s', input.encoding, input.data]] });
      assert.ok(out.ok, JSON.stringify(out));
      assert.deepEqual(decodeValue(out.value), { shared: true });
      assert.equal((built.native as Shard).x.data[0], 42, 'the thread wrote into the worker\'s buffer');
      // The product path: ml/map's thread entry runs a registered kernel on the shared shard.
      const mapFn = { id: 'builtin:ml/map', name: 'ml/map', builtin: 'ml/map', builtinUrl: poolKernels['ml/map']!.moduleUrl, export: poolKernels['ml/map']!.exportName };
      const probe = await pool.run({ key: 'p', fn: mapFn, args: [encodeValue({ kernel: 'data/probe', params: {} }), { key: 's' }], deps: [['s', input.encoding, input.data]] });
      assert.ok(probe.ok, JSON.stringify(probe));
      assert.deepEqual(decodeValue(probe.value), { shared: true, bufferBytes: input.data.byteLength, sum: NaN });
      // Encoded for a peer or a spill, the shard reads back equal, and goes to a thread as shared memory again.
      assert.deepEqual(shardFromBytes(built.encode()), built.native);
      const fetched = poolKernels['ml/map']!.threadInput({ encoding: built.encoding, data: built.encode() });
      assert.ok(fetched.data.buffer instanceof SharedArrayBuffer);
      assert.deepEqual(shardFromBytes(fetched.data), built.native);
      assert.throws(() => poolKernels['ml/map']!.threadInput({ encoding: 3, native: frame() }), /ml: a kernel.s input is not a shard/);
    } finally {
      await pool.close();
      await store.close();
    }
  });

  it('LocalShards sums the data kernels in shard order', async () => {
    const a = allocShard(2, 1, false);
    a.x.data.set([1, 2]);
    const b = allocShard(1, 1, false);
    b.x.data.set([NaN]);
    const shards = new LocalShards([a, b]);
    assert.equal(await shards.sum('data/rows', {}), 3);
    assert.deepEqual(await shards.sum('preprocess/moments', {}), { count: [2], sum: [3] });
    assert.throws(() => buildShard({ partition: 0, features: ['a'] }, [{ encoding: 3, native: 'nope' }], 'k'), /not a DataFrame partition/);
  });
});
