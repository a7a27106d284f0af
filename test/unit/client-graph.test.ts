// Client-side graph building, with no cluster: futures become dependencies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromArrays } from 'apache-arrow';
import { Future, type FutureOwner } from '../../client/future.js';
import { buildTask } from '../../client/graph-builder.js';
import { argsWithKeyRefs, collectGraph, delayed } from '../../client/delayed.js';
import { functionDef } from '../../client/task-functions.js';
import { KeyTracker } from '../../client/key-tracker.js';
import { decodeValue, Encoding } from '../../protocol/values.js';

const owner: FutureOwner = {
  statusOf: () => 'pending', waitFor: async () => undefined, resultOf: async () => undefined, retain: () => undefined, release: () => undefined,
};

describe('graph builder', () => {
  it('turns top-level and nested futures into dependencies', () => {
    const a = new Future('a-1', owner);
    const b = new Future('b-1', owner);
    const { spec } = buildTask((x: number, o: { y: number[] }) => x + o.y[0]!, [a, { y: [b], z: 3 }]);
    assert.deepEqual(spec.dependencies?.sort(), ['a-1', 'b-1']);
    assert.equal(spec.args?.[0]?.key, 'a-1');
    assert.deepEqual(decodeValue({ encoding: Encoding.ENCODING_JSON, data: spec.args![1]!.value!.data! }), { y: [{ $kd_key: 'b-1' }], z: 3 });
  });

  it('encodes top-level Arrow tables and bytes raw, nested ones tagged, and refuses class instances naming the argument', () => {
    const t = tableFromArrays({ x: Int32Array.from([1, 2]) });
    const { spec } = buildTask((tbl: unknown) => tbl, [t, new Uint8Array([1, 2, 3])]);
    assert.equal(spec.args?.[0]?.value?.encoding, Encoding.ENCODING_ARROW_IPC);
    assert.equal(spec.args?.[1]?.value?.encoding, Encoding.ENCODING_BYTES);
    const nested = buildTask((x: unknown) => x, [{ nested: t }]).spec.args?.[0]?.value;
    assert.equal(nested?.encoding, Encoding.ENCODING_JSON);
    assert.equal(((decodeValue({ encoding: nested!.encoding!, data: nested!.data! }) as { nested: typeof t }).nested).getChild('x')!.get(1), 2);
    class Point { x = 1; }
    assert.throws(() => buildTask(function f(x: unknown) { return x; }, [1, { p: [new Point()] }]), { name: 'ValueEncodingError', message: /^argument 1 of f\.p\[0\] is a Point/ });
  });

  it('gives one function one id and refuses native functions', () => {
    const f = (x: number) => x + 1;
    assert.equal(functionDef(f).id, functionDef(f).id);
    assert.notEqual(functionDef(f).id, functionDef((x: number) => x + 2).id);
    assert.throws(() => functionDef(Math.max), /native or bound/);
  });

  it('orders a delayed graph dependencies first, each node once', () => {
    const inc = delayed((x: number) => x + 1);
    const x = inc(1);
    const y = inc(x);
    const z = inc(x);
    const order = collectGraph([y, z]).map((d) => d.key);
    assert.equal(order.length, 3);
    assert.ok(order.indexOf(x.key) < order.indexOf(y.key));
    assert.ok(order.indexOf(x.key) < order.indexOf(z.key));
  });

  it('finds Delayed nodes nested in arrays and plain objects, and makes them dependencies', () => {
    const inc = delayed((x: number) => x + 1);
    const a = inc(1);
    const b = inc(2);
    const f = new Future<number>('f-1', owner);
    const total = delayed((o: { xs: number[]; more: { y: number } }) => o.xs.length + o.more.y)({ xs: [a, f, 3], more: { y: b } });
    const order = collectGraph([total]).map((d) => d.key);
    assert.deepEqual(order.slice(-1), [total.key]);
    assert.deepEqual(order.slice(0, 2).sort(), [a.key, b.key].sort());
    const { spec } = buildTask(total.fn, argsWithKeyRefs(total), { key: total.key });
    assert.deepEqual(spec.dependencies.sort(), [a.key, b.key, 'f-1'].sort());
    assert.deepEqual(decodeValue({ encoding: Encoding.ENCODING_JSON, data: spec.args[0]!.value!.data }),
      { xs: [{ $kd_key: a.key }, { $kd_key: 'f-1' }, 3], more: { y: { $kd_key: b.key } } });
  });
});

describe('Future', () => {
  it('is awaitable: await gives its result, or its error', async () => {
    const values: Record<string, unknown> = { good: 5 };
    const settling: FutureOwner = { ...owner, resultOf: async (key) => { if (key in values) return values[key]; throw new Error(`${key} failed`); } };
    assert.equal(await new Future<number>('good', settling), 5);
    await assert.rejects(async () => { await new Future('bad', settling); }, /bad failed/);
  });
});

describe('key tracker', () => {
  it('settles waiters and counts references', async () => {
    const keys = new KeyTracker();
    assert.equal(keys.retain('k'), true);
    assert.equal(keys.retain('k'), false);
    const waiting = keys.wait('k');
    keys.finished('k');
    await waiting;
    assert.equal(keys.release('k'), false);
    assert.equal(keys.release('k'), true);
    assert.equal(keys.status('k'), 'lost');
  });

  it('rejects waiters with the remote error', async () => {
    const keys = new KeyTracker();
    keys.retain('e');
    const waiting = keys.wait('e');
    keys.erred('e', { name: 'TypeError', message: 'nope', stack: 'TypeError: nope\n    at f', worker: 'w1' });
    await assert.rejects(waiting, /nope/);
  });
});
