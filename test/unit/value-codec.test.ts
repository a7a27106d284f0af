// The value codec that task threads use without Apache Arrow loaded (protocol/value-codec.ts),
// and the client's codec (protocol/values.ts) that binds Arrow.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { kubedask } from '../../protocol/generated/kubedask.js';
import { ArrowNotLoadedError, Encoding, decodeValue, encodeValue, isArrowTable, needsArrow, substituteKeys } from '../../protocol/value-codec.js';
import { buildTask } from '../../client/graph-builder.js';
import * as values from '../../protocol/values.js';
import { otherArrowCopy } from '../helpers/arrow-copy.js';

describe('value codec', () => {
  it('has the proto\'s Encoding numbers', () => {
    const generated = Object.fromEntries(Object.entries(kubedask.v1.Encoding).filter(([name]) => Number.isNaN(Number(name))));
    assert.deepEqual({ ...Encoding }, generated);
  });

  it('encodes JSON and bytes without Arrow, and knows a table from any copy of apache-arrow by its brand', () => {
    assert.deepEqual(decodeValue(encodeValue({ a: [1, 'x'] })), { a: [1, 'x'] });
    assert.equal(encodeValue(undefined).encoding, Encoding.ENCODING_JSON);
    const bytes = new Uint8Array([1, 2, 3]);
    assert.equal(encodeValue(bytes).encoding, Encoding.ENCODING_BYTES);
    assert.equal(decodeValue(encodeValue(bytes)), bytes);
    const table = arrow.tableFromArrays({ x: Int32Array.from([1, 2]) });
    assert.ok(isArrowTable(table));
    assert.ok(!isArrowTable({ schema: {}, batches: [] }) && !isArrowTable(null) && !isArrowTable(bytes));
  });

  it('says so when an Arrow value meets a codec without apache-arrow, and round-trips tables with it', () => {
    const table = arrow.tableFromArrays({ x: Float64Array.from([0.5, 1.5]) });
    assert.throws(() => encodeValue(table), { name: 'ValueEncodingError', message: /apache-arrow/ });
    const encoded = encodeValue(table, arrow);
    assert.equal(encoded.encoding, Encoding.ENCODING_ARROW_IPC);
    assert.throws(() => decodeValue(encoded), { name: 'ValueEncodingError', message: /apache-arrow/ });
    assert.deepEqual([...(decodeValue(encoded, arrow) as arrow.Table).getChild('x')!], [0.5, 1.5]);
    assert.deepEqual([...(values.decodeValue(values.encodeValue(table)) as arrow.Table).getChild('x')!], [0.5, 1.5]);
  });
});

describe('value codec: values JSON would change', () => {
  const roundTrip = (v: unknown): unknown => values.decodeValue(values.encodeValue(v));
  const typedArrays = [
    Int8Array.from([-1, 2]), Uint8ClampedArray.from([255, 3]), Int16Array.from([-300]), Uint16Array.from([65535]),
    Int32Array.from([-70000]), Uint32Array.from([4e9]), Float32Array.from([1.5]), Float64Array.from([1.5, Number.NaN]),
    BigInt64Array.from([-(2n ** 62n)]), BigUint64Array.from([2n ** 63n]),
  ];

  it('keeps plain JSON in the untagged form old peers wrote', () => {
    const encoded = encodeValue({ a: [1, 'x', null, true] });
    assert.equal(new TextDecoder().decode(encoded.data), '{"a":[1,"x",null,true]}');
    assert.deepEqual(decodeValue({ encoding: Encoding.ENCODING_JSON, data: new TextEncoder().encode('{"$kd_t":1}') }), { $kd_t: 1 });
  });

  it('round-trips Map, Set, Date, BigInt, undefined, NaN, every typed array, ArrayBuffer and DataView, top-level and nested', () => {
    const cases: unknown[] = [
      new Map<unknown, unknown>([[1, 2], ['k', new Set([1n, 'two'])]]), new Set([1, 2]), new Date(1_700_000_000_123),
      123n, -(2n ** 80n), [undefined, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], { u: undefined },
      ...typedArrays, new Uint8Array([1, 2]).subarray(1).buffer, new DataView(Uint8Array.from([7, 8, 9]).buffer, 1),
      { deep: { list: [new Map([['a', Float64Array.from([0.25])]])], $kd_t: 'mine', __proto__x: 1 } },
    ];
    for (const v of cases) {
      const back = roundTrip(v);
      if (v instanceof DataView) assert.deepEqual([...new Uint8Array((back as DataView).buffer)], [8, 9]);
      else assert.deepEqual(back, v, `round trip of ${Object.prototype.toString.call(v)}`);
      assert.deepEqual(roundTrip({ nested: [v] }), { nested: [v instanceof DataView ? back : v] });
    }
    assert.equal(encodeValue(Float64Array.from([1])).encoding, Encoding.ENCODING_JSON);
    const invalid = roundTrip(new Date(Number.NaN));
    assert.ok(invalid instanceof Date && Number.isNaN(invalid.getTime()));
  });

  it('keeps -0 negative, top-level and nested (JSON would write 0)', () => {
    assert.ok(Object.is(roundTrip(-0), -0));
    const back = roundTrip({ z: [-0, 0] }) as { z: number[] };
    assert.ok(Object.is(back.z[0], -0) && Object.is(back.z[1], 0));
  });

  it('keeps an own "__proto__" key as data through task arguments and dependency substitution', () => {
    const arg = JSON.parse('{"__proto__": {"polluted": true}, "m": 1}') as Record<string, unknown>;
    const task = buildTask((x: unknown) => x, [arg]);
    const sent = decodeValue((task.spec.args[0] as { value: Parameters<typeof decodeValue>[0] }).value) as Record<string, unknown>;
    assert.deepEqual([Object.keys(sent), Object.getPrototypeOf(sent) === Object.prototype], [['__proto__', 'm'], true]);
    const substituted = substituteKeys(JSON.parse('{"__proto__": {"a": 1}, "k": {"$kd_key": "x"}}'), () => 5) as Record<string, unknown>;
    assert.deepEqual(Object.keys(substituted), ['__proto__', 'k']);
    assert.equal(Object.getPrototypeOf(substituted), Object.prototype);
    assert.equal(substituted.k, 5);
  });

  it('keeps an own "__proto__" key as data', () => {
    const v = JSON.parse('{"__proto__": {"polluted": true}, "m": 1}') as Record<string, unknown>;
    const back = roundTrip({ ...v, s: new Set([1]) }) as Record<string, unknown>;
    assert.deepEqual(Object.keys(back), ['__proto__', 'm', 's']);
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
  });

  it('round-trips Arrow tables nested in objects and Maps, and needs apache-arrow to decode them', () => {
    const table = arrow.tableFromArrays({ x: Float64Array.from([0.5, 1.5]), s: ['a', 'b'] });
    const encoded = values.encodeValue({ t: [table] });
    assert.ok(needsArrow(encoded) && !needsArrow(values.encodeValue({ t: [1], m: new Map() })));
    assert.throws(() => decodeValue(encoded), ArrowNotLoadedError);
    const back = decodeValue(encoded, arrow) as { t: arrow.Table[] };
    assert.deepEqual(back.t[0]!.toArray().map((r) => r.toJSON()), [{ x: 0.5, s: 'a' }, { x: 1.5, s: 'b' }]);
    assert.throws(() => encodeValue(new Map([[1, table]])), ArrowNotLoadedError);
  });

  it('sends tables made by another copy of apache-arrow, top-level and nested', async () => {
    const copy = await otherArrowCopy();
    try {
      const { vectorFromArray } = copy.arrow;
      const foreign = new copy.arrow.Table({ x: vectorFromArray([1.5, 2]), s: vectorFromArray(['a', 'b']), l: vectorFromArray([[1], [2, 3]]) });
      assert.ok(!(foreign.schema.fields[0]!.type instanceof arrow.DataType), 'the copy is a separate module');
      const expected = [{ x: 1.5, s: 'a', l: [1] }, { x: 2, s: 'b', l: [2, 3] }];
      const plain = (t: unknown): unknown => JSON.parse(JSON.stringify((t as arrow.Table).toArray()));
      assert.deepEqual(plain(values.decodeValue(values.encodeValue(foreign))), expected);
      assert.deepEqual(plain((values.decodeValue(values.encodeValue({ n: [foreign] })) as { n: unknown[] }).n[0]), expected);
    } finally {
      copy.remove();
    }
  });

  it('refuses functions, symbols, class instances and cycles with one error naming the path and the type', () => {
    class Point { x = 1; }
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { again: cyclic };
    const refusals: [unknown, RegExp][] = [
      [{ f: () => 1 }, /^value\.f is a function/],
      [[1, Symbol('s')], /^value\[1\] is a symbol/],
      [new Map([['k', new Point()]]), /^value<Map value 0> is a Point/],
      [new Set([new WeakMap()]), /^value<Set item 0> is a WeakMap/],
      [cyclic, /^value\.self\.again refers back/],
    ];
    for (const [v, message] of refusals) assert.throws(() => encodeValue(v), { name: 'ValueEncodingError', message });
    assert.throws(() => values.encodeValue(new Point(), 'scattered value'), { name: 'ValueEncodingError', message: /^scattered value is a Point/ });
  });
});
